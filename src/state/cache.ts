// The state's cache: the data of the last text read or written, kept beside
// the state file as JSON so that a new process need not parse the YAML.

import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {MAX_STATE_BYTES, readOwn, replaceFile} from './files.js'
import {bodyHash, bodyHashLength} from './hash.js'
import type {Spans} from './emit.js'
import {spanText} from './spans.js'
import {STATE_VERSION} from './data.js'
import {Part, listJson} from './parts.js'

/**
 * Parsing YAML costs a new process more than the rest of a typical call, so
 * the data of the last text read or written is kept beside the state file
 * as JSON, with a hash of that text (state/hash.ts), the schema version and the build
 * of aplab that wrote it. It is used only when the text on disk has the same
 * hash, so a hand edit is always parsed (and checked) as YAML. It has the
 * state's mode and owner, and is trusted only when it is a regular file of
 * the state's owner; a cache that cannot be written is no cache.
 *
 * Only data that passed every check is cached, in the form worldToData
 * gives. A cache written by this very build is not checked against the
 * kernel's rules between objects again (core/invariants.ts: the largest part
 * of a load on a big host); one of another build (an older or a newer aplab,
 * whose rules may differ) is checked as the YAML would be, and rewritten.
 */
const cachePath = (real: string): string => path.join(path.dirname(real), `.${path.basename(real)}.cache`)


let build: string | undefined
/**
 * This build of aplab: the stamp scripts/build.mjs writes into dist/
 * (dist/build-id, new at every build), with the time and size of the file
 * this code runs from (dist/main.cjs, or dist/state/store.js), so that code
 * compiled again or copied over an install is another build even where the
 * stamp stayed. Without a stamp (the sources run by the tests), the
 * directory's device, inode and time. Empty (no trust) where none of that
 * can be told.
 */
function buildId(): string {
  if (build === undefined) {
    try {
      const file = fileURLToPath(import.meta.url)
      let dir = path.dirname(file)
      if (path.basename(path.dirname(dir)) === 'dist') dir = path.dirname(dir)
      const code = fs.statSync(file, {bigint: true})
      let stamp: string
      try {
        stamp = fs.readFileSync(path.join(dir, 'build-id'), 'utf8').trim()
      } catch {
        const st = fs.statSync(dir, {bigint: true})
        stamp = `${st.dev}.${st.ino}.${st.mtimeNs}`
      }
      build = stamp && `${stamp}.${code.mtimeNs}.${code.size}`
    } catch {
      build = ''
    }
  }
  return build
}

/**
 * The cache's text up to its data: the data's length is given, so that its
 * JSON can be taken back out as it is; after it, the spans of the text
 * (state/emit.ts) when this build wrote the text, and where its data's
 * large lists are. `body` is the hash of all that follows the head: data
 * read through the cache is then exactly what an aplab wrote, so a hand on
 * the cache (even one that keeps every length) is no cache even where what
 * it wrote still reads. For a cache of LARGE bytes or more after its head,
 * the large lists are read only when a command uses them (data.ts later); a
 * smaller cache is read whole at once.
 */
/** From this many bytes after its head, a cache's large lists are read only when a command uses them. */
export const LARGE = 64 * 1024

const cacheHead = (sha: string, body: string, size: number): string =>
  `{"schema":${STATE_VERSION},"build":${JSON.stringify(buildId())},"hash":"${sha}","body":"${body}","size":${size},"data":`

/**
 * What the cache holds for a text: its data, the data's JSON, and whether
 * this build checked it (and wrote the text: its spans); `exact` when its
 * large lists are read when first used (a large cache, whose hash says it
 * is exactly what was written, as of any cache read).
 */
export interface Cached {
  data: unknown
  json: string
  checked: boolean
  exact?: boolean
  /** The JSON of the spans of the text this build wrote: parsed only by a write, which copies from it. */
  spans?: string
}

/** The head of a cache as this build writes it (cacheHead): its schema, build, hash, body and size. */
const HEAD = /^\{"schema":(\d+),"build":("(?:[^"\\]|\\.)*"),"hash":"([0-9a-f]*)","body":"([0-9a-f]*)","size":(\d+),"data":/

