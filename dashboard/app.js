/**
 * Whisperer's dashboard: a few pages over the REST API, with no build step and nothing fetched from
 * elsewhere. Pages are addressed by the fragment (`#/webhooks/12`), so that every link is a real
 * link and the server serves one page. The API token lives in this tab's sessionStorage only.
 *
 * Opened with a portal link (`#session=<link>`), it is the subscriber portal: the link is read
 * from the fragment once, removed from the address (and so from the history) before anything
 * else, and exchanged for a session token that lives in this page's memory only. A fragment is
 * never sent to a server nor in a `Referer`; a token in memory is not readable by another tab,
 * survives no reload, and needs no cookie (so no CSRF, and nothing third-party inside a frame).
 */
import { ApiError, apiBase, apiClient } from './api.js'
import { h, replace } from './dom.js'
import { deliveriesPage } from './pages/deliveries.js'
import { deliveryPage } from './pages/delivery.js'
import { eventPage } from './pages/event.js'
import { eventTypesPage } from './pages/event-types.js'
import { overviewPage } from './pages/overview.js'
import { signInPage } from './pages/sign-in.js'
import { webhookPage } from './pages/webhook.js'
import { webhooksPage } from './pages/webhooks.js'
import { errorMessage } from './widgets.js'

const tokenKey = 'whisperer.token'
const ownerKey = 'whisperer.owner'
const sessionFragment = '#session='
/** Set in this tab once a portal link was opened, so that a reload says how to come back (never the token). */
const portalKey = 'whisperer.portal'
/** The application's brand name and logo, when it themes the portal. */
const brand = document.querySelector('meta[name="whisperer-brand"]')?.content || 'Whisperer'
const logo = document.querySelector('meta[name="whisperer-logo"]')?.content || null

const routes = [
  { pattern: /^$/, page: overviewPage, nav: 'overview' },
  { pattern: /^webhooks$/, page: webhooksPage, nav: 'webhooks' },
  { pattern: /^webhooks\/(new|\d+)$/, page: webhookPage, nav: 'webhooks' },
  { pattern: /^deliveries$/, page: deliveriesPage, nav: 'deliveries' },
  { pattern: /^deliveries\/([\w-]+)$/, page: deliveryPage, nav: 'deliveries' },
  { pattern: /^events\/([\w-]+)$/, page: eventPage, nav: 'deliveries' },
  { pattern: /^event-types$/, page: eventTypesPage, nav: 'event-types' },
]

const navigation = [
  ['overview', '#/', 'Overview'],
  ['webhooks', '#/webhooks', 'Webhooks'],
  ['deliveries', '#/deliveries', 'Deliveries'],
  ['event-types', '#/event-types', 'Event types'],
]

const header = document.querySelector('#top')
const main = document.querySelector('#main')
const status = document.querySelector('#status')
/** A portal session's token: in memory only. */
let portalToken = null
/** Why the portal session ended (expired, used or revoked link), shown instead of a sign-in form. */
let portalEnded = null
const api = apiClient(apiBase(window.location), () => portalToken ?? sessionStorage.getItem(tokenKey) ?? '')
let me = null
let rendering = 0
let firstRender = true

/** Says something to screen readers without moving the focus. */
function announce(text) {
  status.textContent = ''
  window.setTimeout(() => {
    status.textContent = text
  }, 50)
}

function currentRoute() {
  const hash = window.location.hash.startsWith('#/') ? window.location.hash.slice(2) : ''
  const [path, search = ''] = hash.split('?')
  const clean = path.replace(/\/+$/, '')
  for (const route of routes) {
    const match = route.pattern.exec(clean)
    if (match) return { ...route, params: match.slice(1), query: new URLSearchParams(search) }
  }
  return null
}

/** What the portal says when its link or session no longer opens it. */
function portalMessage(error) {
  const code = error instanceof ApiError ? error.code : null
  if (code === 'portal_session_expired') return 'This link has expired.'
  if (code === 'portal_link_used') return 'This link was already used.'
  return 'This link is no longer valid.'
}

