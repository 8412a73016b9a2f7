import { h } from '../dom.js'
import { exampleFromSchema } from '../example.js'
import * as format from '../format.js'
import { fieldsOf } from '../schema-fields.js'
import { code, table } from '../widgets.js'

function headingIdOf(type) {
  return `type-${type.replace(/[^\w-]/g, '-')}`
}

/** Every event type: its fields, its JSON Schema, and an example of what a webhook receives. */
export async function eventTypesPage(context) {
  const eventTypes = await context.api.get('event_types/')
  const contents = h(
    'nav',
    { 'aria-label': 'Event types' },
    h(
      'ul',
      { class: 'contents' },
      eventTypes.map((type) =>
        h('li', {}, h('a', { href: `#/event-types?type=${encodeURIComponent(type.type)}` }, type.type)),
      ),
    ),
  )
  const sections = eventTypes.map((type) => {
    const headingId = headingIdOf(type.type)
    const fields = fieldsOf(type)
    const example = {
      event: { type: type.type, uuid: '0d9f7c3ae7b64b5c9c1f0e6a2b3c4d5e' },
      data: exampleFromSchema(type.json_schema ?? {}),
    }
    return h(
      'section',
      { class: 'event-type', 'aria-labelledby': headingId },
      h('h2', { id: headingId }, type.type),
      type.description ? h('p', {}, type.description) : null,
      h(
        'p',
        {},
        h(
          'a',
          { href: `#/webhooks/new?event_type=${encodeURIComponent(type.type)}` },
          `Subscribe to ${type.type}`,
        ),
      ),
      fields.length > 0
        ? table({
            caption: `Fields of ${type.type}`,
            showCaption: true,
            headers: ['Field', 'Type', 'Description'],
            rows: fields.map((f) => [h('code', {}, f.name), f.type, f.description || '—']),
          })
        : h(
            'p',
            { class: 'quiet' },
            'It does not list its fields: webhooks may filter on any field of the data.',
          ),
      h(
        'div',
        { class: 'columns' },
        h(
          'div',
          {},
          h('h3', {}, 'Example request body'),
          code(format.json(example), `Example request body of ${type.type}`),
          h(
            'p',
            { class: 'hint' },
            'Made from the JSON Schema, with its examples or defaults where it gives them. A webhook that chose some fields receives only those.',
          ),
        ),
        h(
          'div',
          {},
          h('h3', {}, 'JSON Schema'),
          type.json_schema
            ? code(format.json(type.json_schema), `JSON Schema of ${type.type}`)
            : h('p', { class: 'quiet' }, 'None: any data is accepted.'),
        ),
      ),
    )
  })
  const chosen = context.query.get('type')
  const page = h(
    'div',
    {},
    h('h1', {}, 'Event types'),
    eventTypes.length === 0 ? h('p', {}, 'No event types are declared yet.') : [contents, sections],
  )
  if (chosen) {
    // A contents link names its type: once the page is shown, go to that type's heading.
    window.setTimeout(() => {
      const heading = document.getElementById(headingIdOf(chosen))
      heading?.setAttribute('tabindex', '-1')
      heading?.focus()
    }, 0)
  }
  return page
}
