import { ApiError } from '../api.js'
import { h, replace } from '../dom.js'
import * as format from '../format.js'
import { details, errorMessage, field, notice } from '../widgets.js'
import { routingView } from './delivery.js'

/**
 * One event: its type and when it was published, and its routing: which of the caller's webhooks
 * got it and, for those that did not, why. One webhook can be asked about whatever its types.
 */
export async function eventPage(context) {
  const uuid = context.params[0]
  const routing = await context.api.get(`events/${uuid}/routing/`)
  const view = h('div', {}, routingView(routing))
  const input = h('input', { type: 'text', inputmode: 'numeric', id: 'routing-webhook', autocomplete: 'off' })
  const item = field({
    label: 'Webhook id',
    control: input,
    hint: 'Why one webhook did or did not get this event, whatever its event types.',
  })
  const answer = h('div', { class: 'messages', 'aria-live': 'polite' })

  async function ask(event) {
    event.preventDefault()
    replace(answer)
    item.show([])
    const id = input.value.trim()
    if (!/^[1-9][0-9]*$/.test(id)) {
      item.show(['Enter a webhook id, such as 12.'])
      return
    }
    try {
      const one = await context.api.get(`events/${uuid}/routing/?webhook=${id}`)
      replace(
        answer,
        one.webhooks.length === 0 ? notice('error', `You have no webhook #${id}.`) : routingView(one),
      )
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) item.show(['Enter a webhook id, such as 12.'])
      else replace(answer, notice('error', errorMessage(error)))
    }
  }

  return h(
    'div',
    {},
    h('h1', {}, 'Event ', h('code', {}, routing.event_uuid)),
    details([
      ['Event type', routing.event_type],
      ['Published', format.dateTime(routing.published_at)],
      routing.config_filter ? ['Config filter', h('code', {}, JSON.stringify(routing.config_filter))] : null,
    ]),
    h(
      'section',
      { 'aria-labelledby': 'routing-heading' },
      h('h2', { id: 'routing-heading' }, 'Routing'),
      view,
    ),
    h(
      'section',
      { 'aria-labelledby': 'ask-heading' },
      h('h2', { id: 'ask-heading' }, 'Ask about one webhook'),
      h(
        'form',
        { novalidate: true, onsubmit: ask },
        item.element,
        h('button', { type: 'submit' }, 'Explain'),
      ),
      answer,
    ),
  )
}
