// json-c 0.16 as libap and ap-check use it: json_object_from_fd/from_file
// (json_tokener_parse_ex over the whole input, default flags, depth 32), the
// object model, json_object_get_string and json_object_to_json_string, and
// how a wrong type ends the process (an assert, or a NULL dereference).
//
// What json-c accepts beyond JSON, with the default (non-strict) flags:
// comments (`/* */`, `//` up to a newline), single-quoted strings and keys,
// trailing commas in arrays and objects, true/false/null/NaN/Infinity in
// any case, numbers like `01`, `1.` or `1e`, control characters in strings,
// and anything after the first complete value (the value is returned). It
// fails on what it cannot finish: empty input, an unterminated comment, a
// number, `true` or `null` that ends the input, nesting deeper than 32.
//
// Strings are JS strings; a \u escape gives its character (U+FFFD for a lone
// surrogate, as json-c puts the UTF-8 of U+FFFD). C reads a string up to
// its first NUL: getString and object keys do so.

import {Crash} from './libc.js'

export type Jso = JsoObject | JsoArray | JsoString | JsoInt | JsoDouble | JsoBoolean | null

export interface JsoObject {
  type: 'object'
  /** lh_table in insertion order; a repeated key keeps its place and takes the new value. */
  fields: Map<string, Jso>
}
export interface JsoArray {
  type: 'array'
  items: Jso[]
}
export interface JsoString {
  type: 'string'
  value: string
}
/** int64 or uint64 (both print in decimal). */
export interface JsoInt {
  type: 'int'
  value: bigint
}
export interface JsoDouble {
  type: 'double'
  value: number
  /** The number as written (json_object_new_double_s), null for NaN and Infinity. */
  text: string | null
}
export interface JsoBoolean {
  type: 'boolean'
  value: boolean
}

const enum S {
  EatWs,
  Start,
  Finish,
  Null,
  CommentStart,
  Comment,
  CommentEol,
  CommentEnd,
  String,
  StringEscape,
  EscapeUnicode,
  EscapeUnicodeNeedEscape,
  EscapeUnicodeNeedU,
  Boolean,
  Number,
  Array,
  ArrayAdd,
  ArraySep,
  ObjectFieldStart,
  ObjectField,
  ObjectFieldEnd,
  ObjectValue,
  ObjectValueAdd,
  ObjectSep,
  ArrayAfterSep,
  ObjectFieldStartAfterSep,
  Inf,
}

interface Level {
  state: S
  saved: S
  current: Jso
  field: string | null
}

const MAX_DEPTH = 32
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n

const isWs = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r'
const isHex = (c: string): boolean => /^[0-9A-Fa-f]$/.test(c)
const isDigit = (c: string): boolean => c >= '0' && c <= '9'
const cstr = (s: string): string => {
  const z = s.indexOf('\0')
  return z < 0 ? s : s.slice(0, z)
}

/** strncasecmp(a, b, n) === 0 in the C locale. */
function strncaseeq(a: string, b: string, n: number): boolean {
  for (let k = 0; k < n; k++) {
    const x = (a[k] ?? '\0').toLowerCase()
    const y = (b[k] ?? '\0').toLowerCase()
    if (x !== y) return false
    if (x === '\0') return true
  }
  return true
}

/** strtod over the whole of `buf` (the tokener only passes [0-9eE.+-]); null when it stops short. */
function parseDouble(buf: string): number | null {
  const m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(buf)
  return m && m[0].length === buf.length ? Number(buf) : null
}

/** strtoll / strtoull base 10 as json_parse_int64 / json_parse_uint64 use them (saturating). */
function parseInt64(buf: string, unsigned: boolean): bigint | null {
  const m = /^\s*([+-]?)(\d+)/.exec(buf)
  if (!m || (unsigned && m[1] === '-')) return null
  const v = BigInt(m[1] + m[2])
  if (unsigned) return v > UINT64_MAX ? UINT64_MAX : v
  return v < INT64_MIN ? INT64_MIN : v > INT64_MAX ? INT64_MAX : v
}

/**
 * json_object_from_fd / json_object_from_file: json_tokener_parse_ex over
 * the whole text. The value, or null (C's NULL) for a parse error and for
 * the JSON null alike.
 */
