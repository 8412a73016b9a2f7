/** Pieces every page uses: status badges, labelled fields with their error, notices and tables. */
import { ApiError } from './api.js'
import { h, uid } from './dom.js'

/** What went wrong, in a sentence. */
export function errorMessage(error) {
  if (error instanceof ApiError) {
    if (error.status === 429) return 'Too many requests: wait a moment and try again.'
    return error.message
  }
  if (error instanceof TypeError) return 'The server could not be reached.'
  return String(error?.message ?? error)
}

const statusLabels = {
  pending: 'Pending',
  delivering: 'Delivering',
  delivered: 'Delivered',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

/** A delivery's status, as a word with a colour (the word carries the meaning). */
export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, statusLabels[status] ?? status)
}

/** A webhook's state: active, paused, failing or disabled by Whisperer. */
export function webhookState(webhook) {
  if (webhook.disabled_reason === 'gone')
    return h('span', { class: 'badge badge-failed' }, 'Disabled: 410 Gone')
  if (webhook.disabled_reason === 'failing')
    return h('span', { class: 'badge badge-failed' }, 'Disabled: failing too long')
  if (!webhook.is_active) return h('span', { class: 'badge badge-cancelled' }, 'Paused')
  if (webhook.failing_since) return h('span', { class: 'badge badge-failed' }, 'Failing')
  return h('span', { class: 'badge badge-delivered' }, 'Active')
}

/** A "Remove" button for one row of a repeated group, labelled for screen readers. */
export function removeButton(label, onRemove) {
  return h('button', { type: 'button', class: 'secondary', 'aria-label': label, onclick: onRemove }, 'Remove')
}

/** Whether a webhook needs attention: failing, or disabled by Whisperer. */
export function needsAttention(webhook) {
  return Boolean(webhook.failing_since || webhook.disabled_reason)
}

/** Failing and disabled webhooks first (the longest failing first), then the others by id. */
export function byAttention(a, b) {
  const rank = (w) => (w.disabled_reason ? 0 : w.failing_since ? 1 : 2)
  if (rank(a) !== rank(b)) return rank(a) - rank(b)
  if (a.failing_since && b.failing_since) return a.failing_since.localeCompare(b.failing_since)
  return a.id - b.id
}

/**
 * A labelled control with a hint and a place for its error, which `show(messages)` fills (and
 * marks the control invalid) and `show([])` clears.
 */
export function field({ label, control, hint, paths = [] }) {
  const id = control.id || uid('field')
  control.id = id
  const hintId = hint ? `${id}-hint` : null
  const errorId = `${id}-error`
  const error = h('p', { class: 'error', id: errorId, hidden: true })
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '))
  const element = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    error,
  )
  return {
    element,
    control,
    paths,
    show(messages) {
      error.textContent = messages.join(' ')
      error.hidden = messages.length === 0
      if (messages.length > 0) control.setAttribute('aria-invalid', 'true')
      else control.removeAttribute('aria-invalid')
    },
  }
}

/**
 * Shows a 400's errors beside the fields they name: each goes to the field with the longest path
 * that is the error's path or a prefix of it; what no field claims is returned.
 */
export function showFieldErrors(fields, errors) {
  for (const item of fields) item.show([])
  const unclaimed = []
  const byField = new Map()
  for (const [path, messages] of Object.entries(errors ?? {})) {
    let best = null
    for (const item of fields) {
      for (const candidate of item.paths) {
        if (
          (path === candidate || path.startsWith(`${candidate}.`)) &&
          (!best || candidate.length > best.length)
        ) {
          best = { item, length: candidate.length }
        }
      }
    }
    if (!best) {
      unclaimed.push(`${path}: ${messages.join(' ')}`)
      continue
    }
    byField.set(best.item, [...(byField.get(best.item) ?? []), ...messages])
  }
  for (const [item, messages] of byField) item.show(messages)
  // The first field with an error, in the order of the page.
  const [first] = [...byField.keys()].sort((a, b) =>
    a.control.compareDocumentPosition(b.control) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
  )
  return { unclaimed, first: first ?? null }
}

/** A select of `[value, label]` options with `value` chosen. */
export function choice(options, value, props = {}) {
  return h(
    'select',
    props,
    options.map(([optionValue, label]) =>
      h('option', { value: optionValue, selected: optionValue === value }, label),
    ),
  )
}

/**
 * The error line of a group of controls (a condition, a header): `show(messages)` fills it and
 * marks the controls invalid; `show([])` clears both. The controls are described by it.
 */
export function errorLine(controls) {
  const element = h('p', { class: 'error', id: uid('error'), hidden: true })
  for (const control of controls) control.setAttribute('aria-describedby', element.id)
  return {
    element,
    show(messages) {
      element.textContent = messages.join(' ')
      element.hidden = messages.length === 0
      for (const control of controls) {
        if (messages.length > 0) control.setAttribute('aria-invalid', 'true')
        else control.removeAttribute('aria-invalid')
      }
    },
  }
}

/** A step of a form: a numbered heading and its contents. */
export function step(number, title, ...children) {
  const id = uid('step')
  return h(
    'section',
    { class: 'step', 'aria-labelledby': id },
    h('h2', { id }, h('span', { class: 'step-number' }, `${number}.`), ` ${title}`),
    children,
  )
}

/** A notice: `info`, `success` or `error` (announced at once). */
export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, children)
}

/** A table with a caption (read out, hidden unless `showCaption`), headers and rows of cells. */
export function table({ caption, headers, rows, showCaption = false }) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: showCaption ? '' : 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((header) => h('th', { scope: 'col' }, header)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell) => h('td', {}, cell)),
          ),
        ),
      ),
    ),
  )
}

/** Name-value pairs. */
export function details(pairs) {
  return h(
    'dl',
    { class: 'pairs' },
    pairs.filter(Boolean).map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
  )
}

/** A block of preformatted text, such as JSON or a response body. */
export function code(text, label) {
  return h('pre', { class: 'code', tabindex: '0', 'aria-label': label }, text)
}

/**
 * A value to copy (a secret shown once, a public key): read-only, with a Copy button. Where the
 * clipboard is refused, the text is left selected for the keyboard's copy.
 */
export function copyField({ label, value, hint }) {
  const input = h('input', {
    type: 'text',
    readonly: true,
    value,
    class: 'copy-value',
    autocomplete: 'off',
    spellcheck: 'false',
  })
  const said = h('span', { class: 'hint', 'aria-live': 'polite' })
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      'aria-label': `Copy the ${label.toLowerCase()}`,
      onclick: async () => {
        input.select()
        try {
          await navigator.clipboard.writeText(value)
          said.textContent = 'Copied.'
        } catch {
          said.textContent = 'Selected: press Ctrl+C (⌘C on a Mac) to copy it.'
        }
      },
    },
    'Copy',
  )
  const { element } = field({ label, control: input, hint })
  element.append(h('div', { class: 'copy-actions' }, button, said))
  return { element, control: input, button }
}
