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
//
// A mutation writes over the text it read (emitState with `prev`): the
// text of every entry of a large or shallow collection whose data has not
// changed is copied from there (the cache keeps where each one is), so a
// change costs about what it changes and a walk over the data; the writer
// also says what changed, for the store to tell whether a rule between
// objects can have been touched.

import type YAMLModule from 'yaml'

import {type SpanList, shifted, spanList} from './spans.js'

type Yaml = typeof YAMLModule

/**
 * Strings yaml writes as they are: letters, digits and `_./-`, beginning
 * with a letter or `/`, and no word of the core schema.
 */
const PLAIN = /^[A-Za-z/][A-Za-z0-9_./-]*$/
const CORE_WORDS = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/
const plain = (s: string): boolean => s.length <= 1000 && PLAIN.test(s) && !CORE_WORDS.test(s)
const DIGIT_PLAIN = /^[0-9][A-Za-z0-9_.,/-]*$/
/** The integers and floats of the core schema (yaml's schema/core/int.js and float.js). */
const CORE_NUMBER = [/^[-+]?[0-9]+$/, /^0x[0-9a-fA-F]+$/, /^0o[0-7]+$/, /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/]
/**
 * A string of digits, letters and `_.,/-` beginning with a digit (versions
 * such as 8.1, queue names such as 00.0004, masks such as 0x0f or
 * 0x00-0xfd,0xff) as yaml writes it, as a value or a key: plain, or in
 * double quotes when it reads as a number of the core schema (a comma is
 * an indicator only at the start or in flow collections, and no number of
 * the core schema has one); undefined for any other string.
 */
const digitText = (s: string): string | undefined =>
  s.length <= 1000 && DIGIT_PLAIN.test(s) ? (CORE_NUMBER.some((r) => r.test(s)) ? `"${s}"` : s) : undefined
/**
 * Words of letters, digits and `_./=,!:+-` separated by single blanks (a
 * kernel command line), not beginning with a punctuation mark other than
 * `/`, with no `:` before a blank or at the end: yaml writes such a value
 * plain (not a key: a key with blanks is yaml's to say).
 */
const SPACED = /^[A-Za-z0-9/][A-Za-z0-9_./=,!:+-]*(?: [A-Za-z0-9_./=,!:+-]+)+$/
const spacedPlain = (s: string): boolean => s.length <= 1000 && SPACED.test(s) && !/:(?: |$)/.test(s)
/**
 * Text of several lines that yaml writes as a literal block with strip
 * chomping (`|-`) and no indentation indicator: printable ASCII, not
 * beginning with a blank or a line break, not ending in white space, no line
 * that yaml would take for a document marker.
 */
const BLOCK = /^[\x21-\x7e][\x20-\x7e\n]*[\x21-\x7e]$/
const MARKER = /^(%|---|\.\.\.)/m
/**
 * The text before the one line break a file's contents end with (a file
 * under /etc: `vfio_ap\n`), which yaml writes as a literal block with clip
 * chomping (`|`): as BLOCK, one line too.
 */
const CLIPPED = /^[\x21-\x7e](?:[\x20-\x7e\n]*[\x21-\x7e])?$/
/**
 * What makes yaml quote a string of one line rather than write it plain
 * (yaml's stringifyString, plainString): an indicator first, `: ` or ` #`
 * inside, a blank or `:` last; or the text of another scalar of the core
 * schema (null, a boolean, a number).
 */
