import { h, replace } from '../dom.js'
import { fieldsOf } from '../schema-fields.js'
import { choice, field, table } from '../widgets.js'

/**
 * Step 1 of the webhook form: the event type, and the fields of its data; then, optionally, more
 * types and patterns (`invoice.*`, `*`) delivered to the same URL.
 */
export function eventTypeEditor({ eventTypes, initial, more = [], onChange }) {
  // A webhook keeps its event type even when that type is no longer declared.
  const names = eventTypes.map((type) => type.type)
  if (initial && !names.includes(initial)) names.unshift(initial)
  const select = choice(
    names.map((name) => [name, name]),
    initial,
    { id: 'event-type' },
  )
  const item = field({ label: 'Event type', control: select, paths: ['event_type', 'event_types.0'] })
  const extra = h('input', {
    type: 'text',
    id: 'more-event-types',
    value: more.join(', '),
    autocomplete: 'off',
  })
  const moreItem = field({
    label: 'More event types (optional)',
    control: extra,
    hint: 'Comma-separated types or patterns: "invoice.*" is every type beginning "invoice.", "*" every type.',
    paths: ['event_types'],
  })
  const info = h('div', { class: 'type-info' })
  const current = () => eventTypes.find((type) => type.type === select.value) ?? null

  function draw() {
    const eventType = current()
    const fields = fieldsOf(eventType)
    replace(
      info,
      eventType?.description ? h('p', {}, eventType.description) : null,
      fields.length === 0
        ? h(
            'p',
            { class: 'quiet' },
            'This event type does not list its fields: conditions may name any field of the data.',
          )
        : table({
            caption: `The fields of ${eventType.type}`,
            showCaption: true,
            headers: ['Field', 'Type', 'Description'],
            rows: fields.map((f) => [h('code', {}, f.name), f.type, f.description || '—']),
          }),
    )
  }
  select.addEventListener('change', () => {
    draw()
    onChange(current())
  })
  draw()

  return {
    element: [item.element, info, moreItem.element],
    targets: [item, moreItem],
    /** The body's event types: `event_type` for one, `event_types` for more. */
    value: () => {
      const others = extra.value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean)
      return others.length === 0 ? { event_type: select.value } : { event_types: [select.value, ...others] }
    },
  }
}
