// The state file's YAML text, written without building yaml's document:
// YAML.stringify(data, {lineWidth: 0}) makes a node for every value of the
// state, which on a host with a thousand mdevs cost more than the rest of a
// mutation. This writer lays out the block maps and sequences itself, in
// yaml's layout (indent 2, sequences indented under their key), and asks
// yaml how to write each distinct string once (plain, quoted, or a block
// scalar, whose lines it moves to their indentation); strings that are
// plainly plain need no asking. Whatever it does not know (a number that is
// not a safe integer, undefined, a key yaml would write as an explicit `?`
// key) makes it give up, and the caller uses YAML.stringify. The test
// (test/state/emit.test.ts) holds it to yaml's exact bytes.

import type YAMLModule from 'yaml'

type Yaml = typeof YAMLModule

/**
 * Strings yaml writes as they are: letters, digits and `_./-`, beginning
 * with a letter or `/`, or with a digit when the string cannot be a number
 * of the core schema; and no word of the core schema.
 */
const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/
const DIGIT_PLAIN = /^[0-9][A-Za-z0-9_./-]*$/
/** Not 0x… or 0o…, and a letter other than e: no integer or float of the core schema. */
const NOT_A_NUMBER = (s: string): boolean => !/^0[xXoO]/.test(s) && /[A-DF-Za-df-z]/.test(s)
const CORE_WORDS = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/
const plain = (s: string): boolean => s.length <= 1000 && (PLAIN.test(s) ? !CORE_WORDS.test(s) : DIGIT_PLAIN.test(s) && NOT_A_NUMBER(s))
/** A hexadecimal integer of the core schema: yaml quotes it so that it reads back as a string. */
const HEX = /^0x[0-9a-fA-F]+$/
/**
 * Text of several lines that yaml writes as a literal block with strip
 * chomping (`|-`) and no indentation indicator: printable ASCII, not
 * beginning with a blank or a line break, not ending in white space, no line
 * that yaml would take for a document marker.
 */
const BLOCK = /^[\x21-\x7e][\x20-\x7e\n]*[\x21-\x7e]$/
const MARKER = /^(%|---|\.\.\.)/m

class GiveUp extends Error {}

/** The YAML text of plain data (maps, sequences, strings, safe integers, booleans, null), or null when it cannot say. */
export function emitYaml(data: unknown, Y: Yaml): string | null {
  const values = new Map<string, {head: string; lines: string[]}>()
  const keys = new Map<string, string>()

  /** A string as a map's value: its text on the key's line, and a block scalar's lines (indented by 2). */
  const value = (s: string): {head: string; lines: string[]} => {
    let v = values.get(s)
    if (v) return v
    // yaml writes a string with a line like a document marker by its depth.
    if (MARKER.test(s)) throw new GiveUp()
    if (plain(s)) v = {head: s, lines: []}
    else if (HEX.test(s)) v = {head: `"${s}"`, lines: []}
    else if (s.includes('\n') && BLOCK.test(s)) v = {head: '|-', lines: s.split('\n').map((l) => (l === '' ? '' : '  ' + l))}
    else {
      const t = Y.stringify({k: s}, {lineWidth: 0})
      if (!t.startsWith('k: ')) throw new GiveUp()
      const lines = t.slice(3, -1).split('\n')
      v = {head: lines[0], lines: lines.slice(1)}
      if (v.lines.some((l) => l !== '' && !l.startsWith('  '))) throw new GiveUp()
    }
    values.set(s, v)
    return v
  }

  const key = (s: string): string => {
    let k = keys.get(s)
    if (k !== undefined) return k
    if (MARKER.test(s)) throw new GiveUp()
    if (plain(s)) k = s
    else {
      const t = Y.stringify({[s]: null}, {lineWidth: 0})
      if (!t.endsWith(': null\n') || t.startsWith('? ')) throw new GiveUp()
      k = t.slice(0, -': null\n'.length)
      if (k.includes('\n')) throw new GiveUp()
    }
    keys.set(s, k)
    return k
  }

  /** A scalar after `prefix` (a key and `: `, or dashes), for a node whose own indentation is `indent`. */
  const scalar = (x: unknown, indent: string): string => {
    if (x === null) return 'null\n'
    if (x === true) return 'true\n'
    if (x === false) return 'false\n'
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x) || Object.is(x, -0)) throw new GiveUp()
      return String(x) + '\n'
    }
    if (typeof x === 'string') {
      const v = value(x)
      let out = v.head + '\n'
      for (const l of v.lines) out += (l === '' ? '' : indent + l) + '\n'
      return out
    }
    throw new GiveUp()
  }

  const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

  /** A collection's entries, the first after `first` (on the line already begun), the others at `indent`. */
  const node = (x: unknown, indent: string, first: string): string => {
    if (Array.isArray(x)) {
      if (x.length === 0) return first + '[]\n'
      let out = ''
      x.forEach((item, i) => {
        const lead = (i === 0 ? first : indent) + '- '
        out += entry(item, indent + '  ', lead)
      })
      return out
    }
    if (isMap(x)) {
      const ks = Object.keys(x)
      if (ks.length === 0) return first + '{}\n'
      let out = ''
      ks.forEach((k, i) => {
        const v = x[k]
        if (v === undefined) throw new GiveUp()
        const lead = (i === 0 ? first : indent) + key(k) + ':'
        if (Array.isArray(v) && v.length > 0) out += lead + '\n' + node(v, indent + '  ', indent + '  ')
        else if (isMap(v) && Object.keys(v).length > 0) out += lead + '\n' + node(v, indent + '  ', indent + '  ')
        else out += entry(v, indent + '  ', lead + ' ')
      })
      return out
    }
    throw new GiveUp()
  }

  /** One value after `lead` (`key: ` or `- `): a scalar or an empty collection on the line, else a collection from it. */
  const entry = (v: unknown, indent: string, lead: string): string => {
    if (Array.isArray(v) || isMap(v)) return node(v, indent, lead)
    // A block scalar's lines are indented 2 past the key or dash they belong to.
    return lead + scalar(v, indent.slice(2))
  }

  try {
    if (!isMap(data) || Object.keys(data).length === 0) return null
    return node(data, '', '')
  } catch (e) {
    if (e instanceof GiveUp) return null
    throw e
  }
}
