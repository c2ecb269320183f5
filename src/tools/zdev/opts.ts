// Options of chzdev and lszdev (s390-tools 2.43.0): getopt_long with
// opterr = 0 and zdev's own messages, the device selection options at the
// head of both opt_lists, opts.c's conflict check, and --site.

import {type OptDef, getoptLong, optName} from '../getopt.js'
import {EXIT} from './exit_code.js'
import type {ZOut, ZdevContext} from './misc.js'
import {SITE_FALLBACK} from './setting.js'

export interface ZOpt {
  long: string
  short?: string
  arg: 'none' | 'required'
  /** The option's value for long-only options (0x80 + n): getopt's optopt for `--opt=arg` of a no-argument option. */
  code?: number
}

/** The device selection options at the head of both tools' opt_list (OPT_ANONYMOUS_BASE 0x80 on). */
export const SELECTION_OPTS: readonly ZOpt[] = [
  {long: 'all', arg: 'none', code: 0x80},
  {long: 'configured', arg: 'none', code: 0x81},
  {long: 'existing', arg: 'none', code: 0x82},
  {long: 'online', arg: 'none', code: 0x83},
  {long: 'offline', arg: 'none', code: 0x84},
  {long: 'failed', arg: 'none', code: 0x85},
  {long: 'ipldev', arg: 'none', code: 0x86},
  {long: 'by-path', arg: 'required', code: 0x87},
  {long: 'by-node', arg: 'required', code: 0x88},
  {long: 'by-interface', arg: 'required', code: 0x89},
  {long: 'by-attrib', arg: 'required', code: 0x8a},
]

export type ZEvent = {kind: 'opt'; name: string; arg?: string} | {kind: 'error'; rc: number}

/**
 * getopt_long over `opts` with zdev's messages for unknown options and
 * missing arguments (syntax(), exit code 1).
 */
export function* zdevGetopt(argv: string[], opts: ZOpt[], o: ZOut, ctx: ZdevContext, operands: string[]): Generator<ZEvent> {
  const defs: OptDef[] = opts.map((d) => ({key: d.long, short: d.short, long: d.long, arg: d.arg, val: d.code}))
  const g = getoptLong(argv, defs, ctx.posixlyCorrect ?? false)
  for (const ev of g.events) {
    if (ev.kind === 'opt') {
      yield {kind: 'opt', name: ev.key, arg: ev.arg}
      continue
    }
    if (ev.kind === 'missing') {
      o.syntax(`Option '${ev.word}' requires an argument\n`)
      yield {kind: 'error', rc: EXIT.USAGE_ERROR}
      return
    }
    // `--opt=arg` of a no-argument long-only option: optopt is the option's value, printed as a byte.
    o.syntax(`Unrecognized option '${optName(ev)}'\n`)
    yield {kind: 'error', rc: EXIT.USAGE_ERROR}
    return
  }
  operands.push(...g.operands)
}

/** opts_check_conflict: the first conflict of `op` with an option given before it. */
export function checkConflict(op: string, specified: Set<string>, conflicts: Array<[string, string[]]>, o: ZOut): number {
  for (const [cop, list] of conflicts) {
    for (const c of list) {
      let b: string | null = null
      if (cop === op && specified.has(c)) b = c
      else if (c === op && specified.has(cop)) b = cop
      if (b !== null) {
        o.error(`Cannot specify '--${op}' together with '--${b}'\n`)
        return EXIT.USAGE_ERROR
      }
    }
  }
  return EXIT.OK
}

/** is_valid_site: a single digit 0..9. */
const isValidSite = (s: string): boolean => /^[0-9]$/.test(s)

/** -s/--site ID of both tools: one valid site, which selects the persistent configuration. */
export function siteOption(opts: {siteId: number; persistent: boolean}, arg: string, o: ZOut): number {
  if (!isValidSite(arg)) {
    o.syntax('Unsupported site ID\n')
    return EXIT.USAGE_ERROR
  }
  if (opts.siteId !== SITE_FALLBACK) {
    o.syntax("Cannot specify '--site' multiple times\n")
    return EXIT.USAGE_ERROR
  }
  opts.siteId = parseInt(arg, 10)
  opts.persistent = true
  return EXIT.OK
}
