import Fastify from 'fastify'
import { Hono } from 'hono'
import { expect, test } from 'vitest'
import { fastifyPlugin } from '../../src/api/adapters/fastify.ts'
import { createWhisperer } from '../../src/whisperer.ts'
import { quietLogger } from '../support/databases.ts'

test('whisperer.dashboard() is a Web-standard handler; its framing comes from the option or the environment', async () => {
  const whisperer = await createWhisperer({
    database: 'memory://',
    logger: quietLogger,
    env: { WHISPERER_PORTAL_FRAME_ANCESTORS: 'https://app.example, https://admin.example' },
  })
  try {
    expect(whisperer.config.portalFrameAncestors).toEqual(['https://app.example', 'https://admin.example'])
    const serve = whisperer.dashboard({ prefix: '/billing/whisperer' })
    const page = await serve(new Request('http://app.test/billing/whisperer/dashboard/'))
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://app.example https://admin.example',
    )
    const elsewhere = await serve(new Request('http://app.test/billing/other'))
    expect([elsewhere.status, ((await elsewhere.json()) as { code: string }).code]).toEqual([
      404,
      'not_found',
    ])
    const own = whisperer.dashboard({ frameAncestors: ["'self'"] })
    const framed = await own(new Request('http://app.test/whisperer/dashboard/'))
    expect(framed.headers.get('content-security-policy')).toContain("frame-ancestors 'self'")
  } finally {
    await whisperer.close()
  }
  await expect(
    createWhisperer({
      database: 'memory://',
      logger: quietLogger,
      portalFrameAncestors: ['* ; script-src *'],
    }),
  ).rejects.toThrow(/portalFrameAncestors/)
})

test('the documented Hono and Fastify mounts serve the dashboard beside the API', async () => {
  const whisperer = await createWhisperer({ database: 'memory://', logger: quietLogger })
  try {
    const dashboard = whisperer.dashboard({ frameAncestors: ["'self'"] })
    const api = whisperer.api({ authenticate: () => ({ owner: 'alice' }) })

    const hono = new Hono()
    hono.get('/whisperer/dashboard/*', (c) => dashboard(c.req.raw))
    hono.all('/whisperer/*', (c) => api(c.req.raw))

    const fastify = Fastify()
    fastify.get('/whisperer/dashboard/*', async (request, reply) =>
      reply.send(await dashboard(new Request(`http://${request.host}${request.url}`))),
    )
    await fastify.register(fastifyPlugin(api))
    try {
      const fromFastify = async (path: string) => {
        const response = await fastify.inject({ method: 'GET', url: path })
        return {
          status: response.statusCode,
          type: String(response.headers['content-type']),
          body: response.body,
        }
      }
      const fromHono = async (path: string) => {
        const response = await hono.fetch(new Request(`http://app.test${path}`))
        return {
          status: response.status,
          type: String(response.headers.get('content-type')),
          body: await response.text(),
        }
      }
      for (const serve of [fromHono, fromFastify]) {
        const page = await serve('/whisperer/dashboard/')
        expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' })
        expect(page.body).toContain('<script type="module" src="app.js"></script>')
        expect(await serve('/whisperer/dashboard/app.js')).toMatchObject({
          status: 200,
          type: expect.stringMatching(/javascript/),
        })
        const me = await serve('/whisperer/me/')
        expect([me.status, JSON.parse(me.body).owner]).toEqual([200, 'alice'])
      }
    } finally {
      await fastify.close()
    }
  } finally {
    await whisperer.close()
  }
})
