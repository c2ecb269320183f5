// The histories part of `npm run soak` (scripts/soak.mjs bundles this file):
// the same property as isolation.test.ts, with many more runs.

import fc from 'fast-check'

import {setClock} from '../../src/core/clock.js'
import {type Stats, minimize, newStats, report, runHistory} from './history.js'
import {history} from './ops.js'

export interface SoakResult {
  stats: Stats
  seed: number
  /** The report of the shrunk and cut-down counterexample, or null when every history held. */
  failure: string | null
}

export async function soakHistories(runs: number, seed: number, o: {yamlEveryStep?: boolean; maxChunks?: number; progress?: (s: Stats) => void} = {}): Promise<SoakResult> {
  setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))
  // Counted over every history run, those run again while shrinking a counterexample included.
  const stats = newStats()
  const r = await fc.check(
    fc.asyncProperty(history({maxChunks: o.maxChunks}), async (h) => {
      await runHistory(h, stats, {yamlEveryStep: o.yamlEveryStep})
      if (stats.histories % 500 === 0) o.progress?.(stats)
    }),
    {numRuns: runs, seed},
  )
  if (!r.failed) return {stats, seed, failure: null}
  const m = await minimize(r.counterexample![0], {yamlEveryStep: o.yamlEveryStep})
  return {stats, seed, failure: report(r.seed, m.history, m.failure)}
}
