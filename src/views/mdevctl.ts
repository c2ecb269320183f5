// Output of mdevctl 1.4.0 (upstream HEAD): serde_json's compact and pretty
// JSON, the list and types listings, and the clap 4 help, usage and error
// texts. Everything here is pure: it turns data into the exact bytes the
// real tool prints.

// --- serde_json values -------------------------------------------------------

/** A JSON number with the text serde_json's Display gives it. */
export interface JNum {
  num: string
}

/** A JSON object with serde_json's `preserve_order` semantics (insertion order). */
export class JObj {
  constructor(readonly entries: Array<[string, JVal]> = []) {}

  get(key: string): JVal | undefined {
    return this.entries.find((e) => e[0] === key)?.[1]
  }

  /** IndexMap::insert: a repeated key keeps its first position and takes the new value. */
  set(key: string, value: JVal): void {
    const e = this.entries.find((x) => x[0] === key)
    if (e) e[1] = value
    else this.entries.push([key, value])
  }
}

export type JVal = null | boolean | JNum | string | JVal[] | JObj

export const isNum = (v: JVal | undefined): v is JNum => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JObj)

/** serde_json's string escaping (format_escaped_str). */
export function jsonString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (c < 0x20) {
      const short: Record<number, string> = {8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r'}
      out += short[c] ?? '\\u' + c.toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}

/** serde_json::to_string: compact. */
export function jsonCompact(v: JVal): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return String(v)
  if (typeof v === 'string') return jsonString(v)
  if (Array.isArray(v)) return '[' + v.map(jsonCompact).join(',') + ']'
  if (v instanceof JObj) return '{' + v.entries.map(([k, x]) => jsonString(k) + ':' + jsonCompact(x)).join(',') + '}'
  return v.num
}

/** serde_json::to_string_pretty: two-space indentation, no final newline. */
export function jsonPretty(v: JVal, indent = ''): string {
  const inner = indent + '  '
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    return '[\n' + v.map((x) => inner + jsonPretty(x, inner)).join(',\n') + '\n' + indent + ']'
  }
  if (v instanceof JObj) {
    if (v.entries.length === 0) return '{}'
    return '{\n' + v.entries.map(([k, x]) => inner + jsonString(k) + ': ' + jsonPretty(x, inner)).join(',\n') + '\n' + indent + '}'
  }
  return jsonCompact(v)
}

/** serde_json's Display of a number parsed from `text` (integers verbatim, floats like ryu). */
export function numText(text: string): JNum {
  if (/^-?\d+$/.test(text)) return {num: String(BigInt(text))}
  const f = Number(text)
  if (Number.isInteger(f) && Math.abs(f) < 1e16) return {num: (Object.is(f, -0) ? '-0' : String(f)) + '.0'}
  return {num: String(f).replace('e+', 'e')}
}

// --- list and types ------------------------------------------------------------

export interface MdevView {
  uuid: string
  parent: string
  type: string
  autostart: boolean
  attrs: Array<[string, string]>
}

/** MDev::to_json(false): the object a definition file holds. */
export function deviceJson(d: MdevView): JObj {
  return new JObj([
    ['mdev_type', d.type],
    ['start', d.autostart ? 'auto' : 'manual'],
    ['attrs', d.attrs.map(([k, v]) => new JObj([[k, v]]))],
  ])
}

/** The `Attrs:` block of `list -v` (MDev::fmt_attrs); empty without attributes. */
export function attrsText(attrs: Array<[string, string]>): string {
  if (attrs.length === 0) return ''
  return '  Attrs:\n' + attrs.map(([k, v], i) => `    @{${i}}: {"${k}":"${v}"}\n`).join('')
}

/** One `list` line (MDev::to_text) with its suffix, plus the attributes when verbose. */
export function listLine(d: MdevView, suffix: '' | ' (active)' | ' (defined)', verbose: boolean): string {
  const line = `${d.uuid} ${d.parent} ${d.type} ${d.autostart ? 'auto' : 'manual'}${suffix}\n`
  return verbose ? line + attrsText(d.attrs) : line
}

