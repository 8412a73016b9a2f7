import { conditionsFromFilters, filtersFromConditions, operators } from '../conditions.js'
import { h, replace, uid } from '../dom.js'
import { fieldsOf, pathsOf } from '../schema-fields.js'
import { choice, errorLine, removeButton } from '../widgets.js'

/**
 * Step 2 of the webhook form: durian's conditions, one row each (a field, an operator and a value),
 * and the fields to receive. `read()` gives the webhook's `filters` and `fields`, or the problem of
 * each row that has one.
 */
export function filtersEditor({ filters, fields, eventType }) {
  let schema = eventType?.json_schema ?? null
  const suggestions = h('datalist', { id: uid('fields') })
  const list = h('div', { class: 'conditions' })
  const rows = []
  const add = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => addRow().focus() },
    'Add condition',
  )
  const filtersError = errorLine([])
  const receiveBox = h('fieldset', { class: 'receive' })
  const receiveError = errorLine([])
  let receive = new Set(fields ?? [])

  function addRow(initial = { field: '', op: 'is', value: '' }) {
    const number = rows.length + 1
    const fieldInput = h('input', {
      type: 'text',
      id: uid('condition-field'),
      list: suggestions.id,
      value: initial.field,
      autocomplete: 'off',
      spellcheck: 'false',
    })
    const opSelect = choice(
      operators.map(({ op, label }) => [op, label]),
      initial.op,
      { id: uid('condition-op') },
    )
    const valueInput = h('input', {
      type: 'text',
      id: uid('condition-value'),
      value: initial.value,
      autocomplete: 'off',
      spellcheck: 'false',
    })
    const error = errorLine([fieldInput, opSelect, valueInput])
    const syncValue = () => {
      valueInput.disabled = opSelect.value === 'any'
    }
    opSelect.addEventListener('change', syncValue)
    syncValue()
    const labelled = (control, text) =>
      h('div', { class: 'field' }, h('label', { for: control.id }, text), control)
    const group = h(
      'div',
      { class: 'condition', role: 'group', 'aria-label': `Condition ${number}` },
      labelled(fieldInput, 'Field'),
      labelled(opSelect, 'Condition'),
      labelled(valueInput, 'Value'),
      removeButton(`Remove condition ${number}`, () => {
        rows.splice(rows.indexOf(row), 1)
        group.remove()
        add.focus()
      }),
      error.element,
    )
    const row = {
      control: fieldInput,
      focus: () => fieldInput.focus(),
      read: () => ({ field: fieldInput.value, op: opSelect.value, value: valueInput.value }),
      // A row shows the errors of its field, whatever operator they name.
      get paths() {
        const name = fieldInput.value.trim()
        return name ? [`filters.${name}`] : []
      },
      show: error.show,
    }
    rows.push(row)
    list.append(group)
    return row
  }

  function drawReceive(type) {
    const exposed = fieldsOf(type)
    receive = new Set([...receive].filter((name) => exposed.some((f) => f.name === name)))
    replace(
      suggestions,
      [...new Set([...exposed.map((f) => f.name), ...pathsOf(type?.json_schema)])].map((path) =>
        h('option', { value: path }),
      ),
    )
    replace(
      receiveBox,
      h('legend', {}, 'Fields to receive'),
      exposed.length === 0
        ? h('p', { class: 'quiet' }, 'Every field of the data is delivered.')
        : [
            h('p', { class: 'hint' }, 'None checked: every field is delivered.'),
            h(
              'div',
              { class: 'checks' },
              exposed.map((f) => {
                const id = uid('receive')
                return h(
                  'div',
                  { class: 'check' },
                  h('input', {
                    type: 'checkbox',
                    id,
                    checked: receive.has(f.name),
                    onchange: (event) => {
                      if (event.target.checked) receive.add(f.name)
                      else receive.delete(f.name)
                    },
                  }),
                  h('label', { for: id }, f.name),
                )
              }),
            ),
          ],
      receiveError.element,
    )
  }

  for (const row of conditionsFromFilters(filters ?? {}, schema)) addRow(row)
  drawReceive(eventType)

  return {
    element: [
      h(
        'p',
        { class: 'hint' },
        'Only events whose data match every condition are delivered; with none, every event is. A dotted field reaches into nested data.',
      ),
      suggestions,
      list,
      filtersError.element,
      add,
      receiveBox,
    ],
    /** The rows change: these are the targets of the errors of now. */
    targets: () => [
      ...rows,
      { paths: ['filters'], control: add, show: filtersError.show },
      { paths: ['fields'], control: receiveBox, show: receiveError.show },
    ],
    setEventType(type) {
      schema = type?.json_schema ?? null
      drawReceive(type)
    },
    read() {
      const { filters: built, problems } = filtersFromConditions(
        rows.map((row) => row.read()),
        schema,
      )
      return {
        filters: built,
        fields: receive.size > 0 ? [...receive] : null,
        problems: problems.map(({ index, message }) => ({ row: rows[index], message })),
      }
    },
  }
}
