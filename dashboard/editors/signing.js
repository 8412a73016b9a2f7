import { h } from '../dom.js'
import { choice, field } from '../widgets.js'

/** The signature schemes, as the dashboard names them. */
export const schemeLabels = {
  'hmac-sha256': 'HMAC-SHA256: a shared whsec_ secret',
  ed25519: 'Ed25519: receivers verify with a public key',
}

const modes = [
  ['generate', 'A generated secret (recommended)'],
  ['own', 'My own secret'],
  ['unsigned', 'Nothing: requests are unsigned'],
]

/**
 * How a new webhook signs: a generated secret by default, the subscriber's own, or none, chosen
 * explicitly; and the scheme, HMAC by default. A generated secret is shown once after creating.
 */
export function signingEditor() {
  const mode = choice(modes, 'generate')
  const modeField = field({
    label: 'Sign requests with',
    control: mode,
    hint: 'Receivers check the signature headers (webhook-signature, X-Whisperer-Signature) to know a request is yours.',
    paths: ['secret_key'],
  })
  const scheme = choice(Object.entries(schemeLabels), 'hmac-sha256')
  const schemeField = field({ label: 'Signature scheme', control: scheme, paths: ['signature_scheme'] })
  const secret = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false' })
  const secretField = field({
    label: 'Secret key',
    control: secret,
    hint: 'A Standard Webhooks whsec_… key (whsk_… for Ed25519), or any string for HMAC.',
    paths: ['secret_key'],
  })
  function sync() {
    schemeField.element.hidden = mode.value === 'unsigned'
    secretField.element.hidden = mode.value !== 'own'
  }
  mode.addEventListener('change', sync)
  sync()
  return {
    element: h(
      'fieldset',
      { class: 'signing-box' },
      h('legend', {}, 'Signing'),
      modeField.element,
      schemeField.element,
      secretField.element,
    ),
    // An error on `secret_key` goes to the secret when it is shown, to the choice otherwise.
    targets: () => [mode.value === 'own' ? secretField : modeField, schemeField],
    read() {
      if (mode.value === 'unsigned') return { secret_key: null }
      return {
        signature_scheme: scheme.value,
        ...(mode.value === 'own' ? { secret_key: secret.value } : {}),
      }
    },
  }
}