/** format_json: `[ { parent: [ { uuid: config } ] } ]`, or `[]` with no devices. */
export function listJson(groups: Array<[string, MdevView[]]>): string {
  if (groups.length === 0) return '[]'
  const parents = new JObj(groups.map(([p, devs]) => [p, devs.map((d) => new JObj([[d.uuid, deviceJson(d)]]))]))
  return jsonPretty([parents])
}

export interface TypeView {
  type: string
  available: number
  api: string
  name: string
  description: string
}

export function typesText(parents: Array<[string, TypeView[]]>): string {
  let out = ''
  for (const [parent, types] of parents) {
    out += `${parent}\n`
    for (const t of types) {
      out += `  ${t.type}\n    Available instances: ${t.available}\n    Device API: ${t.api}\n`
      if (t.name) out += `    Name: ${t.name}\n`
      if (t.description) out += `    Description: ${t.description}\n`
    }
  }
  return out
}

export function typesJson(parents: Array<[string, TypeView[]]>): string {
  if (parents.length === 0) return '[]'
  const obj = new JObj(
    parents.map(([p, types]) => [
      p,
      types.map((t) => {
        const o = new JObj([
          ['available_instances', {num: String(t.available)}],
          ['device_api', t.api],
        ])
        if (t.name) o.set('name', t.name)
        if (t.description) o.set('description', t.description)
        return new JObj([[t.type, o]])
      }),
    ]),
  )
  return jsonPretty([obj])
}

// --- clap 4: the command model ----------------------------------------------------

export type ArgAction = 'flag' | 'opt' | 'pos' | 'help' | 'version'

export interface ClapArg {
  id: string
  short?: string
  long?: string
  action: ArgAction
  valueName?: string
  help?: string
  longHelp?: string
  required?: boolean
  requiredUnless?: string[]
  conflicts?: string[]
  requires?: string[]
  /** Positionals: 1-based index. */
  index?: number
  /** A positional taking any number of values (the help subcommand's COMMAND). */
  multiple?: boolean
  parser?: 'uuid' | 'string' | 'path' | 'u32'
  /** Display order (declaration order; 999 for the generated help and version flags). */
  order: number
}

export interface ClapGroup {
  id: string
  args: string[]
  required: boolean
  multiple: boolean
}

export interface ClapCmd {
  name: string
  /** The name usage lines show: `mdevctl`, `mdevctl list`. */
  bin: string
  /** The name `--version` shows: `mdevctl`, `mdevctl-list`. */
  display: string
  about?: string
  longAbout?: string
  version?: string
  args: ClapArg[]
  groups: ClapGroup[]
  subcommands: ClapCmd[]
  hidden?: boolean
  subcommandRequired?: boolean
  argRequiredElseHelp?: boolean
  order: number
}

/** The terminal width clap uses when stdout is not a terminal and COLUMNS is unset. */
export const TERM_WIDTH = 100

const byteLen = (s: string): number => Buffer.byteLength(s)
/** Rust's str::trim_end (Unicode White_Space). */
const trimEnd = (s: string): string => s.replace(/[\s\u0085]+$/u, '')

/** Arg::render_arg_val */
function renderArgVal(a: ClapArg, required: boolean): string {
  const name = a.valueName ?? a.id
  if (a.action === 'pos') {
    const optional = a.multiple || !required
    return (optional ? `[${name}]` : `<${name}>`) + (a.multiple ? '...' : '')
  }
  return `<${name}>`
}

/** Arg::stylize_arg_suffix */
export function argSuffix(a: ClapArg, required?: boolean): string {
  if (a.action === 'opt') return ' ' + renderArgVal(a, required ?? !!a.required)
  if (a.action === 'pos') return renderArgVal(a, required ?? !!a.required)
  return ''
}

