import { h, replace, uid } from '../dom.js'
import { choice, errorLine, field, removeButton } from '../widgets.js'
import { signingEditor } from './signing.js'

const authTypes = {
  '': { label: 'None', fields: [] },
  basic: { label: 'Basic (username and password)', fields: ['username', 'password'] },
  bearer: { label: 'Bearer token', fields: ['token'] },
  token: {
    label: 'Token login (dj-whisperer)',
    fields: ['url', 'username', 'password', 'username_field', 'password_field', 'token_key', 'header_format'],
  },
}
const authLabels = {
  username: 'Username',
  password: 'Password',
  token: 'Token',
  url: 'Login URL',
  username_field: 'Username field',
  password_field: 'Password field',
  token_key: 'Token key in the answer',
  header_format: 'Header format',
}
const authDefaults = {
  username_field: 'username',
  password_field: 'password',
  token_key: 'key',
  header_format: 'Token {}',
}

const plain = { autocomplete: 'off', spellcheck: 'false' }

/** The rows of additional headers: a name and a value each. */
function headersEditor(headers) {
  const list = h('div', { class: 'headers' })
  const rows = []
  const add = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => addRow().control.focus() },
    'Add header',
  )
  const headersError = errorLine([])

  function addRow(name = '', value = '') {
    const nameInput = h('input', { type: 'text', id: uid('header-name'), value: name, ...plain })
    const valueInput = h('input', { type: 'text', id: uid('header-value'), value, ...plain })
    const error = errorLine([nameInput])
    const number = rows.length + 1
    const group = h(
      'div',
      { class: 'header-row', role: 'group', 'aria-label': `Header ${number}` },
      h('div', { class: 'field' }, h('label', { for: nameInput.id }, 'Header'), nameInput),
      h('div', { class: 'field' }, h('label', { for: valueInput.id }, 'Value'), valueInput),
      removeButton(`Remove header ${number}`, () => {
        rows.splice(rows.indexOf(row), 1)
        group.remove()
        add.focus()
      }),
      error.element,
    )
    const row = {
      control: nameInput,
      read: () => [nameInput.value.trim(), valueInput.value],
      get paths() {
        const header = nameInput.value.trim()
        return header ? [`additional_headers.${header}`] : []
      },
      show: error.show,
    }
    rows.push(row)
    list.append(group)
    return row
  }
  for (const [name, value] of Object.entries(headers ?? {})) addRow(name, value)

  return {
    element: h(
      'fieldset',
      { class: 'headers-box' },
      h('legend', {}, 'Additional headers'),
      list,
      headersError.element,
      add,
    ),
    targets: () => [...rows, { paths: ['additional_headers'], control: add, show: headersError.show }],
    read: () => Object.fromEntries(rows.map((row) => row.read()).filter(([name]) => name !== '')),
  }
}

/**
 * Step 4 of the webhook form: where to send, how a new webhook signs, authentication
 * (`config.auth`), additional headers, and whether it is active. An existing webhook's keys are
 * left out (a replace keeps them); credentials read back masked are sent back as they are, which
 * the API takes as unchanged.
 */
export function targetEditor({ webhook }) {
  const url = h('input', {
    type: 'url',
    required: true,
    value: webhook?.target_url ?? '',
    placeholder: 'https://example.com/hooks',
    ...plain,
  })
  const urlField = field({ label: 'Target URL', control: url, paths: ['target_url'] })
  // A new webhook's signing is chosen here; an existing one's keys change on its Signing step.
  const signing = webhook ? null : signingEditor()

  const stored = webhook?.config?.auth ?? null
  const authSelect = choice(
    Object.entries(authTypes).map(([value, { label }]) => [value, label]),
    stored?.auth_type ?? '',
  )
  const authField = field({
    label: 'Authentication',
    control: authSelect,
    paths: ['config', 'config.auth', 'config.auth.auth_type'],
  })
  const authBox = h('div', { class: 'auth-fields' })
  let authFields = []
  function drawAuth(values) {
    authFields = authTypes[authSelect.value].fields.map((name) => {
      const input = h('input', {
        type: name === 'password' ? 'password' : 'text',
        value: values?.[name] ?? '',
        placeholder: authDefaults[name],
        ...plain,
      })
      return { ...field({ label: authLabels[name], control: input, paths: [`config.auth.${name}`] }), name }
    })
    replace(
      authBox,
      authFields.map((item) => item.element),
    )
  }
  authSelect.addEventListener('change', () => drawAuth(null))
  drawAuth(stored)

  const rate = h('input', {
    type: 'text',
    inputmode: 'decimal',
    value: webhook?.rate_limit ?? '',
    placeholder: 'no limit',
    ...plain,
  })
  const rateField = field({
    label: 'Rate limit (optional)',
    control: rate,
    hint: 'Requests per second, shared by every worker, or "auto" to find the rate the receiver takes. A 429 or 503 halves it either way.',
    paths: ['rate_limit'],
  })
  const timeout = h('input', {
    type: 'text',
    inputmode: 'decimal',
    value: webhook?.timeout ?? '',
    placeholder: 'the service’s',
    ...plain,
  })
  const timeoutField = field({
    label: 'Timeout (optional)',
    control: timeout,
    hint: 'How many seconds to wait for the receiver’s answer, from 1 to 60.',
    paths: ['timeout'],
  })
  /** A field's number, null when empty; anything else as written, for the API to name. */
  const numberOr = (text, word) => {
    const value = text.trim()
    if (value === '') return null
    if (value === word) return value
    return Number.isNaN(Number(value)) ? value : Number(value)
  }

  const headers = headersEditor(webhook?.additional_headers)
  const active = h('input', { type: 'checkbox', id: uid('active'), checked: webhook?.is_active ?? true })
  const traceparent = h('input', {
    type: 'checkbox',
    id: uid('traceparent'),
    checked: webhook?.send_traceparent ?? false,
  })

  return {
    element: [
      urlField.element,
      signing?.element,
      authField.element,
      authBox,
      headers.element,
      rateField.element,
      timeoutField.element,
      h('div', { class: 'check' }, active, h('label', { for: active.id }, 'Active: receives new events')),
      h(
        'div',
        { class: 'check' },
        traceparent,
        h('label', { for: traceparent.id }, 'Send a W3C traceparent header with each request'),
      ),
    ],
    targets: () => [
      urlField,
      ...(signing?.targets() ?? []),
      authField,
      ...authFields,
      ...headers.targets(),
      rateField,
      timeoutField,
      { paths: ['is_active'], control: active, show: () => {} },
      { paths: ['send_traceparent'], control: traceparent, show: () => {} },
    ],
    read() {
      const auth = authSelect.value
        ? Object.fromEntries([
            ['auth_type', authSelect.value],
            ...authFields
              .filter((item) => item.control.value !== '')
              .map((item) => [item.name, item.control.value]),
          ])
        : null
      // Other keys of `config` (matched by a publisher's config filter) are kept as they are.
      const { auth: _previous, ...config } = webhook?.config ?? {}
      return {
        target_url: url.value.trim(),
        ...signing?.read(),
        is_active: active.checked,
        send_traceparent: traceparent.checked,
        additional_headers: headers.read(),
        rate_limit: numberOr(rate.value, 'auto'),
        timeout: numberOr(timeout.value, null),
        config: auth ? { ...config, auth } : config,
      }
    },
  }
}
