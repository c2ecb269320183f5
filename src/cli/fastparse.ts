// The plain command lines of the aplab commands, parsed without oclif.
//
// oclif's parser (@oclif/core lib/parser) costs a call more than most
// commands do: loading it runs most of oclif (its errors load its help). This
// parser takes only what it can answer exactly as oclif would: known long
// flags (`--name value`, `--name=value`), known short ones (`-c value`, `-c`),
// repeated flags that are `multiple` and not greedy, and every argument given.
// Anything else (an unknown or bundled option, a value that looks like an
// option, `--`, a missing argument (oclif would read it from standard input),
// a value outside its options, flags with relationships, a missing required
// flag) is not decided here: the caller hands the line to oclif's parser,
// which gives the result or its own error. test/cli/fast-parse.test.ts checks
// that wherever this parser answers, oclif's answers the same.

interface FlagDef {
  type: 'boolean' | 'option'
  char?: string
  multiple?: boolean
  multipleNonGreedy?: boolean
  options?: readonly string[]
  default?: unknown
  required?: boolean
  parse?: (input: string, ctx: unknown, def: unknown) => Promise<unknown>
  [key: string]: unknown
}

interface ArgDef {
  options?: readonly string[]
  default?: unknown
  multiple?: boolean
  parse?: (input: string, ctx: unknown, def: unknown) => Promise<unknown>
  [key: string]: unknown
}

export interface FastInput {
  flags: Record<string, FlagDef>
  args: Record<string, ArgDef>
  strict: boolean
}

export interface FastOutput {
  flags: Record<string, unknown>
  args: Record<string, unknown>
  argv: unknown[]
}

/** What makes a flag oclif's alone to parse. */
const OCLIF_ONLY = ['aliases', 'charAliases', 'env', 'allowStdin', 'delimiter', 'deprecated', 'deprecateAliases', 'defaultHelp', 'exactlyOne', 'atLeastOne', 'relationships', 'combinable']

const looksLikeOption = (s: string): boolean => s.startsWith('-') && s !== '-'

/** The parse of `argv`, or undefined when only oclif's parser may say. */
export async function fastParse(argv: readonly string[], input: FastInput, context: unknown): Promise<FastOutput | undefined> {
  const defs = input.flags
  const names = Object.keys(defs)
  for (const n of names) if (OCLIF_ONLY.some((k) => defs[n][k] !== undefined)) return undefined
  for (const n of names) if (defs[n].multiple && !defs[n].multipleNonGreedy) return undefined
  // exclusive and dependsOn as lists of names are checked below; conditional ones are oclif's.
  for (const n of names) for (const k of ['exclusive', 'dependsOn']) if (defs[n][k] !== undefined && !(defs[n][k] as unknown[]).every((x) => typeof x === 'string')) return undefined
  const byChar = new Map<string, string>()
  for (const n of names) if (defs[n].char) byChar.set(defs[n].char!, n)
  const argDefs = Object.entries(input.args)
  if (argDefs.some(([, a]) => a.multiple)) return undefined

  const tokens = new Map<string, string[]>()
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!looksLikeOption(a)) {
      positional.push(a)
      continue
    }
    let name: string | undefined
    let inline: string | undefined
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      name = eq === -1 ? a.slice(2) : a.slice(2, eq)
      if (eq !== -1) inline = a.slice(eq + 1)
      if (!Object.hasOwn(defs, name)) return undefined
    } else {
      if (a.length !== 2) return undefined
      name = byChar.get(a[1])
      if (name === undefined) return undefined
    }
    const def = defs[name]
    const seen = tokens.get(name)
    if (def.type === 'boolean') {
      if (inline !== undefined || seen) return undefined
      tokens.set(name, [a])
      continue
    }
    if (seen && !def.multiple) return undefined
    const value = inline ?? argv[++i]
    if (value === undefined || looksLikeOption(value)) return undefined
    if (def.options && !def.options.includes(value)) return undefined
    if (seen) seen.push(value)
    else tokens.set(name, [value])
  }

  // Arguments: all given (a missing one oclif may read from standard input), none too many when strict.
  if (positional.length < argDefs.length) return undefined
  if (input.strict && positional.length > argDefs.length) return undefined
  const args: Record<string, unknown> = {}
  const out: unknown[] = []
  for (let k = 0; k < argDefs.length; k++) {
    const [name, def] = argDefs[k]
    if (def.options && !def.options.includes(positional[k])) return undefined
    let value: unknown
    try {
      value = def.parse ? await def.parse(positional[k], context, def) : positional[k]
    } catch {
      return undefined
    }
    args[name] = value
    out.push(value)
  }
  out.push(...positional.slice(argDefs.length))
  // oclif orders argv by the first place of each word in the line (equal words end up together).
  out.sort((a, b) => argv.indexOf(a as string) - argv.indexOf(b as string))

  const flags: Record<string, unknown> = {}
  const defaulted = new Set<string>()
  for (const n of names) {
    const def = defs[n]
    const given = tokens.get(n)
    if (given) {
      if (def.type === 'boolean') flags[n] = def.parse ? await def.parse(true as never, context, def) : true
      else if (def.multiple) flags[n] = await Promise.all(given.map((v) => (def.parse ? def.parse(v, context, def) : v)))
      else flags[n] = def.parse ? await def.parse(given[0], context, def) : given[0]
    } else if (typeof def.default === 'function') return undefined
    else if (def.default !== undefined) {
      flags[n] = def.default
      defaulted.add(n)
    } else if (def.required) return undefined
  }
  // oclif's validation (lib/parser/validate.js): a violation is its to word.
  for (const n of Object.keys(flags)) {
    const deps = (defs[n].dependsOn ?? []) as string[]
    if (deps.some((d) => flags[d] === undefined)) return undefined
    const excl = (defs[n].exclusive ?? []) as string[]
    if (!defaulted.has(n) && excl.some((x) => flags[x] !== undefined && !defaulted.has(x))) return undefined
  }
  return {flags, args, argv: out}
}