export function jsoncParse(str: string): Jso {
  const len = str.length
  const stack: Level[] = [{state: S.EatWs, saved: S.Start, current: null, field: null}]
  let depth = 0
  let off = 0
  let err: 'success' | 'continue' | 'error' = 'success'
  let c = '\x01'
  let pb = ''
  let stPos = 0
  let isDouble = false
  let quote = '"'
  let ucs = 0
  let high = 0
  let obj: Jso = null
  const lv = (): Level => stack[depth]
  const reset = (d: number): void => {
    stack[d] = {state: S.EatWs, saved: S.Start, current: null, field: null}
  }
  /** PEEK_CHAR */
  const peek = (): boolean => {
    if (off === len) {
      err = depth === 0 && lv().state === S.EatWs && lv().saved === S.Finish ? 'success' : 'continue'
      return false
    }
    c = str[off]
    return true
  }
  /** ADVANCE_CHAR: the char before advancing, falsy for NUL. */
  const advance = (): boolean => {
    off++
    return c !== '\0'
  }
  const done = (v: Jso): void => {
    lv().current = v
    lv().saved = S.Finish
    lv().state = S.EatWs
  }
  const utf = (cp: number): string => String.fromCodePoint(cp)

  main: while (peek()) {
    redo: for (;;) {
      const l = lv()
      switch (l.state) {
        case S.EatWs:
          while (isWs(c)) if (!advance() || !peek()) break main
          if (c === '/') {
            pb = c
            l.state = S.CommentStart
          } else {
            l.state = l.saved
            continue redo
          }
          break
        case S.Start:
          switch (c) {
            case '{':
              l.state = S.EatWs
              l.saved = S.ObjectFieldStart
              l.current = {type: 'object', fields: new Map()}
              break
            case '[':
              l.state = S.EatWs
              l.saved = S.Array
              l.current = {type: 'array', items: []}
              break
            case 'I':
            case 'i':
              l.state = S.Inf
              pb = ''
              stPos = 0
              continue redo
            case 'N':
            case 'n':
              l.state = S.Null
              pb = ''
              stPos = 0
              continue redo
            case "'":
            case '"':
              l.state = S.String
              pb = ''
              quote = c
              break
            case 'T':
            case 't':
            case 'F':
            case 'f':
              l.state = S.Boolean
              pb = ''
              stPos = 0
              continue redo
            default:
              if (isDigit(c) || c === '-') {
                l.state = S.Number
                pb = ''
                isDouble = false
                continue redo
              }
              err = 'error'
              break main
          }
          break
        case S.Finish:
          if (depth === 0) break main
          obj = l.current
          reset(depth)
          depth--
          continue redo
        case S.Inf: {
          while (stPos < 8) {
            const ic = str[off] ?? '\0'
            if (ic !== 'Infinity'[stPos] && ic !== 'iNFINITY'[stPos]) {
              err = 'error'
              break main
            }
            stPos++
            advance()
            if (!peek()) break main
          }
          done({type: 'double', value: pb.startsWith('-') ? -Infinity : Infinity, text: null})
          continue redo
        }
        case S.Null: {
          pb += c
          if (strncaseeq('null', pb, Math.min(stPos + 1, 4))) {
            if (stPos === 4) {
              done(null)
              continue redo
            }
          } else if (strncaseeq('nan', pb, Math.min(stPos + 1, 3))) {
            if (stPos === 3) {
              done({type: 'double', value: NaN, text: null})
              continue redo
            }
          } else {
            err = 'error'
            break main
          }
          stPos++
          break
        }
        case S.CommentStart:
          if (c === '*') l.state = S.Comment
          else if (c === '/') l.state = S.CommentEol
          else {
            err = 'error'
            break main
          }
          break
        case S.Comment:
          while (c !== '*') if (!advance() || !peek()) break main
          l.state = S.CommentEnd
          break
        case S.CommentEol:
          while (c !== '\n') if (!advance() || !peek()) break main
          l.state = S.EatWs
          break
        case S.CommentEnd:
          l.state = c === '/' ? S.EatWs : S.Comment
          break
        case S.String:
        case S.ObjectField: {
          const field = l.state === S.ObjectField
          for (;;) {
            if (c === quote) {
              if (field) {
                l.field = cstr(pb)
                l.saved = S.ObjectFieldEnd
                l.state = S.EatWs
              } else done({type: 'string', value: pb})
              break
            }
            if (c === '\\') {
              l.saved = l.state
              l.state = S.StringEscape
              break
            }
            pb += c
            if (!advance() || !peek()) break main
          }
          break
        }
        case S.StringEscape: {
          const simple: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', n: '\n', r: '\r', t: '\t', f: '\f'}
          if (c in simple) {
            pb += simple[c]
            l.state = l.saved
          } else if (c === 'u') {
            ucs = 0
            stPos = 0
            l.state = S.EscapeUnicode
          } else {
            err = 'error'
            break main
          }
          break
        }
        case S.EscapeUnicode: {
          for (;;) {
            if (c === '\0' || !isHex(c)) {
              err = 'error'
              break main
            }
            ucs |= parseInt(c, 16) << ((3 - stPos) * 4)
            stPos++
            if (stPos >= 4) break
            advance()
            if (!peek()) break main
          }
          stPos = 0
          if (high) {
            if ((ucs & 0xfc00) === 0xdc00) ucs = ((high & 0x3ff) << 10) + (ucs & 0x3ff) + 0x10000
            else pb += '\ufffd'
            high = 0
          }
          if ((ucs & 0xfc00) === 0xd800) {
            high = ucs
            ucs = 0
            l.state = S.EscapeUnicodeNeedEscape
            break
          }
          pb += (ucs & 0xfc00) === 0xdc00 || ucs >= 0x110000 ? '\ufffd' : utf(ucs)
          l.state = l.saved
          break
        }
        case S.EscapeUnicodeNeedEscape:
          if (c !== '\\') {
            pb += '\ufffd'
            high = ucs = stPos = 0
            l.state = l.saved
            continue redo
          }
          l.state = S.EscapeUnicodeNeedU
          break
        case S.EscapeUnicodeNeedU:
          if (c !== 'u') {
            pb += '\ufffd'
            high = ucs = stPos = 0
            l.state = S.StringEscape
            continue redo
          }
          l.state = S.EscapeUnicode
          break
        case S.Boolean: {
          pb += c
          if (strncaseeq('true', pb, Math.min(stPos + 1, 4))) {
            if (stPos === 4) {
              done({type: 'boolean', value: true})
              continue redo
            }
          } else if (strncaseeq('false', pb, Math.min(stPos + 1, 5))) {
            if (stPos === 5) {
              done({type: 'boolean', value: false})
              continue redo
            }
          } else {
            err = 'error'
            break main
          }
          stPos++
          break
        }
        case S.Number: {
          let caseLen = 0
          let isExp = false
          let negOk = true
          let posOk = false
          while (
            c !== '\0' &&
            (isDigit(c) || (!isExp && (c === 'e' || c === 'E')) || (negOk && c === '-') || (posOk && c === '+') || (!isDouble && c === '.'))
          ) {
            posOk = negOk = false
            caseLen++
            if (c === '.') {
              isDouble = true
              posOk = negOk = true
            } else if (c === 'e' || c === 'E') {
              isExp = true
              isDouble = true
              posOk = negOk = true
            }
            pb += c
            if (!advance() || !peek()) break main
          }
          if (depth > 0 && !',]}/Ii'.includes(c) && !isWs(c)) {
            err = 'error'
            break main
          }
          if (pb[0] === '-' && caseLen <= 1 && (c === 'i' || c === 'I')) {
            l.state = S.Inf
            stPos = 0
            continue redo
          }
          if (isDouble) while (pb.length > 1 && 'eE-+'.includes(pb[pb.length - 1])) pb = pb.slice(0, -1)
          let v: Jso | undefined
          if (!isDouble && pb[0] === '-') {
            const n = parseInt64(pb, false)
            if (n !== null) v = {type: 'int', value: n}
          } else if (!isDouble) {
            const n = parseInt64(pb, true)
            if (n !== null) v = {type: 'int', value: n}
          } else {
            const d = parseDouble(pb)
            if (d !== null) v = {type: 'double', value: d, text: pb}
          }
          if (v === undefined) {
            err = 'error'
            break main
          }
          done(v)
          continue redo
        }
        case S.Array:
        case S.ArrayAfterSep:
          if (c === ']') {
            l.saved = S.Finish
            l.state = S.EatWs
          } else {
            if (depth >= MAX_DEPTH - 1) {
              err = 'error'
              break main
            }
            l.state = S.ArrayAdd
            depth++
            reset(depth)
            continue redo
          }
          break
        case S.ArrayAdd:
          ;(l.current as JsoArray).items.push(obj)
          l.saved = S.ArraySep
          l.state = S.EatWs
          continue redo
        case S.ArraySep:
          if (c === ']') {
            l.saved = S.Finish
            l.state = S.EatWs
          } else if (c === ',') {
            l.saved = S.ArrayAfterSep
            l.state = S.EatWs
          } else {
            err = 'error'
            break main
          }
          break
        case S.ObjectFieldStart:
        case S.ObjectFieldStartAfterSep:
          if (c === '}') {
            l.saved = S.Finish
            l.state = S.EatWs
          } else if (c === '"' || c === "'") {
            quote = c
            pb = ''
            l.state = S.ObjectField
          } else {
            err = 'error'
            break main
          }
          break
        case S.ObjectFieldEnd:
          if (c !== ':') {
            err = 'error'
            break main
          }
          l.saved = S.ObjectValue
          l.state = S.EatWs
          break
        case S.ObjectValue:
          if (depth >= MAX_DEPTH - 1) {
            err = 'error'
            break main
          }
          l.state = S.ObjectValueAdd
          depth++
          reset(depth)
          continue redo
        case S.ObjectValueAdd:
          ;(l.current as JsoObject).fields.set(l.field!, obj)
          l.field = null
          l.saved = S.ObjectSep
          l.state = S.EatWs
          continue redo
        case S.ObjectSep:
          if (c === '}') {
            l.saved = S.Finish
            l.state = S.EatWs
          } else if (c === ',') {
            l.saved = S.ObjectFieldStartAfterSep
            l.state = S.EatWs
          } else {
            err = 'error'
            break main
          }
          break
      }
      break
    }
    const before = c
    advance()
    if (before === '\0') break
  }
  // out:
  if (c === '\0' && lv().state !== S.Finish && lv().saved !== S.Finish) err = 'error'
  return err === 'success' ? lv().current : null
}

