// The clap 4 parser as mdevctl's derive builds it: Command::get_matches
// over argv with clap's usage errors (exit 2), help and version (exit 0),
// did-you-mean suggestions, the `help` subcommand, and the Validator's
// conflict and required-argument checks. The command definitions are in
// cli.ts; the texts come from views/mdevctl.ts.

import {
  type ClapArg,
  type ClapCmd,
  argText,
  clapError,
  didYouMean,
  findArg,
  findGroup,
  groupsForArg,
  helpText,
  requiredGraph,
  requiredUsage,
  similarText,
  usageTitled,
  versionText,
} from '../../views/mdevctl.js'
import {parseUuid} from './uuid.js'

/** clap's exit: help/version on stdout (0) or a usage error on stderr (2). */
export class ClapExit extends Error {
  constructor(
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super('clap')
  }
}

/** Marks the `help` subcommand clap adds (cli.ts sets it). */
export const CLAP_HELP = Symbol('clap help subcommand')

export interface Matches {
  cmd: ClapCmd
  vals: Map<string, unknown>
  sub?: Matches
}

const hasHelpFlag = (cmd: ClapCmd): boolean => cmd.args.some((a) => a.action === 'help')
const hasPositionals = (cmd: ClapCmd): boolean => cmd.args.some((a) => a.action === 'pos')
const isClapHelp = (cmd: ClapCmd): boolean => (cmd as ClapCmd & {[CLAP_HELP]?: true})[CLAP_HELP] === true

const usageError = (cmd: ClapCmd, parts: Parameters<typeof clapError>[0]): ClapExit =>
  new ClapExit(2, '', clapError({...parts, tryHelp: hasHelpFlag(cmd) || (cmd.subcommands.length > 0 && !isClapHelp(cmd))}))

/** i64::from_str then the u32 range check of clap's RangedI64ValueParser. */
function parseU32(raw: string): {value: number} | {error: string} {
  if (raw === '') return {error: 'cannot parse integer from empty string'}
  if (!/^[+-]?\d+$/.test(raw)) return {error: 'invalid digit found in string'}
  const v = BigInt(raw)
  if (v > 2n ** 63n - 1n) return {error: 'number too large to fit in target type'}
  if (v < -(2n ** 63n)) return {error: 'number too small to fit in target type'}
  if (v < 0n || v > 4294967295n) return {error: `${v} is not in 0..=4294967295`}
  return {value: Number(v)}
}

