/**
 * Whisperer's dashboard: a few pages over the REST API, with no build step and nothing fetched from
 * elsewhere. Pages are addressed by the fragment (`#/webhooks/12`), so that every link is a real
 * link and the server serves one page. The API token lives in this tab's sessionStorage only.
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
const api = apiClient(apiBase(window.location), () => sessionStorage.getItem(tokenKey) ?? '')
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

function signOut(message) {
  sessionStorage.removeItem(tokenKey)
  sessionStorage.removeItem(ownerKey)
  me = null
  void render(message)
}

async function signIn(token) {
  sessionStorage.setItem(tokenKey, token)
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

async function drawHeader(active) {
  const links = navigation.map(([key, href, text]) =>
    h('li', {}, h('a', { href, 'aria-current': key === active ? 'page' : undefined }, text)),
  )
  replace(
    header,
    h('a', { class: 'brand', href: '#/' }, 'Whisperer'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, links)),
    h(
      'div',
      { class: 'session' },
      me.admin ? await ownerSwitch() : null,
      h(
        'span',
        { class: 'who' },
        'Signed in as ',
        h('strong', {}, me.owner),
        me.admin ? [' ', h('span', { class: 'badge badge-admin' }, 'admin')] : null,
      ),
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => signOut('You are signed out.') },
        'Sign out',
      ),
    ),
  )
}

async function render(message) {
  const id = ++rendering
  const token = sessionStorage.getItem(tokenKey)
  if (!token || !me) {
    if (token && !me) {
      const problem = await signIn(token)
      if (!problem) return
      message = problem
    }
    replace(header, h('span', { class: 'brand' }, 'Whisperer'))
    replace(main, signInPage({ signIn, message }))
    document.title = 'Sign in · Whisperer'
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
    if (error instanceof ApiError && error.status === 401)
      return signOut('The token was refused: sign in again.')
    page = h('div', {}, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, errorMessage(error)))
  }
  if (id !== rendering) return
  main.removeAttribute('aria-busy')
  replace(main, page)
  const title = main.querySelector('h1')
  document.title = `${title?.textContent ?? 'Dashboard'} · Whisperer`
  // After a navigation, the focus goes to the new page's heading, as a page load would put it.
  title?.setAttribute('tabindex', '-1')
  if (!firstRender) title?.focus()
  firstRender = false
}

window.addEventListener('hashchange', () => {
  // Only `#/…` addresses a page; another fragment is a jump within this one.
  if (window.location.hash === '' || window.location.hash.startsWith('#/')) void render()
})
document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault()
  main.focus()
})
window.addEventListener('unhandledrejection', (event) => {
  if (event.reason instanceof ApiError && event.reason.status === 401)
    signOut('The token was refused: sign in again.')
})
void render()
