import { h } from '../dom.js'
import { field, notice } from '../widgets.js'

/** Signing in with an API token, kept in this browser tab only. */
export function signInPage({ signIn, message }) {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  })
  const token = field({
    label: 'API token',
    control: input,
    hint: 'A token as "whisperer tokens create" or the first start of the service printed it: wh_…',
  })
  const button = h('button', { type: 'submit' }, 'Sign in')
  const form = h(
    'form',
    {
      class: 'sign-in',
      method: 'post',
      onsubmit: async (event) => {
        event.preventDefault()
        const value = input.value.trim()
        if (!value) return token.show(['Enter a token.'])
        button.disabled = true
        const problem = await signIn(value)
        button.disabled = false
        if (problem) {
          token.show([problem])
          input.focus()
        }
      },
    },
    token.element,
    button,
  )
  return h(
    'div',
    { class: 'narrow' },
    h('h1', {}, 'Sign in'),
    message ? notice('info', message) : null,
    h(
      'p',
      {},
      'The dashboard calls the REST API with your token, so it shows and does exactly what the token may. ',
      'The token stays in this tab (sessionStorage) until you sign out or close it.',
    ),
    form,
  )
}