/** Command::get_matches for `cmd` over `args` (without argv[0]); throws ClapExit. */
export function getMatches(cmd: ClapCmd, args: string[], start = 0): Matches {
  /** The matcher: explicit args and the groups they belong to, in insertion order. */
  const m = new Map<string, unknown[]>()
  let pending: {id: string; ident: 'short' | 'long' | 'index'; raw: string[]} | null = null
  let optState: string | null = null
  let posCounter = 1
  let trailing = false
  let sub: Matches | undefined
  const explicit = (id: string): boolean => m.has(id)

  const startCustomArg = (a: ClapArg): void => {
    if (!m.has(a.id)) m.set(a.id, [])
    for (const g of groupsForArg(cmd, a.id)) {
      if (!m.has(g)) m.set(g, [])
      m.get(g)!.push(a.id)
    }
  }

  const parseValue = (a: ClapArg, raw: string): unknown => {
    const invalid = (why: string): never => {
      throw usageError(cmd, {message: `invalid value '${raw}' for '${argText(a)}': ${why}`})
    }
    switch (a.parser) {
      case 'uuid': {
        const r = parseUuid(raw)
        return 'uuid' in r ? r.uuid : invalid(r.error)
      }
      case 'u32': {
        const r = parseU32(raw)
        return 'value' in r ? r.value : invalid(r.error)
      }
      case 'path':
        if (raw === '') throw usageError(cmd, {message: `a value is required for '${argText(a)}' but none was supplied`})
        return raw
      default:
        return raw
    }
  }

  const resolvePending = (): void => {
    if (!pending) return
    const p = pending
    pending = null
    react(findArg(cmd, p.id)!, p.ident, p.raw)
  }
  const resolveQuietly = (): void => {
    try {
      resolvePending()
    } catch (e) {
      if (!(e instanceof ClapExit)) throw e
    }
  }

  const react = (a: ClapArg, ident: 'short' | 'long' | 'index', raw: string[]): void => {
    resolvePending()
    if ((a.action === 'opt' || a.action === 'pos') && raw.length === 0)
      throw usageError(cmd, {message: `a value is required for '${argText(a)}' but none was supplied`})
    if (a.action === 'help') throw new ClapExit(0, helpText(cmd, ident !== 'short'), '')
    if (a.action === 'version') throw new ClapExit(0, versionText(cmd), '')
    if (m.has(a.id)) {
      m.delete(a.id)
      throw usageError(cmd, {message: `the argument '${argText(a)}' cannot be used multiple times`, usage: usageTitled(cmd)})
    }
    startCustomArg(a)
    if (a.action === 'flag') m.get(a.id)!.push(true)
    else for (const r of raw) m.get(a.id)!.push(parseValue(a, r))
  }

  const parseOptValue = (a: ClapArg, ident: 'short' | 'long', attached: string | undefined): string | null => {
    if (attached !== undefined) {
      react(a, ident, [attached])
      return null
    }
    resolvePending()
    pending = {id: a.id, ident, raw: []}
    return a.id
  }

  const unknownArgument = (arg: string, similar: string | undefined, tips: string[], usage: string): ClapExit =>
    usageError(cmd, {message: `unexpected argument '${arg}' found`, ...(similar ? {similar} : {}), tips, usage})

  const didYouMeanError = (name: string, remaining: string[]): ClapExit => {
    const longs = cmd.args.filter((a) => a.long).map((a) => a.long!)
    let dym: [string, string | null] | null = null
    const best = didYouMean(name, longs).pop()
    if (best !== undefined) dym = [best, null]
    else {
      let score = Infinity
      for (const sc of cmd.subcommands) {
        const cand = didYouMean(
          name,
          sc.args.filter((a) => a.long).map((a) => a.long!),
        ).pop()
        const at = remaining.indexOf(sc.name)
        if (cand === undefined || at < 0) continue
        if (at < score) {
          score = at
          dym = [cand, sc.name]
        }
      }
    }
    if (dym && dym[1] === null) startCustomArg(cmd.args.find((a) => a.long === dym![0])!)
    // Only arguments: the usage lines clap prints never show the derive's implicit groups.
    const used = [...m.keys()].filter((id) => findArg(cmd, id))
    const tips: string[] = []
    if (!dym && !trailing && hasPositionals(cmd)) tips.push(`to pass '--${name}' as a value, use '-- --${name}'`)
    if (dym && dym[1] !== null) tips.push(`'${dym[1]} --${dym[0]}' exists`)
    return unknownArgument(`--${name}`, dym && dym[1] === null ? similarText('argument', [`--${dym[0]}`]) : undefined, tips, usageTitled(cmd, used))
  }

  const matchArgError = (arg: string): ClapExit => {
    if (trailing && cmd.subcommands.some((s) => s.name === arg))
      return unknownArgument(arg, undefined, [`subcommand '${arg}' exists; to use it, remove the '--' before it`], usageTitled(cmd))
    const candidates = didYouMean(
      arg,
      cmd.subcommands.map((s) => s.name),
    )
    if (candidates.length) {
      const tips = !trailing && hasPositionals(cmd) ? [`to pass '${arg}' as a value, use '${cmd.bin} -- ${arg}'`] : []
      return usageError(cmd, {message: `unrecognized subcommand '${arg}'`, similar: similarText('subcommand', candidates), tips, usage: usageTitled(cmd)})
    }
    if (cmd.subcommands.length && !hasPositionals(cmd)) return usageError(cmd, {message: `unrecognized subcommand '${arg}'`, usage: usageTitled(cmd)})
    const looksLikeFlag = arg.startsWith('-') && arg !== '-'
    const tips = !trailing && hasPositionals(cmd) && looksLikeFlag ? [`to pass '${arg}' as a value, use '-- ${arg}'`] : []
    return unknownArgument(arg, undefined, tips, usageTitled(cmd))
  }

  let i = start
  outer: while (i < args.length) {
    const arg = args[i++]
    if (!trailing) {
      if (optState === null) {
        const sc = cmd.subcommands.find((s) => s.name === arg)
        if (sc) {
          if (isClapHelp(sc)) helpSubcommand(cmd, args.slice(i))
          sub = getMatches(sc, args, i)
          break
        }
      }
      if (arg === '--') {
        trailing = true
        continue
      }
      if (arg.startsWith('--')) {
        const body = arg.slice(2)
        const eq = body.indexOf('=')
        const name = eq < 0 ? body : body.slice(0, eq)
        const value = eq < 0 ? undefined : body.slice(eq + 1)
        const a = cmd.args.find((x) => x.long === name)
        if (!a) {
          resolveQuietly()
          throw didYouMeanError(name, args.slice(i))
        }
        if (a.action === 'opt') optState = parseOptValue(a, 'long', value)
        else if (value !== undefined) {
          resolveQuietly()
          const used = [...m.keys()].filter((id) => findArg(cmd, id) && !requiredGraph(cmd).includes(id))
          used.push(a.id)
          throw usageError(cmd, {message: `unexpected value '${value}' for '${argText(a)}' found; no more were expected`, usage: usageTitled(cmd, used)})
        } else {
          react(a, 'long', [])
          optState = null
        }
        continue
      }
      if (arg.startsWith('-') && arg !== '-') {
        const chars = [...arg.slice(1)]
        for (let k = 0; k < chars.length; k++) {
          const a = cmd.args.find((x) => x.short === chars[k])
          if (!a) {
            resolveQuietly()
            throw unknownArgument(`-${chars[k]}`, undefined, !trailing && hasPositionals(cmd) ? [`to pass '-${chars[k]}' as a value, use '-- -${chars[k]}'`] : [], usageTitled(cmd))
          }
          if (a.action !== 'opt') {
            react(a, 'short', [])
            continue
          }
          let val: string | undefined = chars.slice(k + 1).join('')
          if (val === '') val = undefined
          else if (val.startsWith('=')) val = val.slice(1)
          optState = parseOptValue(a, 'short', val)
          continue outer
        }
        optState = null
        continue
      }
      if (optState !== null) {
        pending!.raw.push(arg)
        optState = null
        continue
      }
    }
    const pos = cmd.args.find((a) => a.action === 'pos' && a.index === posCounter)
    if (pos) {
      if ((pending as {id: string} | null)?.id !== pos.id) resolvePending()
      pending = {id: pos.id, ident: 'index', raw: [arg]}
      posCounter++
      continue
    }
    resolveQuietly()
    throw matchArgError(arg)
  }

  resolvePending()
  validate(cmd, m, explicit, sub !== undefined)
  const vals = new Map<string, unknown>()
  for (const [id, v] of m) if (findArg(cmd, id)) vals.set(id, v[0])
  return sub ? {cmd, vals, sub} : {cmd, vals}
}

