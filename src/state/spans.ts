// Where the entries of a written text's large collections are (state/emit.ts
// spans), as a write copies from them and as the state's cache keeps them.

import type {Previous} from './emit.js'

/**
 * The offsets of one collection's entries: a list, or the text of one as a
 * cache holds it (`BASE;R,R,...`: the first offset, then each offset less
 * that one), read when a write first needs it. A big host's spans are
 * 60 KB, and most of them are carried to the next text as they are, or
 * further on by the base alone.
 */
export type SpanList = number[] | string

/** The spans made good by spanList: read, and found ascending within their text. */
const CHECKED = new WeakSet<number[]>()

/** A span list's text (see SpanList): the base, then the offsets from it. */
export function spanText(list: readonly number[]): string {
  if (list.length === 0) return ''
  const base = list[0]
  const rel = new Array<number>(list.length)
  for (let i = 0; i < list.length; i++) rel[i] = list[i] - base
  return `${base};${rel.join(',')}`
}

/** The offsets of a span list's text, or undefined when it is not one. */
export function readSpanText(v: string): number[] | undefined {
  if (v === '') return []
  const at = v.indexOf(';')
  if (at < 0) return undefined
  const base = Number(v.slice(0, at))
  const rel = v.slice(at + 1).split(',')
  const list = new Array<number>(rel.length)
  for (let i = 0; i < rel.length; i++) list[i] = base + Number(rel[i])
  return list
}

/**
 * The offsets of prev's collection at `key`, read and checked: ascending
 * safe integers within its text, else none (a hand on the cache: what they
 * would have copied is written anew). Kept read in prev.
 */
export function spanList(prev: Previous, key: string): number[] | undefined {
  const v: unknown = Object.hasOwn(prev.spans, key) ? prev.spans[key] : undefined
  if (Array.isArray(v) && CHECKED.has(v)) return v
  const list = typeof v === 'string' ? readSpanText(v) : Array.isArray(v) ? (v as number[]) : undefined
  if (list === undefined) return undefined
  const end = prev.text.length
  for (let i = 0; i < list.length; i++) if (!Number.isSafeInteger(list[i]) || list[i] < (i > 0 ? list[i - 1] : 0) || list[i] > end) return undefined
  CHECKED.add(list)
  prev.spans[key] = list
  return list
}

/** A span list `by` further on: a text by its base alone (checked when read), else each offset. */
export function shifted(v: SpanList, by: number): SpanList | undefined {
  if (by === 0) return v
  if (Array.isArray(v)) return v.map((x) => x + by)
  if (v === '') return v
  const at = v.indexOf(';')
  const base = Number(v.slice(0, at)) + by
  return at > 0 && Number.isSafeInteger(base) ? `${base}${v.slice(at)}` : undefined
}