export function cachedData(real: string, sha: string, stat: fs.Stats): Cached | undefined {
  const bytes = readOwn(cachePath(real), stat.uid, 2 * MAX_STATE_BYTES)
  if (bytes === null) return undefined
  try {
    const raw = bytes.toString('utf8')
    const h = HEAD.exec(raw)
    // Not this form (an aplab before it, or a hand that reformatted it): nothing says that
    // what it holds is what an aplab wrote, so it is no cache (the YAML is read once).
    if (h === null) return undefined
    // Data of another schema version (another aplab wrote it) is not this one's to read.
    if (Number(h[1]) !== STATE_VERSION || h[3] !== sha) return undefined
    const end = h[0].length + Number(h[5])
    const json = raw.slice(h[0].length, end)
    const tail = raw.slice(end)
    // This build's tail, `,"spans":{...},"parts":[...]}`, is taken apart without parsing the
    // spans (a big host's 60 KB), which only a write reads: a quote inside a JSON string is
    // escaped, so the last `,"parts":` is the key. Any other tail is parsed whole.
    const at = tail.lastIndexOf(',"parts":')
    const t = (
      tail === '}' ? {} : tail.startsWith(',"spans":{') && at > 0 ? {spans: tail.slice(9, at), parts: JSON.parse(tail.slice(at + 9, -1))} : JSON.parse('{' + tail.slice(1))
    ) as {spans?: unknown; parts?: unknown}
    // Every cache carries the hash of all after its head (see cacheHead): one that does not
    // match (a hand on the cache, even one that keeps every length) is no cache, whichever
    // build wrote it. A small one costs a default host's read a tenth of a millisecond.
    const body = bytes.subarray(Buffer.byteLength(h[0]))
    if (h[4] === '' || h[4] !== bodyHash(body)) return undefined
    // A large one's large lists are read when first used (data.ts later).
    const exact = body.length >= LARGE
    const checked = buildId() !== '' && JSON.parse(h[2]) === buildId()
    if (!checked) {
      const data = JSON.parse(json) as unknown
      return {data, json: JSON.stringify(data), checked}
    }
    const spans = typeof t.spans === 'string' ? t.spans : typeof t.spans === 'object' && t.spans !== null ? JSON.stringify(t.spans) : undefined
    // The large lists are parsed when first used (parts.ts Part), where the text this build
    // wrote is written over (its spans): a write gives an untouched one back as it is.
    const data = spans && Array.isArray(t.parts) ? withParts(json, t.parts as CachePart[], cachePath(real)) : JSON.parse(json)
    return {data, json, checked, exact, ...(spans && {spans})}
  } catch {
    return undefined
  }
}

/**
 * The spans of a cache (read only by a write, which copies from them): ones
 * that are not what this build writes (places as JSON of keys and indices,
 * each with its offsets as a string or a list) are none, and the text is
 * then written whole; the offsets of each are checked when a write first
 * copies from them (emit.ts spanList).
 */
export function spansOf(text: string): Spans {
  try {
    const spans = JSON.parse(text) as unknown
    if (typeof spans !== 'object' || spans === null || Array.isArray(spans)) return {}
    for (const [k, v] of Object.entries(spans)) if (!Array.isArray(JSON.parse(k)) || (typeof v !== 'string' && !Array.isArray(v))) return {}
    return spans as Spans
  } catch {
    return {}
  }
}

/** Spans as a cache holds them: each collection's offsets as text (emit.ts SpanList). */
function spansJson(spans: Spans): string {
  let out = ''
  for (const k of Object.keys(spans)) {
    const v = spans[k]
    out += (out === '' ? '{' : ',') + JSON.stringify(k) + ':' + JSON.stringify(typeof v === 'string' ? v : spanText(v))
  }
  return out === '' ? '{}' : out + '}'
}

/**
 * A large list in a cache's data: its place from the top, where its JSON
 * starts and ends in the data's JSON, and for a sequence where each entry
 * ends in its JSON (parts.ts ListJson: offsets joined by commas).
 */
export type CachePart = [Array<string | number>, number, number, string?]

/** The data of `json` with the lists of `parts` not parsed: each a Part where it was. */
function withParts(json: string, parts: CachePart[], cache: string): unknown {
  let skeleton = ''
  let at = 0
  for (const [, start, end] of parts) {
    skeleton += json.slice(at, start) + 'null'
    at = end
  }
  const data = JSON.parse(skeleton + json.slice(at)) as Record<string, unknown>
  for (const [place, start, end, ends] of parts) {
    // Only a host's large lists, where this build puts them (a hand that sealed the cache again
    // could name any place): anything else is no cache.
    const list = LARGE_LISTS.find((l) => place.length === l.length + 2 && l.every((k, i) => place[i + 2] === k))
    if (place[0] !== 'hosts' || !Number.isSafeInteger(place[1]) || list === undefined || json[start] !== (list[0] === 'persistent' ? '{' : '[')) throw new Error('not a list')
    let holder = data
    for (const k of place.slice(0, -1)) holder = holder[k] as Record<string, unknown>
    const key = place[place.length - 1] as string
    holder[key] = new Part(json.slice(start, end), holder, key, cache, typeof ends === 'string' ? ends : undefined)
  }
  return data
}