// --- the object API ---------------------------------------------------------------------------------

/** json_object_object_get_ex: whether `o` is an object with `key` (whose value may be NULL). */
export function objectGetEx(o: Jso, key: string): {found: boolean; value: Jso} {
  if (o === null || o.type !== 'object' || !o.fields.has(key)) return {found: false, value: null}
  return {found: true, value: o.fields.get(key)!}
}

/**
 * json_object_array_length: asserts the type. The banner is glibc's
 * __assert_fail with the file and line of json-c 0.16 as the distributions
 * build it; then abort().
 */
export function arrayLength(o: Jso): number {
  if (o !== null && o.type === 'array') return o.items.length
  throw new Crash(
    134,
    (env) => `${env.prog}: ./json_object.c:1473: json_object_array_length: Assertion \`json_object_get_type(jso) == json_type_array' failed.\n`,
  )
}

/** json_object_object_foreach: the entries of an object; anything else is a NULL lh_table (segfault). */
export function objectEntries(o: Jso): Array<[string, Jso]> {
  if (o === null || o.type !== 'object') throw new Crash(139)
  return [...o.fields]
}

/** json_object_get_string as C sees it (up to the first NUL): a string's text, any other value's JSON, NULL for NULL. */
export function getString(o: Jso): string | null {
  if (o === null) return null
  return cstr(o.type === 'string' ? o.value : toJsonString(o))
}

