// Running a history and checking the invariant after every step: isolation
// (check.ts, and the core's own worldProblems), a refused step changed
// nothing but the kernel log, a step inside a guest changed nothing outside
// it, and the state round-trips through the file format.

import {worldProblems} from '../../src/core/invariants.js'
import type {World} from '../../src/core/model.js'
import {worldToData} from '../../src/state/schema.js'
import {parse, serialize} from '../../src/state/store.js'
import {isolationProblems} from './check.js'
import {Lab, type Op, type Outcome, dataWithout} from './lab.js'
import type {History} from './ops.js'

export interface Stats {
  histories: number
  steps: number
  outcomes: Record<Outcome, number>
  /** Hand edits the loader refused / took. */
  editsRefused: number
  editsTaken: number
  /** Most APQNs running guests held at once on one host. */
  maxGuestApqns: number
  /** Outcomes by kind of step (hand edits by kind of edit). */
  byKind: Record<string, Partial<Record<Outcome, number>>>
}

export const newStats = (): Stats => ({histories: 0, steps: 0, outcomes: {ok: 0, refused: 0, partial: 0, read: 0}, editsRefused: 0, editsTaken: 0, maxGuestApqns: 0, byKind: {}})

export class Violation extends Error {}

function problems(w: World): string[] {
  return [...isolationProblems(w), ...worldProblems(w).map((p) => `${p.where}: ${p.message}`)]
}

/** The first line that differs between two texts, with two lines around it. */
function firstDiff(a: string, b: string): string {
  const x = a.split('\n')
  const y = b.split('\n')
  const i = x.findIndex((l, k) => l !== y[k])
  const at = i < 0 ? x.length : i
  const around = (lines: string[], sign: string) => lines.slice(Math.max(0, at - 2), at + 3).map((l) => sign + ' ' + l).join('\n')
  return `line ${at + 1}:\n${around(x, '-')}\n${around(y, '+')}`
}

async function roundTrips(w: World): Promise<string | null> {
  const data = JSON.stringify(worldToData(w))
  const again = JSON.stringify(worldToData(await parse(await serialize(w), 'state.yaml')))
  return data === again ? null : firstDiff(data, again)
}

function guestApqns(w: World): number {
  let most = 0
  for (const h of w.hosts) {
    let n = 0
    for (const g of h.guests) if (g.running && g.device) n += h.runtime.mdevs.find((m) => m.uuid === g.device!.uuid)?.shadow.apm.count() ?? 0
    most = Math.max(most, n)
  }
  return most
}

/** Run one history; throw a Violation naming the step at the first broken rule. */
export async function runHistory(hist: History, stats: Stats = newStats(), o: {yamlEveryStep?: boolean} = {}): Promise<void> {
  const lab = await Lab.create(hist.presets)
  const fail = (i: number, op: Op | null, what: string, said = ''): never => {
    throw new Violation(`step ${i}${op ? ' ' + JSON.stringify(op) : i === 0 ? ' (initial state)' : ' (end of the history)'}: ${what}${said ? `\n  said: ${said.trim()}` : ''}`)
  }
  const initial = problems(lab.world)
  if (initial.length) fail(0, null, initial.join('; '))
  stats.histories++
  for (const [i, op] of hist.ops.entries()) {
    const was = lab.world
    const wasJson = lab.json
    const r = await lab.step(op)
    stats.steps++
    stats.outcomes[r.outcome]++
    const kind = op.k === 'corrupt' ? `edit ${op.c.kind}` : op.k
    const by = (stats.byKind[kind] ??= {})
    by[r.outcome] = (by[r.outcome] ?? 0) + 1
    if (op.k === 'corrupt' && r.said !== '(nothing to edit)') r.outcome === 'refused' ? stats.editsRefused++ : stats.editsTaken++
    const now = lab.world
    if (r.outcome === 'refused' && r.atomic) {
      const a = dataWithout(was, {logs: true})
      const b = dataWithout(now, {logs: true})
      if (a !== b) fail(i + 1, op, `refused, but changed more than the kernel log: ${firstDiff(a, b)}`, r.said)
    }
    if (r.guest !== undefined) {
      const a = dataWithout(was, {guest: r.guest})
      const b = dataWithout(now, {guest: r.guest})
      if (a !== b) fail(i + 1, op, `run inside guest ${r.guest}, but changed something outside it: ${firstDiff(a, b)}`, r.said)
    }
    const p = problems(now)
    if (p.length) fail(i + 1, op, p.join('; '), r.said)
    if (lab.json !== wasJson) {
      // The data round-trips through the schema on every change (loading it back is how the
      // next step starts); through the YAML text too when asked, and at the end of every history.
      const back = JSON.stringify(worldToData(now))
      if (back !== lab.json) fail(i + 1, op, `the state's data does not load back the same: ${firstDiff(lab.json, back)}`, r.said)
      if (o.yamlEveryStep || op.k === 'corrupt') {
        const diff = await roundTrips(now)
        if (diff) fail(i + 1, op, `the state does not round-trip through the file: ${diff}`, r.said)
      }
    }
    stats.maxGuestApqns = Math.max(stats.maxGuestApqns, guestApqns(now))
  }
  const diff = await roundTrips(lab.world)
  if (diff) fail(hist.ops.length, null, `the final state does not round-trip through the file: ${diff}`)
}

/** A failure of one history: the step and the rule, or an internal error. */
export async function failureOf(hist: History, o: {yamlEveryStep?: boolean} = {}): Promise<string | null> {
  try {
    await runHistory(hist, newStats(), o)
    return null
  } catch (e) {
    return e instanceof Error ? e.message : String(e)
  }
}

/** The rule a failure names, without the step: what must still fail when steps are dropped. */
const ruleOf = (failure: string): string => failure.replace(/^step \d+ \{.*?\}: /, '').split(/[:\n]/)[0]

/**
 * Cut a failing history down by hand's method: drop one step at a time, from
 * the last to the first, and keep every drop after which the same rule still
 * breaks. fast-check shrinks inside the steps; this drops whole ones, which
 * its shrinking of recipe chunks cannot.
 */
export async function minimize(hist: History, o: {yamlEveryStep?: boolean} = {}): Promise<{history: History; failure: string}> {
  let failure = await failureOf(hist, o)
  if (failure === null) throw new Error('minimize: the history does not fail')
  const rule = ruleOf(failure)
  let ops = [...hist.ops]
  for (let i = ops.length - 1; i >= 0; i--) {
    const fewer = [...ops.slice(0, i), ...ops.slice(i + 1)]
    const f = await failureOf({presets: hist.presets, ops: fewer}, o)
    if (f !== null && ruleOf(f) === rule) {
      ops = fewer
      failure = f
    }
  }
  let presets = hist.presets
  while (presets.length > 1) {
    const f = await failureOf({presets: presets.slice(0, -1), ops}, o)
    if (f === null || ruleOf(f) !== rule) break
    presets = presets.slice(0, -1)
    failure = f
  }
  return {history: {presets, ops}, failure}
}

/** The report of a failing run: the seed to run it again, the cut-down history as code, the failure. */
export function report(seed: number, h: History, failure: string): string {
  const steps = h.ops.map((op) => '    ' + JSON.stringify(op) + ',').join('\n')
  return `isolation property failed (seed ${seed}; APLAB_PROPERTY_SEED=${seed} runs it again)\nhistory, cut down:\n  presets: ${JSON.stringify(h.presets)}\n  ops: [\n${steps}\n  ]\n${failure}`
}
