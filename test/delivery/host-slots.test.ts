import { expect, test } from 'vitest'
import { HostSlots } from '../../src/delivery/host-slots.ts'
import type { ClaimedDelivery } from '../../src/storage/store.ts'

const delivery = (id: number) => ({ id }) as ClaimedDelivery

test('a full host’s deliveries are given back paced, but never for longer than the longest delay', () => {
  const slots = new HostSlots(1, 1_000)
  const now = 1_000_000
  expect(slots.admit('h', delivery(1), now, false)).toEqual({ kind: 'start' })
  expect(slots.admit('h', delivery(2), now, false)).toEqual({ kind: 'park' })
  const times: number[] = []
  for (let id = 3; id < 200; id += 1) {
    const admission = slots.admit('h', delivery(id), now, false)
    if (admission.kind !== 'release') throw new Error(`expected a release, got ${admission.kind}`)
    times.push(admission.at)
  }
  // Paced: each one later than the one before, until the bound.
  expect(times[1]! - times[0]!).toBeGreaterThan(0)
  expect(Math.max(...times)).toBeLessThanOrEqual(now + 1_000)
  expect(Math.min(...times)).toBeGreaterThan(now)
})
