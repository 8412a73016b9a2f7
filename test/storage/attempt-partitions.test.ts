import { expect, test } from 'vitest'
import { attemptPartitionSpan, partitionsCovering } from '../../src/storage/attempt-partitions.ts'

test('the partitions wanted run from the week of now to four weeks ahead', () => {
  // A Wednesday: its week starts on Monday 2026-01-05.
  const span = attemptPartitionSpan(new Date('2026-01-07T12:00:00Z'))
  expect(partitionsCovering(span.from, span.to).map((p) => p.name)).toEqual([
    'attempts_20260105',
    'attempts_20260112',
    'attempts_20260119',
    'attempts_20260126',
    'attempts_20260202',
  ])
})
