// GNU getopt_long as glibc implements it (posix/getopt.c), with libutil's
// error reporting: options and operands may be mixed (operands are permuted to
// the end unless POSIXLY_CORRECT is set), short options bundle, long options
// may be abbreviated to a unique prefix, `--` ends the options. Short option
// clusters are read byte by byte, as C does: `-ä` is the byte 0xc3, then 0xa4.

import {cChar} from './libc.js'

export interface OptDef {
  /** The value getopt returns: the short option letter, or a name for long-only options. */
  key: string
  short?: string
  long?: string
  /** `optional`: a value only as `--name=VALUE` or right after the letter (`-vVALUE`). */
  arg: 'none' | 'required' | 'optional'
  /**
   * The int `val` of a long option without a letter (s390-tools number them
   * from 0x80). glibc puts it into optopt when such an option is given a value
   * it does not take (`--cardonly=1`); with a letter, optopt is the letter.
   */
  val?: number
}

/** An option of a table: its getopt key, short letter, long name, and whether it takes a value. */
export const opt = (key: string, short?: string, long?: string, arg: OptDef['arg'] = 'none'): OptDef => ({key, short, long, arg})

export type GetoptEvent =
  /** `word`: the argument the option was read from (`--name...` when given by its long name). */
  | {kind: 'opt'; key: string; arg?: string; word?: string}
  /**
   * getopt returned '?'. `word` is argv[optind - 1]; `optopt` is 0 for an
   * unknown or ambiguous long option, else the option character (or a long
   * option's val). libutil prints `Invalid option '-<optopt>'` or, for 0,
   * `Invalid option '<word>'`: see optName.
   */
  | {kind: 'invalid'; word: string; optopt: number}
  /** libutil prints: `Option '<word>' requires an argument`. */
  | {kind: 'missing'; word: string; key: string}

export interface Getopt {
  events: Generator<GetoptEvent>
  /** Operands, complete once the events are exhausted. */
  operands: string[]
  /** Where each operand stands in argv (getopt permutes the pointers, not the strings). */
  positions: number[]
}

export function getoptLong(argv: string[], defs: OptDef[], posixlyCorrect = process.env.POSIXLY_CORRECT !== undefined): Getopt {
  const operands: string[] = []
  const positions: number[] = []
  const rest = (from: number): void => {
    for (let k = from; k < argv.length; k++) {
      operands.push(argv[k])
      positions.push(k)
    }
  }
  function* run(): Generator<GetoptEvent> {
    let i = 0
    while (i < argv.length) {
      const word = argv[i++]
      if (word === '--') {
        rest(i)
        return
      }
      if (word.length < 2 || word[0] !== '-') {
        operands.push(word)
        positions.push(i - 1)
        if (posixlyCorrect) {
          rest(i)
          return
        }
        continue
      }
      if (word.startsWith('--')) {
        const eq = word.indexOf('=')
        const name = word.slice(2, eq < 0 ? undefined : eq)
        const exact = defs.find((d) => d.long === name)
        const prefixed = defs.filter((d) => d.long?.startsWith(name))
        const distinct = prefixed.filter((d, k) => prefixed.findIndex((e) => e.key === d.key && e.arg === d.arg) === k)
        const def = exact ?? (distinct.length === 1 ? prefixed[0] : undefined)
        if (!def) {
          yield {kind: 'invalid', word, optopt: 0}
          continue
        }
        if (def.arg === 'none') {
          // getopt.c process_long_option: "doesn't allow an argument", optopt = pfound->val.
          if (eq >= 0) yield {kind: 'invalid', word, optopt: def.short ? def.short.charCodeAt(0) : (def.val ?? 0)}
          else yield {kind: 'opt', key: def.key, word}
          continue
        }
        if (eq >= 0) yield {kind: 'opt', key: def.key, arg: word.slice(eq + 1), word}
        else if (def.arg === 'optional') yield {kind: 'opt', key: def.key, word}
        else if (i < argv.length) yield {kind: 'opt', key: def.key, arg: argv[i++], word}
        else yield {kind: 'missing', word, key: def.key}
        continue
      }
      // The cluster's bytes: option letters are ASCII, so an argument cut after one starts on a character.
      const bytes = Buffer.from(word, 'utf8')
      for (let k = 1; k < bytes.length; k++) {
        const b = bytes[k]
        const c = String.fromCharCode(b)
        const def = b >= 0x80 || c === ':' ? undefined : defs.find((d) => d.short === c)
        if (!def) {
          yield {kind: 'invalid', word, optopt: b}
          continue
        }
        if (def.arg === 'none') {
          yield {kind: 'opt', key: def.key}
          continue
        }
        if (k + 1 < bytes.length) yield {kind: 'opt', key: def.key, arg: bytes.subarray(k + 1).toString('utf8')}
        else if (def.arg === 'optional') yield {kind: 'opt', key: def.key}
        else if (i < argv.length) yield {kind: 'opt', key: def.key, arg: argv[i++]}
        else yield {kind: 'missing', word, key: def.key}
        break
      }
    }
  }
  return {events: run(), operands, positions}
}

/** util_opt_print_parse_error's name for an invalid option: `-%c` of optopt, else argv[optind - 1]. */
export const optName = (ev: {word: string; optopt: number}): string => (ev.optopt ? '-' + cChar(ev.optopt) : ev.word)

/** glibc's getopt messages for a failed option, as PROG prints them (argv[0] is the command's name). */
export function getoptMessage(prog: string, ev: {kind: 'invalid'; word: string; optopt: number} | {kind: 'missing'; word: string}, defs: OptDef[]): string {
  if (ev.kind === 'missing') {
    if (ev.word.startsWith('--')) {
      const name = ev.word.slice(2).split('=')[0]
      const d = defs.find((x) => x.long === name) ?? defs.find((x) => x.long?.startsWith(name))
      return `${prog}: option '--${d?.long ?? name}' requires an argument\n`
    }
    return `${prog}: option requires an argument -- '${ev.word.slice(-1)}'\n`
  }
  if (ev.word.startsWith('--')) {
    if (ev.optopt === 0) return `${prog}: unrecognized option '${ev.word}'\n`
    const name = ev.word.slice(2).split('=')[0]
    const d = defs.find((x) => x.long === name) ?? defs.find((x) => x.long?.startsWith(name))
    return `${prog}: option '--${d?.long ?? name}' doesn't allow an argument\n`
  }
  return `${prog}: invalid option -- '${cChar(ev.optopt)}'\n`
}
