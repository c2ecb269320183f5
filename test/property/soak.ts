// The histories part of `npm run soak` (scripts/soak.mjs bundles this file):
// the same property as isolation.test.ts, with many more runs.

import fc from 'fast-check'

import {setClock} from '../../src/core/clock.js'
import {type Stats, newStats, runHistory} from './history.js'
import {history} from './ops.js'

export interface SoakResult {
  stats: Stats
  seed: number
  /** fast-check's report of the shrunk counterexample, or null when every history held. */
  failure: string | null
}

export async function soakHistories(runs: number, seed: number, o: {yamlEveryStep?: boolean; progress?: (s: Stats) => void} = {}): Promise<SoakResult> {
  setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))
  // Counted over every history run, those run again while shrinking a counterexample included.
  const stats = newStats()
  const r = await fc.check(
    fc.asyncProperty(history(), async (h) => {
      await runHistory(h, stats, {yamlEveryStep: o.yamlEveryStep})
      if (stats.histories % 500 === 0) o.progress?.(stats)
    }),
    {numRuns: runs, seed},
  )
  return {stats, seed, failure: r.failed ? (fc.defaultReportMessage(r) ?? 'failed') : null}
}
