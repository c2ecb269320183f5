// What mdevctl takes from Rust's std and anyhow: the error chain of
// anyhow (`Error:` / `Caused by:`, Context), a panic, io::Error's Display,
// the UTF-8 check of read_to_string, Debug quoting of strings and paths,
// str::parse::<i32>, str::trim and the Path basename/parent mdevctl uses.

import {ERRNO, KernelError} from '../../core/errors.js'

/** An anyhow::Error: the message, then its causes. */
export class RustError extends Error {
  constructor(readonly chain: string[]) {
    super(chain[0])
  }
}

/** A panic (exit 101). */
export class Panic extends Error {
  constructor(
    readonly location: string,
    readonly text: string,
  ) {
    super(text)
  }
}

export class Utf8Error extends Error {}

export const fail = (msg: string): never => {
  throw new RustError([msg])
}

/** io::Error's Display. */
export function ioText(e: unknown): string {
  if (e instanceof KernelError) {
    const [n, text] = ERRNO[e.errno]
    return `${text} (os error ${n})`
  }
  if (e instanceof Utf8Error) return 'stream did not contain valid UTF-8'
  if (e instanceof RustError) return e.chain[0]
  throw e
}

export const io = (e: unknown): RustError => (e instanceof RustError ? e : new RustError([ioText(e)]))
export const context = (msg: string, e: unknown): RustError => new RustError([msg, ...io(e).chain])

/** anyhow's Debug format as `fn main() -> Result<()>` prints it. */
export function errorReport(chain: string[]): string {
  let out = 'Error: ' + chain[0]
  if (chain.length > 1) {
    out += '\n\nCaused by:'
    const numbered = chain.length > 2
    chain.slice(1).forEach((c, n) => {
      out += '\n' + (numbered ? `${String(n).padStart(5)}: ` : '    ')
      out += c.split('\n').join('\n' + (numbered ? '       ' : '    '))
    })
  }
  return out + '\n'
}

/** Rust's Debug of a str or a Path: quoted, with escape_debug. */
export function rustDebug(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\0') out += '\\0'
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`
    else out += ch
  }
  return out + '"'
}

/** str::parse::<i32>() of a trimmed string, with the ParseIntError texts. */
export function parseI32(s: string): number {
  if (s === '') fail('cannot parse integer from empty string')
  if (!/^[+-]?\d+$/.test(s)) fail('invalid digit found in string')
  const v = Number(s)
  if (v > 2147483647) fail('number too large to fit in target type')
  if (v < -2147483648) fail('number too small to fit in target type')
  return v
}

export const rustTrim = (s: string): string => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '')
export const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1)
export const dirname = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 0)) || '/'

export function decodeUtf8(b: Buffer): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(b)
  } catch {
    throw new Utf8Error()
  }
}
