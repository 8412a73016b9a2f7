import { expect, test } from 'vitest'
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
