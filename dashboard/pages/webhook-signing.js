import { h, replace } from '../dom.js'
import { schemeLabels } from '../editors/signing.js'
import * as format from '../format.js'
import { choice, copyField, details, errorMessage, field, notice, table } from '../widgets.js'

const schemeNames = { 'hmac-sha256': 'HMAC-SHA256', ed25519: 'Ed25519' }

/** How long the keys live now keep signing after a rotation; a day unless chosen. */
const graceChoices = [
  ['0', 'No time: they stop at once'],
  ['3600', '1 hour'],
  ['86400', '24 hours'],
  ['604800', '7 days'],
]

/**
 * A webhook's new key, shown once: the HMAC secret (which is never shown again), or the Ed25519
 * public key (shown on every visit); or that it is unsigned. `more` ends the notice.
 */
export function newKeyNotice(webhook, title, more = null) {
  if (!webhook.signed)
    return notice('success', h('p', {}, title), h('p', {}, 'Requests to it are not signed.'), more)
  if (webhook.signature_scheme === 'ed25519') {
    return notice(
      'success',
      h('p', {}, title),
      copyField({
        label: 'New public key',
        value: webhook.public_key,
        hint: 'Receivers verify the Ed25519 signatures with it. It is not a secret, and stays shown below.',
      }).element,
      more,
    )
  }
  return notice(
    'success',
    h('p', {}, title),
    copyField({
      label: 'New secret',
      value: webhook.secret_key,
      hint: 'Give it to the receiver, which verifies the signatures with it.',
    }).element,
    h('p', {}, h('strong', {}, 'It is not shown again:'), ' copy it now.'),
    more,
  )
}

/** When the previous keys stop signing, in a sentence. */
function expiries(webhook) {
  if (webhook.previous_keys.length === 0) return 'No previous key signs any more.'
  return webhook.previous_keys
    .map(
      (key) =>
        `The previous ${schemeNames[key.signature_scheme]} key keeps signing until ${format.dateTime(key.expires_at)}.`,
    )
    .join(' ')
}

/**
 * A webhook's signing: its scheme, public key, last rotation and previous keys with when each
 * expires; rotating its secret with a grace period, and stopping signing.
 */
export function signingPanel(context, initial) {
  const summary = h('div', {})
  const result = h('div', { class: 'messages', tabindex: '-1' })
  const controls = h('div', {})

  function draw(webhook) {
    replace(
      summary,
      details([
        [
          'Signed',
          webhook.signed ? `Yes, with ${schemeNames[webhook.signature_scheme]}` : 'No: requests are unsigned',
        ],
        webhook.signature_scheme === 'hmac-sha256'
          ? ['Secret', '******** (shown only when it is set)']
          : null,
        ['Secret rotated', webhook.secret_rotated_at ? format.dateTime(webhook.secret_rotated_at) : 'Never'],
        [
          'Previous keys',
          webhook.previous_keys.length === 0 ? 'None live' : `${webhook.previous_keys.length} live`,
        ],
      ]),
      webhook.signature_scheme === 'ed25519'
        ? copyField({
            label: 'Public key',
            value: webhook.public_key,
            hint: 'Receivers verify the signatures with it; it is not a secret.',
          }).element
        : null,
      webhook.previous_keys.length > 0
        ? table({
            caption: 'Previous keys, still signing beside the current one',
            showCaption: true,
            headers: ['Scheme', 'Public key', 'Signs until'],
            rows: webhook.previous_keys.map((key) => [
              schemeNames[key.signature_scheme],
              key.public_key ?? '—',
              format.dateTime(key.expires_at),
            ]),
          })
        : null,
    )
    replace(controls, context.readOnly ? null : rotateControls(webhook))
  }

  function rotateControls(webhook) {
    const grace = choice(graceChoices, '86400')
    const graceField = field({
      label: 'The current keys keep signing for',
      control: grace,
      hint: 'Until then every request carries a signature per key, so receivers holding the old key keep verifying.',
    })
    const scheme = choice(Object.entries(schemeLabels), webhook.signature_scheme ?? 'hmac-sha256')
    const schemeField = field({ label: 'Scheme of the new key', control: scheme })
    if (!webhook.signed) graceField.element.hidden = true
    const rotate = h(
      'button',
      { type: 'button', onclick: () => act(rotate, () => rotateSecret(Number(grace.value), scheme.value)) },
      webhook.signed ? 'Rotate secret' : 'Sign with a new secret',
    )
    const stop = webhook.signed
      ? h(
          'button',
          { type: 'button', class: 'danger', onclick: () => act(stop, stopSigning) },
          'Stop signing',
        )
      : null
    return [
      h('div', { class: 'signing-actions' }, graceField.element, schemeField.element),
      h('div', { class: 'actions' }, rotate, stop),
    ]
  }

  async function act(button, action) {
    button.disabled = true
    try {
      await action()
    } catch (error) {
      replace(result, notice('error', errorMessage(error)))
      result.focus()
    } finally {
      button.disabled = false
    }
  }

  async function rotateSecret(graceSeconds, scheme) {
    const rotated = await context.api.post(`hooks/${initial.id}/rotate-secret/`, {
      grace_seconds: graceSeconds,
      signature_scheme: scheme,
    })
    replace(result, newKeyNotice(rotated, 'Secret rotated.', h('p', {}, expiries(rotated))))
    context.announce('Secret rotated')
    draw(rotated)
    // The new secret is selected, ready to copy.
    const shown = result.querySelector('input')
    shown?.focus()
    shown?.select()
  }

  async function stopSigning() {
    const ok = window.confirm(
      `Stop signing the requests to webhook #${initial.id}? Receivers that check signatures will refuse them.`,
    )
    if (!ok) return
    const updated = await context.api.patch(`hooks/${initial.id}/`, { secret_key: null })
    replace(result, notice('success', h('p', {}, 'Requests to it are no longer signed.')))
    context.announce('Signing stopped')
    draw(updated)
    result.focus()
  }

  draw(initial)
  return [
    h(
      'p',
      { class: 'hint' },
      'Rotating makes a new key current; the previous keys keep signing until their grace period ends.',
    ),
    summary,
    controls,
    result,
  ]
}