/** Takes the link from the fragment, once, and exchanges it for a session kept in memory. */
async function openPortal() {
  const link = decodeURIComponent(window.location.hash.slice(sessionFragment.length))
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`)
  sessionStorage.removeItem(tokenKey)
  try {
    const session = await api.post('portal/sessions/exchange/', { token: link })
    portalToken = session.token
    sessionStorage.setItem(portalKey, '1')
  } catch (error) {
    portalEnded = portalMessage(error)
  }
}

function endPortal(error) {
  portalToken = null
  me = null
  portalEnded = error ? portalMessage(error) : 'This session has ended.'
  void render()
}

/** A portal page reloaded: its session was in the page's memory, and is gone. */
if (sessionStorage.getItem(portalKey) && !window.location.hash.startsWith(sessionFragment)) {
  portalEnded = 'This session has ended: it lasts as long as the page.'
}

function signOut(message) {
  if (portalToken) return endPortal(null)
  sessionStorage.removeItem(tokenKey)
  sessionStorage.removeItem(ownerKey)
  me = null
  void render(message)
}

async function signIn(token) {
  if (token !== portalToken) sessionStorage.setItem(tokenKey, token)
  try {
    const caller = await api.get('me/')
    if (!caller.admin && !caller.scopes.includes('subscriber')) {
      sessionStorage.removeItem(tokenKey)
      return 'This token lacks the subscriber scope: the dashboard shows webhooks and deliveries.'
    }
    me = caller
    await render()
    return null
  } catch (error) {
    sessionStorage.removeItem(tokenKey)
    if (portalToken) {
      endPortal(error)
      return null
    }
    if (error instanceof ApiError && error.status === 401) return 'This token was not accepted.'
    return errorMessage(error)
  }
}

/** The owner an admin looks at ('' for every owner); a subscriber's own. */
function owner() {
  return me?.admin ? (sessionStorage.getItem(ownerKey) ?? '') : (me?.owner ?? '')
}

async function ownerSwitch() {
  const choices = new Set([me.owner])
  try {
    const [tokens, hooks] = await Promise.all([api.get('tokens/'), api.get('hooks/', { limit: 1000 })])
    for (const token of tokens) choices.add(token.owner)
    for (const hook of hooks.results) choices.add(hook.owner)
  } catch {
    // The owners are a convenience: without them, an admin still sees every owner.
  }
  const select = h(
    'select',
    {
      id: 'owner',
      onchange: () => {
        sessionStorage.setItem(ownerKey, select.value)
        void render()
      },
    },
    h('option', { value: '', selected: owner() === '' }, 'All owners'),
    [...choices].sort().map((name) => h('option', { value: name, selected: owner() === name }, name)),
  )
  return h('div', { class: 'owner' }, h('label', { for: 'owner' }, 'Owner'), select)
}

/** The brand: the application's logo and name in the portal, or Whisperer's. */
function brandMark(link) {
  const content = [logo ? h('img', { src: logo, alt: '', class: 'logo' }) : null, brand]
  return link ? h('a', { class: 'brand', href: '#/' }, content) : h('span', { class: 'brand' }, content)
}

async function drawHeader(active) {
  const links = navigation.map(([key, href, text]) =>
    h('li', {}, h('a', { href, 'aria-current': key === active ? 'page' : undefined }, text)),
  )
  const portal = me.portal
  replace(
    header,
    brandMark(true),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, links)),
    h(
      'div',
      { class: 'session' },
      me.admin ? await ownerSwitch() : null,
      h(
        'span',
        { class: 'who' },
        portal ? 'Account ' : 'Signed in as ',
        h('strong', {}, me.owner),
        me.admin ? [' ', h('span', { class: 'badge badge-admin' }, 'admin')] : null,
        portal?.read_only ? [' ', h('span', { class: 'badge badge-read-only' }, 'read-only')] : null,
      ),
      // A portal session is the application's to end: it has no sign-out, and no token to enter.
      portal
        ? null
        : h(
            'button',
            { type: 'button', class: 'secondary', onclick: () => signOut('You are signed out.') },
            'Sign out',
          ),
    ),
  )
}

/** The portal's page once its link or session no longer opens it. */
function portalEndedPage(message) {
  const link = /link/.test(message)
  return h(
    'div',
    { class: 'narrow' },
    h('h1', {}, link ? 'Link expired' : 'Session ended'),
    h('p', { role: 'alert' }, message),
    h('p', {}, 'Go back to the application that sent you here, and open its link again for a new one.'),
  )
}

async function render(message) {
  const id = ++rendering
  if (portalEnded) {
    replace(header, brandMark(false))
    replace(main, portalEndedPage(portalEnded))
    document.title = `${main.querySelector('h1').textContent} · ${brand}`
    return
  }
  const token = portalToken ?? sessionStorage.getItem(tokenKey)
  if (!token || !me) {
    if (token && !me) {
      const problem = await signIn(token)
      if (!problem) return
      message = problem
    }
    replace(header, brandMark(false))
    replace(main, signInPage({ signIn, message }))
    document.title = `Sign in · ${brand}`
    main.querySelector('input')?.focus()
    return
  }
  const route = currentRoute()
  await drawHeader(route?.nav)
  if (!route) {
    replace(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the overview')))
    return
  }
  main.setAttribute('aria-busy', 'true')
  const context = {
    api,
    me,
    owner: owner(),
    /** A read-only portal session: every write control is left out. */
    readOnly: Boolean(me.portal?.read_only),
    /** The owner query of list routes: an admin's chosen owner. */
    scope: () => (me.admin && owner() ? { owner: owner() } : {}),
    params: route.params,
    query: route.query,
    announce,
    refresh: () => render(),
  }
  let page
  try {
    page = await route.page(context)
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      if (portalToken) return endPortal(error)
      return signOut('The token was refused: sign in again.')
    }
    page =
      error instanceof ApiError && error.status === 404
        ? h('div', {}, h('h1', {}, 'Not found'), h('p', { role: 'alert' }, errorMessage(error)))
        : h('div', {}, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, errorMessage(error)))
  }
  if (id !== rendering) return
  main.removeAttribute('aria-busy')
  replace(main, page)
  const title = main.querySelector('h1')
  document.title = `${title?.textContent ?? 'Dashboard'} · ${brand}`
  // After a navigation, the focus goes to the new page's heading, as a page load would put it.
  title?.setAttribute('tabindex', '-1')
  if (!firstRender) title?.focus()
  firstRender = false
}

window.addEventListener('hashchange', async () => {
  // A new portal link opened in this page replaces the session.
  if (window.location.hash.startsWith(sessionFragment)) {
    me = null
    portalEnded = null
    await openPortal()
    return void render()
  }
  // Only `#/…` addresses a page; another fragment is a jump within this one.
  if (window.location.hash === '' || window.location.hash.startsWith('#/')) void render()
})
document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault()
  main.focus()
})
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError && event.reason.status === 401) {
    if (portalToken) endPortal(event.reason)
    else signOut('The token was refused: sign in again.')
  }
})
if (window.location.hash.startsWith(sessionFragment)) await openPortal()
void render()
