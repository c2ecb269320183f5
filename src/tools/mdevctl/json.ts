// serde_json::from_str for mdevctl's definitions, --jsonfile and callout
// output: the values as views/mdevctl.ts holds them (key order kept, number
// texts kept), serde_json's error messages with their line and column, and
// the Value indexing (`json["key"]`) mdev.rs uses.

import {JObj, type JVal, numText} from '../../views/mdevctl.js'
import {RustError} from './rust.js'

/** Parse JSON text the way serde_json does, with its error messages and positions. */
export function parseJson(text: string): JVal {
  return new JsonParser(Buffer.from(text, 'utf8')).document()
}

class JsonParser {
  private i = 0
  private depth = 128

  constructor(private readonly b: Buffer) {}

  private at(idx: number): string {
    let line = 1
    let col = 0
    for (let k = 0; k < idx; k++)
      if (this.b[k] === 10) {
        line++
        col = 0
      } else col++
    return `line ${line} column ${col}`
  }

  private error(code: string): never {
    throw new RustError([`${code} at ${this.at(this.i)}`])
  }

  private peekError(code: string): never {
    throw new RustError([`${code} at ${this.at(Math.min(this.b.length, this.i + 1))}`])
  }

  private ws(): number | null {
    while (this.i < this.b.length && (this.b[this.i] === 0x20 || this.b[this.i] === 0x0a || this.b[this.i] === 0x09 || this.b[this.i] === 0x0d)) this.i++
    return this.i < this.b.length ? this.b[this.i] : null
  }

  document(): JVal {
    const v = this.value()
    if (this.ws() !== null) this.peekError('trailing characters')
    return v
  }

  private ident(rest: string): void {
    for (const ch of rest) {
      if (this.i >= this.b.length) this.error('EOF while parsing a value')
      const c = this.b[this.i++]
      if (c !== ch.charCodeAt(0)) this.error('expected ident')
    }
  }

  private value(): JVal {
    const c = this.ws()
    if (c === null) this.peekError('EOF while parsing a value')
    switch (String.fromCharCode(c!)) {
      case 'n':
        this.i++
        this.ident('ull')
        return null
      case 't':
        this.i++
        this.ident('rue')
        return true
      case 'f':
        this.i++
        this.ident('alse')
        return false
      case '-':
        this.i++
        return this.number(this.i - 1)
      case '"':
        this.i++
        return this.string()
      case '[': {
        if (--this.depth === 0) this.peekError('recursion limit exceeded')
        this.i++
        const out: JVal[] = []
        let first = true
        for (;;) {
          let p = this.ws()
          if (p === null) this.peekError('EOF while parsing a list')
          if (p === 0x5d) break
          if (first) first = false
          else if (p === 0x2c) {
            this.i++
            p = this.ws()
            if (p === 0x5d) this.peekError('trailing comma')
            if (p === null) this.peekError('EOF while parsing a value')
          } else this.peekError('expected `,` or `]`')
          out.push(this.value())
        }
        this.i++
        this.depth++
        return out
      }
      case '{': {
        if (--this.depth === 0) this.peekError('recursion limit exceeded')
        this.i++
        const obj = new JObj()
        let first = true
        for (;;) {
          let p = this.ws()
          if (p === 0x7d) break
          if (p === 0x2c && !first) {
            this.i++
            p = this.ws()
          } else if (p !== null) {
            if (first) first = false
            else this.peekError('expected `,` or `}`')
          } else this.peekError('EOF while parsing an object')
          if (p === 0x22) {
            this.i++
          } else if (p === 0x7d) this.peekError('trailing comma')
          else if (p !== null) this.peekError('key must be a string')
          else this.peekError('EOF while parsing a value')
          const key = this.string()
          const colon = this.ws()
          if (colon === 0x3a) this.i++
          else if (colon === null) this.peekError('EOF while parsing an object')
          else this.peekError('expected `:`')
          obj.set(key, this.value())
        }
        this.i++
        this.depth++
        return obj
      }
      default:
        if (c! >= 0x30 && c! <= 0x39) return this.number(this.i)
        return this.peekError('expected value')
    }
  }