/** Arg's Display (Arg::stylized): `--uuid <UUID>`, `--auto`, `<PARENT>`. */
export function argText(a: ClapArg, required?: boolean): string {
  const name = a.long ? `--${a.long}` : a.short ? `-${a.short}` : ''
  return name + argSuffix(a, required)
}

export const findArg = (cmd: ClapCmd, id: string): ClapArg | undefined => cmd.args.find((a) => a.id === id)
export const findGroup = (cmd: ClapCmd, id: string): ClapGroup | undefined => cmd.groups.find((g) => g.id === id)
export const groupsForArg = (cmd: ClapCmd, id: string): string[] => cmd.groups.filter((g) => g.args.includes(id)).map((g) => g.id)

/** Command::format_group: `<--auto|--manual|...>` */
export function formatGroup(cmd: ClapCmd, id: string): string {
  const g = findGroup(cmd, id)!
  const parts = g.args.map((x) => findArg(cmd, x)).filter((a): a is ClapArg => !!a)
  return '<' + parts.map((a) => (a.action === 'pos' ? (a.valueName ?? a.id) : argText(a))).join('|') + '>'
}

/** Command::required_graph: required args, then required groups. */
export function requiredGraph(cmd: ClapCmd): string[] {
  return [...cmd.args.filter((a) => a.required).map((a) => a.id), ...cmd.groups.filter((g) => g.required).map((g) => g.id)]
}

/** Command::unroll_arg_requires (only unconditional `requires`). */
function unrollRequires(cmd: ClapCmd, id: string): string[] {
  const processed: string[] = []
  const todo = [id]
  const out: string[] = []
  while (todo.length) {
    const a = todo.pop()!
    if (processed.includes(a)) continue
    processed.push(a)
    for (const r of findArg(cmd, a)?.requires ?? []) {
      if (findArg(cmd, r)?.requires?.length) todo.push(r)
      out.push(r)
    }
  }
  return out
}

function unrolledReqs(cmd: ClapCmd, required: string[]): string[] {
  const out: string[] = []
  for (const a of required) {
    out.push(...unrollRequires(cmd, a))
    out.push(a)
  }
  return out
}

const pushSet = (set: string[], x: string): void => {
  if (!set.includes(x)) set.push(x)
}

/** Usage::write_args */
function writeArgs(cmd: ClapCmd, required: string[], incls: string[], forceOptional: boolean): string {
  const reqs = [...unrolledReqs(cmd, required), ...incls]
  const groupMembers: string[] = []
  const groups: string[] = []
  for (const r of reqs)
    if (findGroup(cmd, r)) {
      pushSet(groups, formatGroup(cmd, r))
      for (const m of findGroup(cmd, r)!.args) pushSet(groupMembers, m)
    }
  const opts: string[] = []
  const positionals: Array<string | undefined> = []
  for (const r of reqs) {
    const a = findArg(cmd, r)
    if (!a || groupMembers.includes(a.id)) continue
    const s = argText(a, !forceOptional)
    if (a.action === 'pos') positionals[a.index!] = s
    else pushSet(opts, s)
  }
  for (const p of cmd.args.filter((a) => a.action === 'pos')) {
    if (groupMembers.includes(p.id)) continue
    if (positionals[p.index!] === undefined) positionals[p.index!] = argText(p, false)
  }
  let out = ''
  if (!forceOptional) for (const s of [...opts, ...groups]) out += s + ' '
  for (const s of positionals) if (s !== undefined) out += s + ' '
  return out
}

/** Usage::needs_options_tag */
function needsOptionsTag(cmd: ClapCmd): boolean {
  for (const a of cmd.args) {
    if (a.action === 'pos' || a.action === 'help' || a.action === 'version') continue
    if (a.long === 'help' || a.long === 'version' || a.required) continue
    if (groupsForArg(cmd, a.id).some((g) => findGroup(cmd, g)!.required)) continue
    return true
  }
  return false
}

