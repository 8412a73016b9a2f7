import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { dashboardDirectory, dashboardHandler, dashboardPolicy } from '../../src/api/dashboard.ts'

const serve = dashboardHandler({ prefix: '/whisperer' })
const get = (path: string, init?: RequestInit) => serve(new Request(`http://whisperer.test${path}`, init))

test('the page and its files are served with their types, a strict policy and revalidation', async () => {
  const page = (await get('/whisperer/dashboard/'))!
  expect(page.status).toBe(200)
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
  expect(page.headers.get('cache-control')).toBe('no-cache')
  expect(page.headers.get('x-content-type-options')).toBe('nosniff')
  expect(page.headers.get('content-security-policy')).toBe(dashboardPolicy)
  expect(dashboardPolicy).toContain("script-src 'self'")
  expect(dashboardPolicy).not.toContain('unsafe-inline')
  expect(await page.text()).toBe(await readFile(join(dashboardDirectory, 'index.html'), 'utf8'))

  const types = {
    'app.js': 'text/javascript; charset=utf-8',
    'pages/webhook.js': 'text/javascript; charset=utf-8',
    'style.css': 'text/css; charset=utf-8',
    'favicon.svg': 'image/svg+xml',
  }
  for (const [file, type] of Object.entries(types)) {
    const response = (await get(`/whisperer/dashboard/${file}`))!
    expect([file, response.status, response.headers.get('content-type')]).toEqual([file, 200, type])
  }

  // Unchanged since the last load: 304, without the body.
  const etag = page.headers.get('etag')!
  expect(etag).toMatch(/^"[\w-]{22}"$/)
  const again = (await get('/whisperer/dashboard/index.html', { headers: { 'if-none-match': etag } }))!
  expect(again.status).toBe(304)
  expect(await again.text()).toBe('')
  const head = (await get('/whisperer/dashboard/app.js', { method: 'HEAD' }))!
  expect([head.status, await head.text()]).toEqual([200, ''])
})