  private isDigit(i: number): boolean {
    return i < this.b.length && this.b[i] >= 0x30 && this.b[i] <= 0x39
  }

  private number(start: number): JVal {
    if (this.i >= this.b.length) this.error('EOF while parsing a value')
    const c = this.b[this.i++]
    if (c === 0x30) {
      if (this.isDigit(this.i)) this.peekError('invalid number')
    } else if (c >= 0x31 && c <= 0x39) {
      while (this.isDigit(this.i)) this.i++
    } else this.error('invalid number')
    let float = false
    if (this.b[this.i] === 0x2e) {
      float = true
      this.i++
      if (!this.isDigit(this.i)) {
        if (this.i < this.b.length) this.peekError('invalid number')
        this.peekError('EOF while parsing a value')
      }
      while (this.isDigit(this.i)) this.i++
    }
    if (this.b[this.i] === 0x65 || this.b[this.i] === 0x45) {
      float = true
      this.i++
      if (this.b[this.i] === 0x2b || this.b[this.i] === 0x2d) this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a value')
      const d = this.b[this.i++]
      if (d < 0x30 || d > 0x39) this.error('invalid number')
      while (this.isDigit(this.i)) this.i++
    }
    const text = this.b.subarray(start, this.i).toString('latin1')
    if (!float) {
      const n = BigInt(text)
      if (n >= -(2n ** 63n) && n < 2n ** 64n) return numText(text)
    }
    if (!Number.isFinite(Number(text))) this.error('number out of range')
    return numText(float ? text : text + '.0')
  }

  private hex4(): number {
    if (this.i + 4 > this.b.length) {
      this.i = this.b.length
      this.error('EOF while parsing a string')
    }
    let n = 0
    for (let k = 0; k < 4; k++) {
      const v = parseInt(String.fromCharCode(this.b[this.i]), 16)
      this.i++
      if (Number.isNaN(v)) this.error('invalid escape')
      n = n * 16 + v
    }
    return n
  }

  private string(): string {
    const parts: Buffer[] = []
    let start = this.i
    for (;;) {
      while (this.i < this.b.length && this.b[this.i] !== 0x22 && this.b[this.i] !== 0x5c && this.b[this.i] >= 0x20) this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a string')
      const c = this.b[this.i]
      if (c === 0x22) {
        parts.push(this.b.subarray(start, this.i))
        this.i++
        return Buffer.concat(parts).toString('utf8')
      }
      if (c !== 0x5c) {
        this.i++
        this.error('control character (\\u0000-\\u001F) found while parsing a string')
      }
      parts.push(this.b.subarray(start, this.i))
      this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a string')
      const e = String.fromCharCode(this.b[this.i++])
      const simple: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}
      if (e in simple) parts.push(Buffer.from(simple[e], 'utf8'))
      else if (e === 'u') {
        const n1 = this.hex4()
        if (n1 >= 0xdc00 && n1 <= 0xdfff) this.error('lone leading surrogate in hex escape')
        if (n1 < 0xd800 || n1 > 0xdbff) parts.push(Buffer.from(String.fromCharCode(n1), 'utf8'))
        else {
          if (this.i >= this.b.length) this.error('EOF while parsing a string')
          if (this.b[this.i++] !== 0x5c) this.error('unexpected end of hex escape')
          if (this.i >= this.b.length) this.error('EOF while parsing a string')
          if (this.b[this.i++] !== 0x75) this.error('unexpected end of hex escape')
          const n2 = this.hex4()
          if (n2 < 0xdc00 || n2 > 0xdfff) this.error('lone leading surrogate in hex escape')
          parts.push(Buffer.from(String.fromCharCode(n1, n2), 'utf8'))
        }
      } else this.error('invalid escape')
      start = this.i
    }
  }
}

export const jget = (v: JVal, key: string): JVal => (v instanceof JObj ? (v.get(key) ?? null) : null)