/** Where a host's large lists are in worldToData's data (see Part). */
const LARGE_LISTS: Array<[string, ...string[]]> = [['persistent', 'files'], ['runtime', 'mdevs'], ['guests']]

/**
 * A data's JSON (JSON.stringify's), kept as the pieces it was made of, and
 * where its large lists are in it. Joining the pieces cost a big host's
 * write a copy of the 650 KB into a string of its own before the copy into
 * the cache's buffer: the pieces are compared and written one by one.
 */
export interface DataJson {
  pieces: string[]
  /** The length of the JSON (of its pieces together). */
  length: number
  parts: CachePart[]
}

/** Whether a data's JSON is `text`. */
export function isJson(d: DataJson, text: string): boolean {
  if (d.length !== text.length) return false
  let at = 0
  for (const p of d.pieces) {
    if (!text.startsWith(p, at)) return false
    at += p.length
  }
  return true
}

/** A data's JSON as one string. */
export const jsonText = (d: DataJson): string => d.pieces.join('')

/**
 * JSON.stringify(data), and where the host's large lists are in it: a list
 * that is a Part, or the very list parsed from one, is its text as read
 * (not made again); the others are made as ever.
 */
export function dataJson(data: Record<string, unknown>): DataJson {
  const hosts = data.hosts as Array<Record<string, unknown>>
  const lists: Array<{place: Array<string | number>; holder: Record<string, unknown>; key: string; value: unknown}> = []
  hosts.forEach((h, i) => {
    for (const path of LARGE_LISTS) {
      let holder: Record<string, unknown> | undefined = h
      for (const k of path.slice(0, -1)) holder = holder?.[k] as Record<string, unknown> | undefined
      const key = path[path.length - 1]
      const value = holder?.[key]
      if (holder === undefined || value === undefined || value === null) continue
      if (!(value instanceof Part) && (typeof value !== 'object' || Object.keys(value).length === 0)) continue
      lists.push({place: ['hosts', i, ...path], holder, key, value})
    }
  })
  // Each list stands in as a string of its own, then its JSON takes that string's place.
  const token = Math.random().toString(36).slice(2)
  const marks = lists.map((l, n) => {
    const mark = `\u0000aplab-part-${n}-${token}`
    l.holder[l.key] = mark
    return JSON.stringify(mark)
  })
  let whole: string
  try {
    whole = JSON.stringify(data)
  } finally {
    for (const l of lists) l.holder[l.key] = l.value
  }
  const pieces: string[] = []
  let length = 0
  const add = (s: string): void => {
    pieces.push(s)
    length += s.length
  }
  let at = 0
  const parts: CachePart[] = []
  lists.forEach((l, n) => {
    const i = whole.indexOf(marks[n], at)
    add(whole.slice(at, i))
    const list = listJson(l.value)
    const part: CachePart = [l.place, length, length + list.length]
    if (list.ends !== undefined) part.push(typeof list.ends === 'string' ? list.ends : list.ends.join(','))
    parts.push(part)
    for (const p of list.pieces) add(p)
    at = i + marks[n].length
  })
  add(whole.slice(at))
  return {pieces, length, parts}
}

/**
 * Write the cache of a text: `json` is the JSON of data that this build
 * checked (dataJson), with where its large lists are; `spans` those of the
 * text, when this build wrote it.
 */
export async function writeCache(real: string, sha: string, {pieces, length, parts}: DataJson, stat: fs.Stats, spans?: Spans): Promise<void> {
  try {
    const tail = spans && Object.keys(spans).length > 0 ? `,"spans":${spansJson(spans)},"parts":${JSON.stringify(parts)}}` : '}'
    // Written straight into one buffer (the head last: it holds the hash of
    // the rest, and its length is known before): joining and encoding the
    // data's JSON apart cost a big host's write twice its copying. The
    // buffer has room for UTF-8's three bytes a UTF-16 unit, so no piece is
    // measured first (the pages past what is written are never touched).
    let units = tail.length
    for (const p of pieces) units += p.length
    const headBytes = cacheHead(sha, '0'.repeat(bodyHashLength()), length).length
    const room = Buffer.allocUnsafe(headBytes + 3 * units)
    let at = headBytes
    for (const p of pieces) at += room.write(p, at)
    at += room.write(tail, at)
    const text = room.subarray(0, at)
    const head = cacheHead(sha, bodyHash(text.subarray(headBytes)), length)
    // A hash of another length than the room made for it (WebAssembly without the memory): no cache.
    if (head.length !== headBytes) return
    text.write(head, 0)
    await replaceFile(cachePath(real), text, {like: stat, durable: false})
  } catch {
    // no cache this time
  }
}
