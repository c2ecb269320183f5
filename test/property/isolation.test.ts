// The isolation invariant as a property (issue 9 §2): random histories over
// one to three hosts, checked after every step (history.ts).

import fc from 'fast-check'
import {describe, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {newStats, runHistory} from './history.js'
import {history} from './ops.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const RUNS = Number(process.env.APLAB_PROPERTY_RUNS ?? 200)

describe('isolation holds over random histories', () => {
  it('every step keeps it', async () => {
    const stats = newStats()
    await fc.assert(fc.asyncProperty(history(), (h) => runHistory(h, stats)), {numRuns: RUNS})
    console.log(JSON.stringify(stats, null, 1))
  })
})
