// JSON as QEMU reads and writes it: the parser of qobject/json-lexer.c,
// json-parser.c and qjson.c (its error texts included), and the writer of
// qobject/json-writer.c (not pretty: ", " and ": "). Pure. Split out of
// src/core/qemu.ts (the writer out of src/live/qemu/monitor.ts).

import {table} from '../table.js'

// ---------------------------------------------------------------------------
// JSON as QEMU's parser reads it (qobject/json-lexer.c, json-parser.c, qjson.c)

export type JVal = string | number | boolean | null | JVal[] | {[k: string]: JVal}
interface JTok {
  t: '{' | '}' | '[' | ']' | ':' | ',' | 'str' | 'num' | 'kw'
  s: string
  v?: string | number
}

export class JsonError extends Error {}

function jsonLex(src: string): {toks: JTok[]; stray?: {at: number; text: string}} {
  const toks: JTok[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    if ('{}[]:,'.includes(c)) {
      toks.push({t: c as JTok['t'], s: c})
      i++
      continue
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      let bad = false
      while (j < src.length && src[j] !== c) {
        if (src.charCodeAt(j) < 0x20) {
          bad = true
          break
        }
        j += src[j] === '\\' ? 2 : 1
      }
      if (bad || j >= src.length) return {toks, stray: {at: i, text: src.slice(i, j + 1)}}
      toks.push({t: 'str', s: src.slice(i, j + 1)})
      i = j + 1
      continue
    }
    const num = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))
    if (num && num[0] !== '-') {
      toks.push({t: 'num', s: num[0]})
      i += num[0].length
      continue
    }
    const kw = /^[a-z]+/.exec(src.slice(i))
    if (kw) {
      toks.push({t: 'kw', s: kw[0]})
      i += kw[0].length
      continue
    }
    return {toks, stray: {at: i, text: c}}
  }
  return {toks}
}

function jsonString(tok: JTok): string {
  const s = tok.s
  let out = ''
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const e = s[++i]
    const map: Record<string, string> = {'"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}
    if (e in map) out += map[e]
    else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16))
      i += 4
    } else throw new JsonError('JSON parse error, invalid escape sequence in string')
  }
  return out
}

function jsonParseValue(toks: JTok[], pos: {i: number}): JVal {
  const tok = toks[pos.i]
  if (!tok) throw new JsonError('JSON parse error, premature EOI')
  if (tok.t === '{') {
    pos.i++
    const obj = table<JVal>()
    if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
    if (toks[pos.i].t === '}') {
      pos.i++
      return obj
    }
    for (;;) {
      if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
      const key = jsonParseValue(toks, pos)
      if (typeof key !== 'string') throw new JsonError('JSON parse error, key is not a string in object')
      const colon = toks[pos.i++]
      if (!colon) throw new JsonError('JSON parse error, premature EOI')
      if (colon.t !== ':') throw new JsonError('JSON parse error, missing : in object pair')
      const value = jsonParseValue(toks, pos)
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw new JsonError('JSON parse error, duplicate key')
      obj[key] = value
      const sep = toks[pos.i++]
      if (!sep) throw new JsonError('JSON parse error, premature EOI')
      if (sep.t === '}') return obj
      if (sep.t !== ',') throw new JsonError('JSON parse error, expected separator in dict')
    }
  }
  if (tok.t === '[') {
    pos.i++
    const list: JVal[] = []
    if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
    if (toks[pos.i].t === ']') {
      pos.i++
      return list
    }
    for (;;) {
      list.push(jsonParseValue(toks, pos))
      const sep = toks[pos.i++]
      if (!sep) throw new JsonError('JSON parse error, premature EOI')
      if (sep.t === ']') return list
      if (sep.t !== ',') throw new JsonError('JSON parse error, expected separator in list')
    }
  }
  if (tok.t === 'str') {
    pos.i++
    return jsonString(tok)
  }
  if (tok.t === 'num') {
    pos.i++
    return Number(tok.s)
  }
  if (tok.t === 'kw') {
    pos.i++
    if (tok.s === 'true') return true
    if (tok.s === 'false') return false
    if (tok.s === 'null') return null
    throw new JsonError(`JSON parse error, invalid keyword '${tok.s}'`)
  }
  throw new JsonError('JSON parse error, expecting value')
}

/** The end (exclusive) of the first top-level value's tokens, as the JSON streamer splits them. */
function firstValueEnd(toks: JTok[]): number {
  let depth = 0
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].t
    if (t === '{' || t === '[') depth++
    else if (t === '}' || t === ']') depth--
    if (depth <= 0) return i + 1
  }
  return toks.length
}

/** qobject_from_json(): the value, or QEMU's error text (thrown as JsonError). */
export function qemuJsonParse(src: string): JVal {
  const {toks, stray} = jsonLex(src)
  const end = firstValueEnd(toks)
  // The streamer hands a value to the parser once its brackets balance.
  const firstDone = toks.length > 0 && depthZero(toks.slice(0, end))
  if (stray && !firstDone) throw new JsonError(`JSON parse error, stray '${stray.text}'`)
  if (!firstDone && toks.length === 0) throw new JsonError('Expecting a JSON value')
  const v = jsonParseValue(toks.slice(0, end), {i: 0})
  if (stray || end < toks.length) throw new JsonError('Expecting at most one JSON value')
  return v
}

function depthZero(toks: JTok[]): boolean {
  let d = 0
  for (const t of toks) {
    if (t.t === '{' || t.t === '[') d++
    else if (t.t === '}' || t.t === ']') d--
  }
  return d === 0 && toks.length > 0
}

/** qnum_to_string(): integers as %PRId64, doubles as %.17g. */
export function qnumToString(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString()
  let s = n.toPrecision(17)
  if (s.includes('e')) {
    const [m, e] = s.split('e')
    const mm = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m
    const ee = Number(e)
    return `${mm}e${ee < 0 ? '-' : '+'}${String(Math.abs(ee)).padStart(2, '0')}`
  }
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  return s
}

/** qemu_opts_from_qdict(): strings, numbers and booleans become strings; other values are dropped. */

// ---------------------------------------------------------------------------
// JSON as QEMU writes it (qobject/json-writer.c, not pretty): ", " and ": ".

export type Json = JVal

function quoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\b') out += '\\b'
    else if (ch === '\f') out += '\\f'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c >= 0x7f) {
      // Non-ASCII as \uXXXX, astral characters as a surrogate pair.
      for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}

export function qjson(v: Json): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean' || typeof v === 'number') return String(v)
  if (typeof v === 'string') return quoted(v)
  if (Array.isArray(v)) return '[' + v.map(qjson).join(', ') + ']'
  return '{' + Object.entries(v).map(([k, x]) => `${quoted(k)}: ${qjson(x)}`).join(', ') + '}'
}