const visibleSubcommands = (cmd: ClapCmd): ClapCmd[] => cmd.subcommands.filter((s) => !s.hidden)

/**
 * Usage::create_usage_no_title: the help form when nothing was used, the
 * "smart" form (required and used arguments) otherwise.
 */
export function usageLine(cmd: ClapCmd, used: string[] = [], required: string[] = requiredGraph(cmd)): string {
  let s = cmd.bin + ' '
  if (used.length === 0) {
    if (needsOptionsTag(cmd)) s += '[OPTIONS] '
    s += writeArgs(cmd, required, [], false)
    if (visibleSubcommands(cmd).length) s += cmd.subcommandRequired ? '<COMMAND>' : '[COMMAND]'
  } else {
    s += writeArgs(cmd, required, used, false)
    if (cmd.subcommandRequired) s += '<COMMAND>'
  }
  return trimEnd(s)
}

export const usageTitled = (cmd: ClapCmd, used: string[] = [], required?: string[]): string => 'Usage: ' + usageLine(cmd, used, required)

/**
 * Usage::get_required_usage_from: the lines of "the following required
 * arguments were not provided", skipping what is present.
 */
export function requiredUsage(cmd: ClapCmd, required: string[], incls: string[], present: (id: string) => boolean): string[] {
  const reqs = [...unrolledReqs(cmd, required), ...incls]
  const groupMembers: string[] = []
  const groups: string[] = []
  for (const r of reqs) {
    const g = findGroup(cmd, r)
    if (!g) continue
    if (g.args.some(present)) continue
    pushSet(groups, formatGroup(cmd, r))
    for (const m of g.args) pushSet(groupMembers, m)
  }
  const opts: string[] = []
  const positionals: Array<string | undefined> = []
  for (const r of reqs) {
    const a = findArg(cmd, r)
    if (!a || groupMembers.includes(a.id) || present(r)) continue
    const s = argText(a, true)
    if (a.action === 'pos') positionals[a.index!] = s
    else pushSet(opts, s)
  }
  return [...opts, ...groups, ...positionals.filter((x): x is string => x !== undefined)]
}

// --- clap 4: text wrapping ------------------------------------------------------------

/** textwrap's find_words_ascii_space: words keep their trailing blanks. */
function findWords(line: string): string[] {
  const out: string[] = []
  let start = 0
  let inWs = false
  for (let i = 0; i < line.length; i++) {
    const ws = line[i] === ' '
    if (inWs && !ws) {
      out.push(line.slice(start, i))
      start = i
    }
    inWs = ws
  }
  if (start < line.length) out.push(line.slice(start))
  return out
}

/** clap's LineWrapper (greedy, a line may be exactly `hard` wide). */
class LineWrapper {
  private lineWidth = 0
  private carryover: string | null = null

  constructor(private readonly hard: number) {}

  reset(): void {
    this.lineWidth = 0
    this.carryover = null
  }

  wrap(words: string[]): string[] {
    if (this.carryover === null && words.length) this.carryover = words[0].trim() === '' ? words[0] : ''
    let i = 0
    while (i < words.length) {
      const trimmed = trimEnd(words[i])
      const width = byteLen(trimmed)
      const delta = byteLen(words[i]) - width
      if (i !== 0 && this.hard < this.lineWidth + width) {
        words[i - 1] = trimEnd(words[i - 1])
        this.lineWidth = 0
        words.splice(i, 0, '\n')
        i++
        if (this.carryover !== null) {
          words.splice(i, 0, this.carryover)
          this.lineWidth += byteLen(this.carryover)
          i++
        }
      }
      this.lineWidth += width + delta
      i++
    }
    return words
  }
}