const QUOTED = /^[\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|:[ \t]|[\t ]#|[\t :]$/
const CORE_SCALARS = [/^(?:~|[Nn]ull|NULL)?$/, /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, ...CORE_NUMBER]
/**
 * A string of one line of printable ASCII as yaml writes it as a value
 * (a kernel log record, `<6>0 vfio_ap matrix: MDEV: Registered`; a QEMU
 * argument of JSON): plain, or quoted (yaml's quotedString): in single
 * quotes when it has a `"` and no `'`, else in double quotes, which need no
 * escape without `"` and `\`; undefined for what is yaml's to say.
 */
function lineText(s: string): string | undefined {
  if (s.length > 1000 || !/^[\x20-\x7e]+$/.test(s)) return undefined
  if (!QUOTED.test(s) && !CORE_SCALARS.some((r) => r.test(s))) return s
  if (!s.includes('"')) return s.includes('\\') ? undefined : `"${s}"`
  return s.includes("'") ? undefined : `'${s}'`
}

class GiveUp extends Error {}

/**
 * Where the entries of the large collections of a text are: for the path of
 * each map or sequence of at least UNIT entries, or at most SHALLOW deep (a
 * host's lpar, persistent and runtime), as JSON of its keys and indices from
 * the top, the start and end offset in the text of each entry's value, from
 * after its `key:` or `- ` to the end of its last line. A value's text there
 * depends only on the value and its depth, so the next write copies it for
 * an entry whose data has not changed.
 */
export type Spans = Record<string, SpanList>

const UNIT = 16
const SHALLOW = 3

/** The text last written, its data (as read back) and its spans, for emitState to copy from. */
export interface Previous {
  data: unknown
  text: string
  spans: Spans
}

/** The YAML text of plain data (maps, sequences, strings, safe integers, booleans, null), or null when it cannot say. */
export function emitYaml(data: unknown, Y: Yaml): string | null {
  return emitState(data, Y, '')?.text ?? null
}

/**
 * A text written by emitState. With a `prev`, also what changed: the places
 * (keys and indices from the top) of the recorded entries whose data is not
 * that of the same place in prev, each `open` when it is a collection with
 * the same keys (or length) as there, whose entries are each either listed
 * or unchanged; `open` at the top likewise for the whole. Nothing else
 * changed when the top is open.
 */
export interface Emitted {
  /** The text (the pieces joined, when first asked). */
  readonly text: string
  /** The text as the pieces it was made of: a copied run of prev's text is one (no joined copy of the whole is made to encode it). */
  pieces: string[]
  spans: Spans
  open: boolean
  changed: Array<{path: Array<string | number>; open: boolean}>
}

/**
 * emitYaml's text after `head`, with its spans; the entries of large
 * collections whose data equals that of the same place in `prev` are copied
 * from `prev.text` instead of being written again. A small text has spans
 * too: writing a default host's whole, cold, cost its write 1.3 ms, and
 * the write is about 1.7% faster copying from the one before.
 */
export function emitState(data: unknown, Y: Yaml, head: string, prev?: Previous): Emitted | null {
  const values = new Map<string, {head: string; lines: string[]}>()
  const keys = new Map<string, string>()

  /** A string as a map's value: its text on the key's line, and a block scalar's lines (indented by 2). */
  const value = (s: string): {head: string; lines: string[]} => {
    let v = values.get(s)
    if (v) return v
    let line: string | undefined
    // yaml writes a string with a line like a document marker by its depth.
    if (MARKER.test(s)) throw new GiveUp()
    const digits = digitText(s)
    if (plain(s)) v = {head: s, lines: []}
    // An empty string (a cleared mask): yaml writes it in double quotes.
    else if (s === '') v = {head: '""', lines: []}
    else if (digits !== undefined) v = {head: digits, lines: []}
    else if (spacedPlain(s)) v = {head: s, lines: []}
    else if (s.includes('\n') && BLOCK.test(s)) v = {head: '|-', lines: s.split('\n').map((l) => (l === '' ? '' : '  ' + l))}
    else if (s.endsWith('\n') && CLIPPED.test(s.slice(0, -1))) v = {head: '|', lines: s.slice(0, -1).split('\n').map((l) => (l === '' ? '' : '  ' + l))}
    else if ((line = lineText(s)) !== undefined) v = {head: line, lines: []}
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
    const digits = digitText(s)
    if (plain(s)) k = s
    else if (digits !== undefined) k = digits
    else {
      const t = Y.stringify({[s]: null}, {lineWidth: 0})
      if (!t.endsWith(': null\n') || t.startsWith('? ')) throw new GiveUp()
      k = t.slice(0, -': null\n'.length)
      if (k.includes('\n')) throw new GiveUp()
    }
    keys.set(s, k)
    return k
  }

  /** A scalar's text after its `key: ` or `- `, for a node whose own indentation is `indent`. */
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

  // The text so far: pieces, and the short strings written since the last copied run.
  const pieces: string[] = []
  let done = 0
  let out = head
  const length = (): number => done + out.length
  const spans: Spans = {}
  const changed: Emitted['changed'] = []
  // The place being written, and the same place in prev (its sequences' indices may differ).
  const path: Array<string | number> = []
  const prevPath: Array<string | number> = []

  /**
   * The value of one entry, its `key:` or `- ` written, written anew: `v`
   * at the indentation `indent` of its collection's entries, `old` what the
   * same place held in prev (undefined: nothing known). A large
   * collection's entries record their spans (`mine`), and are listed as
   * changed where prev has those of the collection (`theirs`); unchanged
   * ones are copied (see copied).
   */
  const entry = (v: unknown, indent: string, dash: boolean, old: unknown, mine: number[] | undefined, theirs: boolean): void => {
    const start = length()
    // A value that is its JSON's (a list the state's cache did not parse: parts.ts Part) as that.
    if (typeof v === 'object' && v !== null && typeof (v as {toJSON?: unknown}).toJSON === 'function') v = (v as {toJSON(): unknown}).toJSON()
    let open = false
    if (Array.isArray(v) || isMap(v)) {
      const empty = Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0
      if (dash) open = collection(v, indent + '  ', '', old)
      else if (empty) open = collection(v, indent + '  ', ' ', old)
      else {
        out += '\n'
        open = collection(v, indent + '  ', indent + '  ', old)
      }
    } else out += (dash ? '' : ' ') + scalar(v, indent)
    if (theirs) changed.push({path: [...path], open})
    mine?.push(start, length())
  }

  /** Whether prev's text between the values of its entries `k` and `k + 1` (spans `theirs`) is `sep`. */
  const between = (theirs: number[], k: number, sep: string): boolean =>
    theirs[2 * k + 2] - theirs[2 * k + 1] === sep.length && prev!.text.startsWith(sep, theirs[2 * k + 1])

  /**
   * Copy the values of prev's entries `j` to `k` of a collection (spans
   * `theirs`), and what lies between them, as one piece: each entry's span
   * recorded (`mine`), and where `carried` says an entry is now (its key or
   * index; undefined when nothing inside them has spans), those inside it
   * carried (`was`: its place in prev).
   */
  const copied = (
    theirs: number[],
    j: number,
    k: number,
    mine: number[] | undefined,
    carried: ((q: number) => string | number) | undefined,
    was: (q: number) => string | number,
  ): void => {
    const by = length() - theirs[2 * j]
    if (out !== '') pieces.push(out)
    pieces.push(prev!.text.slice(theirs[2 * j], theirs[2 * k + 1]))
    done += out.length + theirs[2 * k + 1] - theirs[2 * j]
    out = ''
    for (let q = j; q <= k; q++) {
      mine?.push(theirs[2 * q] + by, theirs[2 * q + 1] + by)
      if (carried === undefined) continue
      path.push(carried(q))
      prevPath.push(was(q))
      carry(by)
      path.pop()
      prevPath.pop()
    }
  }

  /**
   * A collection's entries, the first after `first` (on the line already
   * begun), the others at `indent`. Whether it is open (see Emitted).
   */
  const collection = (x: unknown, indent: string, first: string, old: unknown): boolean => {
    if (Array.isArray(x)) {
      if (x.length === 0) {
        out += first + '[]\n'
        return false
      }
      const olds = Array.isArray(old) ? old : undefined
      const [mine, theirs] = large(x.length, olds?.length)
      const carries = theirs !== undefined && under.has(JSON.stringify(prevPath))
      const at = olds ? aligned(x, olds) : undefined
      const dash = indent + '- '
      for (let i = 0; i < x.length; i++) {
        out += (i === 0 ? first : indent) + '- '
        const j = at ? at(i) : -1
        if (theirs !== undefined && j >= 0 && same(x[i], olds![j])) {
          // The run of unchanged entries from here that follow one another in prev too, with
          // this writer's `- ` between each two there: one piece of prev's text.
          let k = j
          while (i + 1 < x.length && k + 1 < olds!.length && at!(i + 1) === k + 1 && between(theirs, k, dash) && same(x[i + 1], olds![k + 1])) {
            i++
            k++
          }
          copied(theirs, j, k, mine, carries ? (q) => i - k + q : undefined, (q) => q)
          continue
        }
        path.push(i)
        prevPath.push(j)
        entry(x[i], indent, true, j >= 0 ? olds![j] : undefined, mine, theirs !== undefined)
        path.pop()
        prevPath.pop()
      }
      return theirs !== undefined && x.length === olds!.length
    }
    if (isMap(x)) {
      const ks = Object.keys(x)
      if (ks.length === 0) {
        out += first + '{}\n'
        return false
      }
      const olds = isMap(old) ? old : undefined
      const oldKeys = olds && Object.keys(olds)
      const [mine, theirs] = large(ks.length, oldKeys?.length)
      const carries = theirs !== undefined && under.has(JSON.stringify(prevPath))
      let index: Map<string, number> | undefined
      if (theirs) {
        index = new Map()
        for (let j = 0; j < oldKeys!.length; j++) index.set(oldKeys![j], j)
      }
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i]
        const v = x[k]
        if (v === undefined) throw new GiveUp()
        out += (i === 0 ? first : indent) + key(k) + ':'
        const o = olds && Object.hasOwn(olds, k) ? olds[k] : undefined
        const j = index?.get(k) ?? -1
        if (theirs !== undefined && j >= 0 && same(v, o)) {
          // As for a sequence: the run of unchanged entries in prev's order, with `KEY:` between.
          const i0 = i
          let q = j
          while (i + 1 < ks.length && index!.get(ks[i + 1]) === q + 1 && x[ks[i + 1]] !== undefined && between(theirs, q, indent + key(ks[i + 1]) + ':') && same(x[ks[i + 1]], olds![ks[i + 1]])) {
            i++
            q++
          }
          copied(theirs, j, q, mine, carries ? (r) => ks[i0 + r - j] : undefined, (r) => ks[i0 + r - j])
          continue
        }
        path.push(k)
        prevPath.push(k)
        entry(v, indent, false, o, mine, theirs !== undefined)
        path.pop()
        prevPath.pop()
      }
      return theirs !== undefined && ks.length === oldKeys!.length && ks.every((k) => index!.has(k))
    }
    throw new GiveUp()
  }

  // The spans of prev's collections at or inside each of its places, and
  // the collections of prev with such a place among their entries.
  const inside = new Map<string, string[]>()
  const under = new Set<string>()
  for (const k of Object.keys(prev?.spans ?? {})) {
    const p = JSON.parse(k) as unknown[]
    // Each place from the top to this one as JSON (a list of keys and indices), made a step at a time.
    let outer = '[]'
    let steps = '['
    for (let n = 1; n <= p.length; n++) {
      under.add(outer)
      steps += (n > 1 ? ',' : '') + JSON.stringify(p[n - 1])
      outer = steps + ']'
      const keys = inside.get(outer)
      if (keys === undefined) inside.set(outer, [k])
      else keys.push(k)
    }
  }
  /**
   * Keep the spans of the collections inside a value copied from prev (at
   * prevPath, now at path and `by` further on): where they did not move, as
   * they are (a list not read yet is read only when a write copies from it).
   */
  const carry = (by: number): void => {
    const from = JSON.stringify(prevPath)
    const keys = inside.get(from)
    if (keys === undefined) return
    const to = JSON.stringify(path).slice(0, -1)
    for (const k of keys) {
      const v = typeof prev!.spans[k] === 'string' ? prev!.spans[k] : spanList(prev!, k)
      const moved = v === undefined ? undefined : shifted(v, by)
      if (moved !== undefined) spans[to + k.slice(from.length - 1)] = moved
    }
  }

  /** For a collection of `n` entries (`m` at the same place in prev): where its spans go, and prev's, when it is large. */
  const large = (n: number, m: number | undefined): [number[] | undefined, number[] | undefined] => {
    if (n < UNIT && path.length > SHALLOW) return [undefined, undefined]
    const mine: number[] = (spans[JSON.stringify(path)] = [])
    if (prev === undefined || m === undefined) return [mine, undefined]
    const theirs = spanList(prev, JSON.stringify(prevPath))
    return [mine, theirs !== undefined && theirs.length === 2 * m ? theirs : undefined]
  }

  try {
    if (!isMap(data) || Object.keys(data).length === 0) return null
    const open = collection(data, '', '', prev?.data)
    if (out !== '') pieces.push(out)
    let text: string | undefined
    return {
      get text() {
        return (text ??= pieces.join(''))
      },
      pieces,
      spans,
      open,
      changed,
    }
  } catch (e) {
    if (e instanceof GiveUp) return null
    throw e
  }
}

const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** Equal plain data, keys in the same order (they are written in that order). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || Object.is(a, b)
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return false
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !same((a as Record<string, unknown>)[ka[i]], (b as Record<string, unknown>)[kb[i]])) return false
  return true
}

/**
 * Which entry of the previous sequence `o` stands where entry i of `x` is:
 * the same index when the lengths agree (changes in place), else the equal
 * entries at the start, then those aligned from the end (entries inserted or
 * removed in one place); -1 for an entry that was not there.
 */
function aligned(x: unknown[], o: unknown[]): (i: number) => number {
  const n = x.length
  const m = o.length
  if (n === m) return (i) => i
  let p = 0
  while (p < n && p < m && same(x[p], o[p])) p++
  return (i) => (i < p ? i : i + m - n >= p && i + m - n < m ? i + m - n : -1)
}