/** json_escape_str without JSON_C_TO_STRING_NOSLASHESCAPE. */
function escape(s: string): string {
  const named: Record<string, string> = {'\b': '\\b', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f', '"': '\\"', '\\': '\\\\', '/': '\\/'}
  let out = ''
  for (const ch of s) {
    if (ch in named) out += named[ch]
    else if (ch < ' ') out += '\\u00' + ch.charCodeAt(0).toString(16).padStart(2, '0')
    else out += ch
  }
  return out
}

/** json_object_to_json_string: JSON_C_TO_STRING_SPACED (`{ "a": 1 }`, `[ 1, 2 ]`, `{ }`). */
export function toJsonString(o: Jso): string {
  if (o === null) return 'null'
  switch (o.type) {
    case 'object':
      return '{' + [...o.fields].map(([k, v]) => ` "${escape(k)}": ${toJsonString(v)}`).join(',') + ' }'
    case 'array':
      return '[' + o.items.map((v) => ` ${toJsonString(v)}`).join(',') + ' ]'
    case 'string':
      return `"${escape(o.value)}"`
    case 'int':
      return o.value.toString()
    case 'boolean':
      return String(o.value)
    case 'double':
      return o.text ?? (Number.isNaN(o.value) ? 'NaN' : o.value > 0 ? 'Infinity' : '-Infinity')
  }
}
