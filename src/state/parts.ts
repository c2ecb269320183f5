// A host's large lists as the state's cache holds them (its guests, its
// mdevs, the files under /etc): each a Part, its JSON as read, parsed when
// a command first uses the list; and the JSON of a list to cache again,
// made from the one read where its entries are those read.

import {StateError} from '../core/errors.js'

type Obj = Record<string, unknown>

/**
 * One of a host's large lists in the cache's text, not parsed yet (cache.ts
 * puts it where the list is in the data it parsed without it): parsed when
 * a command first uses the list, and then also put in its place in that
 * data, which a write compares its own with. A write of a state read so
 * gives a list never parsed back as this, and the writer of the cache its
 * text as it is (cache.ts dataJson).
 */
export class Part {
  private data: unknown
  constructor(
    /** The list's JSON. */
    readonly json: string,
    private readonly holder: Obj,
    private readonly key: string,
    /** The cache it is in, named when it is not JSON (only a hand that sealed the cache again makes that). */
    private readonly cache = '',
    /** Where each entry of a sequence ends in the JSON, as the cache holds it (see ListJson). */
    readonly ends?: string,
  ) {}

  private bounds: number[] | null | undefined

  /**
   * Where each of the `n` entries of the sequence ends in its JSON (at the
   * `,` after it, or the closing `]`), when the cache said so and it fits
   * that JSON; else null.
   */
  entryEnds(n: number): number[] | null {
    if (this.bounds !== undefined) return this.bounds
    this.bounds = null
    const json = this.json
    if (this.ends === undefined || json[0] !== '[' || json[json.length - 1] !== ']') return null
    const ends = this.ends === '' ? [] : this.ends.split(',').map(Number)
    if (ends.length !== n || (n === 0 && json !== '[]') || (n > 0 && json[1] !== '{')) return null
    // Each entry is an object: it ends with `}` at the `,` before the next one's `{` (the commas
    // inside an entry have a key or a value about them).
    for (let k = 0; k < n; k++) {
      const e = ends[k]
      if (!Number.isSafeInteger(e) || e <= (k === 0 ? 1 : ends[k - 1] + 1) || json[e - 1] !== '}' || json[e] !== (k === n - 1 ? ']' : ',') || (k < n - 1 && json[e + 1] !== '{')) return null
    }
    if (n > 0 && ends[n - 1] !== json.length - 1) return null
    return (this.bounds = ends)
  }

  /** Whether it was parsed (its data is then in its place). */
  get parsed(): boolean {
    return this.data !== undefined
  }

  value(): unknown {
    if (this.data === undefined) {
      try {
        this.data = JSON.parse(this.json)
      } catch {
        throw new StateError(this.cache, `${JSON.stringify(this.key)} is not JSON: not what aplab wrote (remove the file)`)
      }
      this.holder[this.key] = this.data
      PARTS.set(this.data as object, this)
    }
    return this.data
  }

  /** As JSON, or written as YAML without the text it was read with: the list. */
  toJSON(): unknown {
    return this.value()
  }
}

/** The Part each list parsed from one was parsed from (its JSON is the list's while the list is unchanged). */
const PARTS = new WeakMap<object, Part>()

/**
 * The JSON of one of a host's large lists (JSON.stringify's), in pieces,
 * and for a sequence where each entry ends in it (at the `,` after it, or
 * the closing `]`): as text when it is the cache's as read, else offsets.
 */
export interface ListJson {
  pieces: string[]
  length: number
  ends?: string | number[]
}

/**
 * A large list's JSON: the one read when it is a Part or the very list
 * parsed from one; for a sequence made from one (data.ts listData), each run of
 * entries read, in the order read, as the text they were read from, and
 * the others as JSON.stringify gives them (an mdev created, assigned or
 * removed among a thousand costs its own entry).
 */
export function listJson(v: unknown): ListJson {
  if (v instanceof Part) return {pieces: [v.json], length: v.json.length, ...(v.ends !== undefined && {ends: v.ends})}
  const read = typeof v === 'object' && v !== null ? PARTS.get(v) : undefined
  if (read) return {pieces: [read.json], length: read.json.length, ...(read.ends !== undefined && {ends: read.ends})}
  if (!Array.isArray(v)) {
    const json = JSON.stringify(v)
    return {pieces: [json], length: json.length}
  }
  const from = LIST_READ.get(v)
  const part = from && PARTS.get(from)
  const bounds = part?.entryEnds(from!.length) ?? undefined
  let at: Map<Obj, number> | undefined
  if (from && bounds) {
    at = new Map()
    for (let j = 0; j < from.length; j++) at.set(from[j], j)
  }
  const pieces: string[] = []
  const ends: number[] = []
  let length = 0
  let loose = '['
  for (let i = 0; i < v.length; i++) {
    if (i > 0) loose += ','
    const j = at?.get(v[i] as Obj)
    if (j === undefined) {
      loose += JSON.stringify(v[i])
      ends.push(length + loose.length)
      continue
    }
    // The run of entries read one after another from j on, as read.
    let k = j
    while (i + 1 < v.length && k + 1 < from!.length && v[i + 1] === from![k + 1]) {
      i++
      k++
    }
    pieces.push(loose)
    length += loose.length
    loose = ''
    const start = j === 0 ? 1 : bounds![j - 1] + 1
    for (let m = j; m <= k; m++) ends.push(length + bounds![m] - start)
    const text = part!.json.slice(start, bounds![k])
    pieces.push(text)
    length += text.length
  }
  pieces.push(loose + ']')
  length += loose.length + 1
  return {pieces, length, ends}
}

/** The data of a list made from the one it maps to, as that was read (its entries, unchanged, are those very data). */
const LIST_READ = new WeakMap<object, Obj[]>()

/** Record that the data of a list (`out`) was made from the list read (`read`), in part entry for entry. */
export function madeFrom(out: Obj[], read: Obj[]): void {
  LIST_READ.set(out, read)
}