/** StyledStr::wrap for plain text. */
export function wrapText(text: string, width: number): string {
  const w = new LineWrapper(width)
  let out = ''
  text.split(/(?<=\n)/).forEach((line, i) => {
    if (i > 0) w.reset()
    out += w.wrap(findWords(line)).join('')
  })
  return trimEnd(out)
}

// --- clap 4: help -----------------------------------------------------------------------

const TAB = '  '
const NEXT_LINE_INDENT = '        '

function helpOf(a: ClapArg, useLong: boolean): string {
  return (useLong ? (a.longHelp ?? a.help) : (a.help ?? a.longHelp)) ?? ''
}

/** HelpTemplate::help: the description column, wrapped and indented. */
function helpColumn(about: string, spaces: number, termW: number): string {
  const avail = Math.max(0, termW - spaces)
  return wrapText(about.replaceAll('{n}', '\n'), avail).replaceAll('\n', '\n' + ' '.repeat(spaces))
}

function optionKey(a: ClapArg): [number, string] {
  let key: string
  if (a.short) key = a.short.toLowerCase() + (a.short >= 'a' && a.short <= 'z' ? '0' : '1')
  else if (a.long) key = a.long
  else key = '{' + a.id
  return [a.order, key]
}

const cmpKey = (x: [number, string], y: [number, string]): number => x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)

/** HelpTemplate::write_args for one section. */
function writeArgSection(args: ClapArg[], useLong: boolean, termW: number, positional: boolean): string {
  let longest = 2
  for (const a of args) if (a.action === 'opt' || a.action === 'pos' || a.long || !a.short) longest = Math.max(longest, byteLen(argText(a)))
  const ord = args.slice().sort((x, y) => (positional ? x.index! - y.index! : cmpKey(optionKey(x), optionKey(y))))
  const nextLine = args.some((a) => {
    if (useLong) return true
    const taken = positional ? longest + 4 : longest + 8
    return termW >= taken && taken / termW > 0.4 && byteLen(helpOf(a, false)) > termW - taken
  })
  let out = ''
  ord.forEach((a, i) => {
    if (i !== 0) out += nextLine && useLong ? '\n\n' : '\n'
    out += TAB
    if (a.short) out += `-${a.short}`
    else if (a.long) out += '    '
    if (a.long) out += (a.short ? ', ' : '') + `--${a.long}`
    out += argSuffix(a)
    if (!(useLong || nextLine)) {
      const selfLen = byteLen(argText(a))
      const pad = a.action === 'pos' ? longest + 2 - selfLen : longest + (a.long ? 2 : 6) - selfLen
      out += ' '.repeat(pad)
    }
    if (nextLine) out += '\n' + TAB + NEXT_LINE_INDENT
    const spaces = nextLine ? 10 : a.action === 'pos' ? longest + 4 : longest + 8
    out += helpColumn(helpOf(a, useLong), spaces, termW)
  })
  return out
}

