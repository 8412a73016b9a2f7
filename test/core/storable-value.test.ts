import { describe, expect, test } from 'vitest'
import { maxStoredDepth, unstorableIssues } from '../../src/core/storable-value.ts'

/** An object `depth` levels deep: `{"a":{"a":...1}}`. */
function nested(depth: number): unknown {
  let value: unknown = 1
  for (let level = 0; level < depth; level++) value = { a: value }
  return value
}

describe('unstorableIssues', () => {
  test.each([
    ['text', 'plain'],
    ['an emoji (a surrogate pair)', 'order 🎉 paid'],
    ['a number', 1.5],
    ['null', null],
    ['an object of every kind', { a: [1, 'é', { b: true }], 'c.d': null, '🎉': 'x' }],
  ])('accepts %s', (_label, value) => {
    expect(unstorableIssues(value, 'config')).toEqual([])
  })

  test('names each NUL character and unpaired surrogate, in values and in keys', () => {
    expect(
      unstorableIssues({ a: 'x\u0000', b: ['\ud800'], 'c\u0000': 1, '\udc00': 2, ok: 'fine' }, 'config'),
    ).toEqual([
      { path: 'config.a', message: 'Must not contain NUL characters.' },
      { path: 'config.b.0', message: 'Must not contain unpaired surrogate characters.' },
      { path: 'config.c\u0000', message: 'Must not contain NUL characters.' },
      { path: 'config.\udc00', message: 'Must not contain unpaired surrogate characters.' },
    ])
    expect(unstorableIssues('\ud800', 'secretKey')).toEqual([
      { path: 'secretKey', message: 'Must not contain unpaired surrogate characters.' },
    ])
  })

  test(`a value may nest ${maxStoredDepth} levels, itself included`, () => {
    expect(unstorableIssues(nested(maxStoredDepth), 'config')).toEqual([])
    const [issue, ...more] = unstorableIssues(nested(maxStoredDepth + 1), 'config')
    expect(more).toEqual([])
    expect(issue).toEqual({
      path: `config${'.a'.repeat(maxStoredDepth)}`,
      message: `Must not nest more than ${maxStoredDepth} levels deep.`,
    })
  })

  test('nesting far deeper than the stack allows is refused, not walked', () => {
    const arrays = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)
    expect(unstorableIssues(nested(200_000), 'config')).toHaveLength(1)
    expect(unstorableIssues(arrays, 'config')).toHaveLength(1)
  })

  test('without a path, issues are named from the top-level key', () => {
    expect(unstorableIssues({ '\ud800': 1 }, '')).toEqual([
      { path: '\ud800', message: 'Must not contain unpaired surrogate characters.' },
    ])
  })
})