test('the page runs under its policy: no inline script or style, and every module it imports exists', async () => {
  const html = await readFile(join(dashboardDirectory, 'index.html'), 'utf8')
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
  expect(scripts.length).toBeGreaterThan(0)
  for (const [, attributes, body] of scripts) {
    expect(attributes).toMatch(/\bsrc="[\w./-]+"/)
    expect(body!.trim()).toBe('')
  }
  expect(html).not.toMatch(/\sstyle=|\son\w+=|<style/i)
  expect(html).not.toMatch(/https?:\/\//)

  // Walk the imports from app.js: each is one of the dashboard's own files, served as JavaScript.
  const seen = new Set<string>()
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return
    seen.add(file)
    const response = (await get(`/whisperer/dashboard/${file}`))!
    expect([file, response.status]).toEqual([file, 200])
    const source = await response.text()
    expect(source, file).not.toMatch(/\bfetch\(\s*['"`]https?:|import\(\s*['"`]https?:/)
    for (const [, target] of source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) {
      expect(target, `${file} imports ${target}`).toMatch(/^\.\.?\//)
      const resolved = new URL(target!, `http://x/${file}`).pathname.slice(1)
      await visit(resolved)
    }
  }
  await visit('app.js')
  expect(seen.size).toBeGreaterThan(10)
  const css = await readFile(join(dashboardDirectory, 'style.css'), 'utf8')
  expect(css).not.toMatch(/@import|url\(/)
})

test('only the dashboard’s own files are served: anything else is 404, 405 or not ours', async () => {
  const moved = (await get('/whisperer/dashboard?x=1'))!
  expect([moved.status, moved.headers.get('location')]).toEqual([308, '/whisperer/dashboard/?x=1'])
  // Dot segments are resolved by URL parsing, out of the dashboard; encoded slashes are refused.
  expect(await get('/whisperer/dashboard/%2e%2e/%2e%2e/package.json')).toBeNull()
  for (const path of [
    '/whisperer/dashboard/missing.js',
    '/whisperer/dashboard/..%2fpackage.json',
    '/whisperer/dashboard/pages%2f..%2f..%2fpackage.json',
    '/whisperer/dashboard/.hidden.js',
    '/whisperer/dashboard/pages/',
    '/whisperer/dashboard/app.ts',
    '/whisperer/dashboard/%E0%A4%A',
  ]) {
    const response = (await get(path))!
    expect([path, response.status]).toEqual([path, 404])
    expect(response.headers.get('content-security-policy')).toBe(dashboardPolicy)
  }
  const post = (await get('/whisperer/dashboard/', { method: 'POST' }))!
  expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
  expect(await get('/whisperer/hooks/')).toBeNull()
  expect(await get('/whisperer/dashboards/')).toBeNull()
  expect(await dashboardHandler({ prefix: '/api/' })(new Request('http://x/api/dashboard/'))).toMatchObject({
    status: 200,
  })
})

test('a file beside the directory is out of reach, however its name is encoded', async () => {
  const root = await mkdtemp(join(tmpdir(), 'whisperer-dashboard-'))
  try {
    await mkdir(join(root, 'dashboard'))
    await writeFile(join(root, 'dashboard', 'index.html'), '<!doctype html>')
    await writeFile(join(root, 'secret.js'), 'secret')
    const own = dashboardHandler({ prefix: '/whisperer', directory: join(root, 'dashboard') })
    const fetch = (path: string) => own(new Request(`http://whisperer.test/whisperer/dashboard/${path}`))
    expect((await fetch(''))!.status).toBe(200)
    for (const path of ['..%2fsecret.js', '..%5csecret.js', '%2e%2e%2fsecret.js', '.%2f..%2fsecret.js']) {
      const response = await fetch(path)
      expect([path, response?.status]).toEqual([path, 404])
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})

test('framing: forbidden by default; frameAncestors allows those origins, and the rest of the policy stays', async () => {
  const framed = dashboardHandler({ prefix: '/whisperer', frameAncestors: ['https://app.example', "'self'"] })
  const page = (await framed(new Request('http://whisperer.test/whisperer/dashboard/')))!
  const policy = page.headers.get('content-security-policy')!
  expect(policy).toContain("frame-ancestors https://app.example 'self'")
  expect(page.headers.get('x-frame-options')).toBeNull()
  // Every other directive is the strict one's.
  const others = (text: string) => text.split('; ').filter((d) => !d.startsWith('frame-ancestors'))
  expect(others(policy)).toEqual(others(dashboardPolicy))
  expect(dashboardPolicy).toContain("frame-ancestors 'none'")
  expect((await get('/whisperer/dashboard/'))!.headers.get('x-frame-options')).toBe('DENY')
  for (const bad of [
    'https://a.example; script-src *',
    'https://a.example, https://b.example',
    "'unsafe-inline'",
  ]) {
    expect(() => dashboardHandler({ prefix: '/w', frameAncestors: [bad] }), bad).toThrow(/frameAncestors/)
  }
})

test('a theme: brand name and logo in the page, accents as custom properties in theme.css', async () => {
  const themed = dashboardHandler({
    prefix: '/whisperer',
    theme: {
      brandName: 'Acme <Billing>',
      logoUrl: 'https://cdn.acme.example/logo.svg',
      accentColor: '#ffcc00',
      accentColorDark: '#123456',
    },
  })
  const page = (await themed(new Request('http://whisperer.test/whisperer/dashboard/')))!
  const html = await page.text()
  expect(html).toContain('<title>Acme &#60;Billing&#62;</title>')
  expect(html).toContain('<meta name="whisperer-brand" content="Acme &#60;Billing&#62;">')
  expect(html).toContain('<meta name="whisperer-logo" content="https://cdn.acme.example/logo.svg">')
  expect(page.headers.get('content-security-policy')).toContain(
    "img-src 'self' data: https://cdn.acme.example;",
  )
  const css = await (await themed(new Request('http://whisperer.test/whisperer/dashboard/theme.css')))!.text()
  // A light accent takes black text; a dark one white.
  expect(css).toContain('--accent: #ffcc00;\n  --accent-text: #000000;')
  expect(css).toMatch(/prefers-color-scheme: dark[\s\S]*--accent: #123456;\n {4}--accent-text: #ffffff;/)
  const plain = await (await get('/whisperer/dashboard/theme.css'))!.text()
  expect(plain).not.toContain('--accent')
  for (const theme of [
    { accentColor: 'red; } body { display: none' },
    { logoUrl: 'javascript:alert(1)' },
    { logoUrl: 'http://insecure.example/logo.png' },
    { brandName: '' },
  ]) {
    expect(() => dashboardHandler({ prefix: '/w', theme }), JSON.stringify(theme)).toThrow(/theme/)
  }
})