/** The `help` subcommand: long help of the named (sub)command. */
function helpSubcommand(top: ClapCmd, names: string[]): never {
  let sc = top
  for (const name of names) {
    const next = sc.subcommands.find((s) => s.name === name)
    if (!next) throw usageError(sc, {message: `unrecognized subcommand '${name}'`, usage: usageTitled(sc)})
    sc = next
  }
  throw new ClapExit(0, helpText(sc, true), '')
}

function directConflicts(cmd: ClapCmd, id: string): string[] {
  const a = findArg(cmd, id)
  if (!a) return []
  const out = [...(a.conflicts ?? [])]
  for (const g of groupsForArg(cmd, id)) {
    const group = findGroup(cmd, g)!
    if (!group.multiple) out.push(...group.args.filter((x) => x !== id))
  }
  return out
}

/** Validator::validate */
function validate(cmd: ClapCmd, m: Map<string, unknown[]>, explicit: (id: string) => boolean, hasSub: boolean): void {
  if (!hasSub && cmd.argRequiredElseHelp && m.size === 0) throw new ClapExit(2, '', helpText(cmd, false))
  if (!hasSub && cmd.subcommandRequired) throw usageError(cmd, {message: `'${cmd.bin}' requires a subcommand but one was not provided`, usage: usageTitled(cmd)})
  const ids = [...m.keys()]
  const potential = new Map(ids.map((id) => [id, directConflicts(cmd, id)]))
  const gather = (id: string): string[] => {
    const own = potential.get(id) ?? directConflicts(cmd, id)
    const out: string[] = []
    for (const [other, theirs] of potential) {
      if (other === id) continue
      if (own.includes(other)) out.push(other)
      if (theirs.includes(id)) out.push(other)
    }
    return out
  }
  // Conflicts
  for (const id of ids) {
    if (!findArg(cmd, id)) continue
    const conflicts = gather(id)
    if (!conflicts.length) continue
    const seen: string[] = []
    for (const c of conflicts) for (const x of findGroup(cmd, c)?.args ?? [c]) if (!seen.includes(x)) seen.push(x)
    const texts = seen.map((x) => argText(findArg(cmd, x)!))
    const usedFiltered = ids.filter((x) => findArg(cmd, x) && !conflicts.includes(x))
    const required = [
      ...usedFiltered.flatMap((x) => findArg(cmd, x)!.requires ?? []).filter((x) => !usedFiltered.includes(x) && !conflicts.includes(x)),
      ...usedFiltered,
    ]
    const former = argText(findArg(cmd, id)!)
    const message =
      texts.length === 1
        ? `the argument '${former}' cannot be used with '${texts[0]}'`
        : `the argument '${former}' cannot be used with:` + texts.map((t) => `\n  ${t}`).join('')
    throw usageError(cmd, {message, usage: usageTitled(cmd, required)})
  }
  // Required
  const required = requiredGraph(cmd)
  for (const id of ids) {
    if (!findArg(cmd, id)) continue
    const queue = [...(findArg(cmd, id)!.requires ?? [])]
    const done: string[] = []
    while (queue.length) {
      const r = queue.pop()!
      if (done.includes(r)) continue
      done.push(r)
      if (!required.includes(r)) required.push(r)
      queue.push(...(findArg(cmd, r)?.requires ?? []))
    }
  }
  const missing: string[] = []
  for (const r of required.filter((x) => !explicit(x))) {
    const a = findArg(cmd, r)
    if (a) {
      const ok = gather(r).length > 0 || groupsForArg(cmd, r).some((g) => gather(g).length > 0)
      if (!ok) missing.push(r)
    } else if (!findGroup(cmd, r)!.args.some(explicit)) missing.push(r)
  }
  for (const a of cmd.args) if (!explicit(a.id) && a.requiredUnless && !a.requiredUnless.some(explicit)) missing.push(a.id)
  if (missing.length) {
    const lines = requiredUsage(cmd, required, missing, explicit)
    const used = [...ids.filter((x) => findArg(cmd, x)), ...missing]
    throw usageError(cmd, {
      message: 'the following required arguments were not provided:' + lines.map((l) => `\n  ${l}`).join(''),
      usage: usageTitled(cmd, used, required),
    })
  }
}
