// GNU getopt_long as glibc implements it, with libutil's error reporting:
// options and operands may be mixed (operands are permuted to the end unless
// POSIXLY_CORRECT is set), short options bundle, long options may be
// abbreviated to a unique prefix, `--` ends the options.

export interface OptDef {
  /** The value getopt returns: the short option letter, or a name for long-only options. */
  key: string
  short?: string
  long?: string
  arg: 'none' | 'required'
}

export type GetoptEvent =
  | {kind: 'opt'; key: string; arg?: string}
  /** libutil prints: `Invalid option '<word>'`. */
  | {kind: 'invalid'; word: string}
  /** libutil prints: `Option '<word>' requires an argument`. */
  | {kind: 'missing'; word: string}

export interface Getopt {
  events: Generator<GetoptEvent>
  /** Operands, complete once the events are exhausted. */
  operands: string[]
}

export function getoptLong(argv: string[], defs: OptDef[], posixlyCorrect = process.env.POSIXLY_CORRECT !== undefined): Getopt {
  const operands: string[] = []
  function* run(): Generator<GetoptEvent> {
    let i = 0
    while (i < argv.length) {
      const word = argv[i++]
      if (word === '--') {
        operands.push(...argv.slice(i))
        return
      }
      if (word.length < 2 || word[0] !== '-') {
        operands.push(word)
        if (posixlyCorrect) {
          operands.push(...argv.slice(i))
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
          yield {kind: 'invalid', word}
          continue
        }
        if (def.arg === 'none') {
          if (eq >= 0) yield {kind: 'invalid', word: def.short ? `-${def.short}` : word}
          else yield {kind: 'opt', key: def.key}
          continue
        }
        if (eq >= 0) yield {kind: 'opt', key: def.key, arg: word.slice(eq + 1)}
        else if (i < argv.length) yield {kind: 'opt', key: def.key, arg: argv[i++]}
        else yield {kind: 'missing', word}
        continue
      }
      for (let k = 1; k < word.length; k++) {
        const c = word[k]
        const def = c === ':' ? undefined : defs.find((d) => d.short === c)
        if (!def) {
          yield {kind: 'invalid', word: `-${c}`}
          continue
        }
        if (def.arg === 'none') {
          yield {kind: 'opt', key: def.key}
          continue
        }
        if (k + 1 < word.length) yield {kind: 'opt', key: def.key, arg: word.slice(k + 1)}
        else if (i < argv.length) yield {kind: 'opt', key: def.key, arg: argv[i++]}
        else yield {kind: 'missing', word}
        break
      }
    }
  }
  return {events: run(), operands}
}
