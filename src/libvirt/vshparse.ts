// virsh's command-line grammar (tools/vsh.c vshCommandParse and
// vshCommandCheckOpts): a command, then its options as `--name value`,
// `--name=value` or bare values filling the positional options in order.

import {VirshFailure} from './errors.js'

export interface OptDef {
  name: string
  type: 'bool' | 'string' | 'argv'
  /** Filled by a bare word (data options, in table order). */
  positional?: boolean
  required?: boolean
  /** What the help shows for the value (`<string>`, `<number>`). */
  help: string
}

export interface CmdDef {
  name: string
  summary: string
  opts: OptDef[]
  /** Mutually exclusive option pairs (VSH_EXCLUSIVE_OPTIONS). */
  exclusive?: Array<[string, string]>
}

export interface ParsedCmd {
  def: CmdDef
  bools: Set<string>
  strings: Map<string, string>
  argv: string[]
}

const fail = (line: string): never => {
  throw new VirshFailure([line])
}

/** One command's words (after the command name) against its option table. */
export function parseCommand(def: CmdDef, words: readonly string[]): ParsedCmd {
  const out: ParsedCmd = {def, bools: new Set(), strings: new Map(), argv: []}
  const byName = new Map(def.opts.map((o) => [o.name, o]))
  const positional = def.opts.filter((o) => o.positional)
  let onlyData = false
  const nextPositional = (): OptDef | undefined => positional.find((o) => (o.type === 'argv' ? true : !out.strings.has(o.name)))
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (!onlyData && w === '--') {
      onlyData = true
      continue
    }
    if (!onlyData && w.startsWith('--') && w.length > 2) {
      const eq = w.indexOf('=')
      const name = eq < 0 ? w.slice(2) : w.slice(2, eq)
      const o = byName.get(name)
      if (!o) fail(`command '${def.name}' doesn't support option --${name}`)
      if (o!.type === 'bool') {
        if (eq >= 0) fail(`invalid '=' after option --${name}`)
        out.bools.add(name)
        continue
      }
      let v: string | undefined = eq >= 0 ? w.slice(eq + 1) : words[++i]
      if (v === undefined) fail(`expected syntax: --${name} ${o!.help}`)
      if (o!.type === 'argv') out.argv.push(v!)
      else {
        if (out.strings.has(name)) fail(`option --${name} already seen`)
        out.strings.set(name, v!)
      }
      continue
    }
    const o = nextPositional()
    if (!o) fail(`unexpected data '${w}'`)
    if (o!.type === 'argv') out.argv.push(w)
    else out.strings.set(o!.name, w)
  }
  for (const o of def.opts)
    if (o.required && (o.type === 'argv' ? out.argv.length === 0 : !out.strings.has(o.name) && !out.bools.has(o.name)))
      fail(`command '${def.name}' requires <${o.name}> option`)
  for (const [a, b] of def.exclusive ?? [])
    if ((out.bools.has(a) || out.strings.has(a)) && (out.bools.has(b) || out.strings.has(b))) fail(`Options --${a} and --${b} are mutually exclusive`)
  return out
}