function writeSubcommands(cmd: ClapCmd, termW: number): string {
  const subs = visibleSubcommands(cmd)
  let longest = 2
  for (const s of subs) longest = Math.max(longest, byteLen(s.name))
  const ord = subs.slice().sort((x, y) => x.order - y.order || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
  return ord
    .map((s) => TAB + s.name + ' '.repeat(longest + 2 - byteLen(s.name)) + helpColumn(s.about ?? s.longAbout ?? '', longest + 4, termW))
    .join('\n')
}

/** Command::write_help_err: the whole help text, ending with exactly one newline. */
export function helpText(cmd: ClapCmd, wantLong: boolean, termW = TERM_WIDTH): string {
  // Command::write_help_err: long help only when there is any.
  const useLong = wantLong && (cmd.longAbout !== undefined || cmd.args.some((a) => a.longHelp !== undefined))
  const pos = cmd.args.filter((a) => a.action === 'pos')
  const nonPos = cmd.args.filter((a) => a.action !== 'pos')
  const subs = visibleSubcommands(cmd)
  let out = ''
  const about = useLong ? (cmd.longAbout ?? cmd.about) : cmd.about
  if (about !== undefined) out += wrapText(about.replaceAll('{n}', '\n'), termW) + '\n'
  out += '\nUsage: ' + usageLine(cmd)
  if (pos.length || nonPos.length || subs.length) {
    out += '\n\n'
    const sections: string[] = []
    if (subs.length) sections.push('Commands:\n' + writeSubcommands(cmd, termW))
    if (pos.length) sections.push('Arguments:\n' + writeArgSection(pos, useLong, termW, true))
    if (nonPos.length) sections.push('Options:\n' + writeArgSection(nonPos, useLong, termW, false))
    out += sections.join('\n\n')
  }
  // trim_start_lines, trim_end, one newline
  const nl = out.indexOf('\n')
  if (nl >= 0 && out.slice(0, nl + 1).trim() === '') out = out.slice(nl + 1)
  return trimEnd(out) + '\n'
}

/** Command::_render_version */
export const versionText = (cmd: ClapCmd): string => `${cmd.display} ${cmd.version ?? ''}\n`

// --- clap 4: errors (RichFormatter) ---------------------------------------------------------

export interface ClapErrorParts {
  message: string
  /** `tip:` lines: similar subcommand/argument lines first, then other suggestions. */
  similar?: string
  tips?: string[]
  usage?: string
  /** false when the command has no help flag or help subcommand. */
  tryHelp?: boolean
}

export function clapError(p: ClapErrorParts): string {
  let out = 'error: ' + p.message
  let suggested = false
  if (p.similar) {
    out += '\n\n' + TAB + 'tip: ' + p.similar
    suggested = true
  }
  if (p.tips?.length) {
    if (!suggested) out += '\n'
    for (const t of p.tips) out += '\n' + TAB + 'tip: ' + t
  }
  if (p.usage) out += '\n\n' + p.usage
  out += p.tryHelp === false ? '\n' : "\n\nFor more information, try '--help'.\n"
  return out
}

/** did_you_mean's phrase for one or more candidates. */
export function similarText(what: 'subcommand' | 'argument', candidates: string[]): string {
  if (candidates.length === 1) return `a similar ${what} exists: '${candidates[0]}'`
  return `some similar ${what}s exist: ` + candidates.map((c) => `'${c}'`).join(', ')
}

/** strsim's Jaro similarity, as clap's suggestions use it. */
export function jaro(a: string, b: string): number {
  const A = [...a]
  const B = [...b]
  if (A.length === 0 && B.length === 0) return 1
  if (A.length === 0 || B.length === 0) return 0
  const range = Math.max(0, Math.floor(Math.max(A.length, B.length) / 2) - 1)
  const af = new Array<boolean>(A.length).fill(false)
  const bf = new Array<boolean>(B.length).fill(false)
  let m = 0
  for (let i = 0; i < A.length; i++) {
    const lo = i > range ? i - range : 0
    const hi = Math.min(B.length, i + range + 1)
    for (let j = lo; j < hi; j++)
      if (A[i] === B[j] && !bf[j]) {
        af[i] = bf[j] = true
        m++
        break
      }
  }
  if (m === 0) return 0
  let t = 0
  let j = 0
  for (let i = 0; i < A.length; i++) {
    if (!af[i]) continue
    while (!bf[j]) j++
    if (A[i] !== B[j]) t++
    j++
  }
  t = Math.floor(t / 2)
  return (m / A.length + m / B.length + (m - t) / m) / 3
}

/** suggestions::did_you_mean: candidates scoring at least 0.7, most similar last. */
export function didYouMean(v: string, possible: string[]): string[] {
  return possible
    .map((p, i) => ({p, s: jaro(v, p), i}))
    .filter((x) => x.s >= 0.7)
    .sort((x, y) => x.s - y.s || x.i - y.i)
    .map((x) => x.p)
}
