import { expect, test } from 'vitest'
import { bind } from '../../src/storage/sql/statement.ts'
import { storeStatements } from '../../src/storage/store.ts'

test('bind gives the values in placeholder order and refuses a misnumbered one', () => {
  expect(bind({ $1: 'a', $2: null, $3: [1, 2] })).toEqual(['a', null, [1, 2]])
  expect(() => bind({ $1: 'a', $3: 'b' })).toThrow('placeholder $3 is out of order (expected $2)')
})

test('every statement of the store is named, with its text for the schema', () => {
  const texts = storeStatements('tenant_a')
  expect(texts.get('deliveryClaim')).toContain('"tenant_a".deliveries')
  expect(new Set(texts.values()).size).toBe(texts.size)
})
