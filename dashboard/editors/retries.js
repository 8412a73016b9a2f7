import { ApiError } from '../api.js'
import { timeline } from '../charts.js'
import { h, replace } from '../dom.js'
import * as format from '../format.js'
import { choice, errorLine, errorMessage, field, notice, showFieldErrors, table } from '../widgets.js'

/** The unit a kwarg is counted in, by its name, for its hint. */
function unitOf(name) {
  return /seconds|base|limit|value/.test(name) ? 'in seconds' : null
}

/**
 * Step 3 of the webhook form: a countdown, its kwargs (inputs made from their JSON Schema), and
 * the retry schedule they give, as the API computes it, drawn as a timeline.
 */
export function retriesEditor({ api, countdowns, config }) {
  const select = choice(
    countdowns.countdowns.map(({ choice: name }) => [name, name]),
    config.choice,
  )
  const choiceField = field({ label: 'Countdown', control: select, paths: ['retry_countdown_config.choice'] })
  const kwargsError = errorLine([])
  const kwargsTarget = {
    paths: ['retry_countdown_config', 'retry_countdown_config.kwargs'],
    control: select,
    show: kwargsError.show,
  }
  const kwargsBox = h('div', { class: 'kwargs' })
  const schedule = h('div', { class: 'schedule', 'aria-live': 'polite' })
  let kwargFields = []
  let timer = null
  let latest = 0

  function drawKwargs(kwargs) {
    const definition = countdowns.countdowns.find((c) => c.choice === select.value)
    const properties = definition?.kwargs_schema?.properties ?? {}
    const required = new Set(definition?.kwargs_schema?.required ?? [])
    kwargFields = Object.entries(properties).map(([name, schema]) => {
      const options = [schema, ...(schema.anyOf ?? [])]
      const integer = options.some((option) => option.type === 'integer')
      const input = h('input', {
        type: integer ? 'number' : 'text',
        min: options.find((option) => option.minimum !== undefined)?.minimum,
        step: integer ? '1' : undefined,
        required: required.has(name),
        value: kwargs[name] ?? '',
        placeholder: schema.default !== undefined ? String(schema.default) : undefined,
        oninput: () => soon(),
      })
      const hint = [
        required.has(name) ? 'Required' : 'Optional',
        schema.default !== undefined ? `default ${schema.default}` : null,
        unitOf(name),
      ]
      const item = field({
        label: name,
        control: input,
        hint: hint.filter(Boolean).join(', '),
        paths: [`retry_countdown_config.kwargs.${name}`],
      })
      return { ...item, name, integer }
    })
    replace(
      kwargsBox,
      kwargFields.map((item) => item.element),
      kwargsError.element,
    )
  }

  function read() {
    const kwargs = {}
    for (const item of kwargFields) {
      const raw = item.control.value.trim()
      if (raw !== '') kwargs[item.name] = item.integer && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw
    }
    return { choice: select.value, kwargs }
  }

  function soon() {
    window.clearTimeout(timer)
    timer = window.setTimeout(() => void draw(), 250)
  }

  function drawSchedule(answer) {
    const last = answer.retries.at(-1)
    const ranged = answer.retries.some((retry) => retry.at_max_seconds > retry.at_min_seconds)
    const span = format.seconds(last?.at_seconds ?? 0)
    replace(
      schedule,
      h(
        'p',
        { class: 'schedule-summary' },
        `${answer.max_attempts} attempts at most, the last ${span} after the first`,
        ranged
          ? ` (between ${format.seconds(last.at_min_seconds)} and ${format.seconds(last.at_max_seconds)}: the waits are drawn at random)`
          : '',
        '. Then the delivery is failed.',
      ),
      h(
        'figure',
        { class: 'timeline' },
        timeline({
          retries: answer.retries,
          label: `Retry timeline: ${answer.max_attempts} attempts over ${span}`,
        }),
        h('figcaption', {}, 'Each attempt after the first, on a square-root scale of time.'),
      ),
      h(
        'details',
        {},
        h('summary', {}, 'Every attempt'),
        table({
          caption: 'When each retry comes',
          headers: ['Attempt', 'Waits', 'After the first attempt'],
          rows: answer.retries.map((retry) => [
            String(retry.attempt),
            retry.wait_max_seconds > retry.wait_min_seconds
              ? `${format.seconds(retry.wait_min_seconds)} to ${format.seconds(retry.wait_max_seconds)}`
              : format.seconds(retry.wait_seconds),
            format.seconds(retry.at_seconds),
          ]),
        }),
      ),
    )
  }

  async function draw() {
    const request = ++latest
    const targets = [choiceField, kwargsTarget, ...kwargFields]
    const missing = kwargFields.filter((item) => item.control.required && item.control.value.trim() === '')
    if (missing.length > 0) {
      showFieldErrors(targets, {})
      const names = missing.map((item) => item.name).join(' and ')
      replace(schedule, h('p', { class: 'quiet' }, `Fill in ${names} to see the schedule.`))
      return
    }
    try {
      const answer = await api.post('countdowns/schedule/', { retry_countdown_config: read() })
      if (request !== latest) return
      showFieldErrors(targets, {})
      drawSchedule(answer)
    } catch (error) {
      if (request !== latest) return
      if (error instanceof ApiError && error.status === 400) {
        showFieldErrors(targets, error.errors)
        replace(schedule, h('p', { class: 'quiet' }, 'Fix the countdown to see its schedule.'))
      } else replace(schedule, notice('error', errorMessage(error)))
    }
  }

  select.addEventListener('change', () => {
    drawKwargs({})
    void draw()
  })
  drawKwargs(config.kwargs)
  void draw()

  return {
    element: [choiceField.element, kwargsBox, schedule],
    targets: () => [choiceField, kwargsTarget, ...kwargFields],
    read,
  }
}
