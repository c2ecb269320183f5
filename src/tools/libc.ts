// The C library behaviour the s390-tools rely on: scanf conversions, strtol,
// the output buffering of stdio, and how a process dies (abort, segfault).

import {readFileSync} from 'node:fs'

import {ToolExit} from '../core/errors.js'

/**
 * A byte of C output that is not UTF-8 text on its own (a `%c` of 0x80 to
 * 0xff) is kept in a string as the lone surrogate U+DC80 to U+DCFF (the
 * "surrogateescape" convention) and written as that one byte: see cBytes.
 */
export const cChar = (c: number): string => ((c & 0xff) < 0x80 ? String.fromCharCode(c & 0xff) : String.fromCharCode(0xdc00 + (c & 0xff)))

const RAW_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/

/** The bytes a C program writes for `text`: UTF-8, with cChar's escaped bytes as themselves. */
export function cBytes(text: string): string | Buffer {
  if (!RAW_BYTE.test(text)) return text
  const parts: Buffer[] = []
  let start = 0
  for (const m of text.matchAll(new RegExp(RAW_BYTE, 'g'))) {
    parts.push(Buffer.from(text.slice(start, m.index), 'utf8'), Buffer.of(m[0].charCodeAt(0) - 0xdc00))
    start = m.index + 1
  }
  parts.push(Buffer.from(text.slice(start), 'utf8'))
  return Buffer.concat(parts)
}

/** strcmp order: alphasort and ls in the C locale. */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
/** isspace in the C locale, of a UTF-16 code unit (NaN past the end: no). */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13)

/** A digit's value in bases up to 36 (0-9, then a-z or A-Z), or -1. */
function digit36(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 122) return c - 87
  if (c >= 65 && c <= 90) return c - 55
  return -1
}

const hexDigit = (c: number): number => {
  const d = digit36(c)
  return d < 16 ? d : -1
}

export interface Scan {
  value: number
  /** Index just past the converted text. */
  end: number
}

/**
 * One `%x` (or `%<width>x`) conversion at `pos`: blanks, sign, optional 0x,
 * hex digits. The value wraps to 32 bits like an unsigned int. Null when no
 * digit was converted.
 */
export function scanHex(s: string, pos = 0, width = Infinity): Scan | null {
  let p = pos
  while (isSpace(s.charCodeAt(p))) p++
  const start = p
  let neg = false
  let c = s.charCodeAt(p)
  if ((c === 43 || c === 45) && p - start < width) {
    neg = c === 45
    p++
  }
  let v = 0
  let digits = 0
  if (s.charCodeAt(p) === 48 && p - start < width) {
    p++
    digits++
    c = s.charCodeAt(p)
    if ((c === 120 || c === 88) && p - start < width) p++
  }
  for (let d = hexDigit(s.charCodeAt(p)); d >= 0 && p - start < width; d = hexDigit(s.charCodeAt(p))) {
    v = (v * 16 + d) % 0x100000000
    p++
    digits++
  }
  if (digits === 0) return null
  if (neg) v = (0x100000000 - v) % 0x100000000
  return {value: v, end: p}
}

/** sscanf(s, "%x.%x"): how many of the two numbers were converted. */
export function scanCardDomain(s: string): {card?: number; domain?: number} {
  const a = scanHex(s)
  if (!a) return {}
  if (s[a.end] !== '.') return {card: a.value}
  const b = scanHex(s, a.end + 1)
  return b ? {card: a.value, domain: b.value} : {card: a.value}
}

/**
 * strtol(s, &end, base) with base 0 (auto) or 10. Returns the value (as a
 * JS number; the tools only compare small ranges) and the end index; end is
 * 0 when nothing was converted.
 */
export function strtol(s: string, base: 0 | 10 = 0): Scan {
  let p = 0
  while (isSpace(s.charCodeAt(p))) p++
  let neg = false
  const sign = s.charCodeAt(p)
  if (sign === 43 || sign === 45) {
    neg = sign === 45
    p++
  }
  let b: number = base
  if (b === 0) {
    const x = s.charCodeAt(p + 1)
    if (s.charCodeAt(p) === 48 && (x === 120 || x === 88) && hexDigit(s.charCodeAt(p + 2)) >= 0) {
      b = 16
      p += 2
    } else if (s.charCodeAt(p) === 48) b = 8
    else b = 10
  }
  const start = p
  let v = 0
  while (p < s.length) {
    const d = digit36(s.charCodeAt(p))
    if (d < 0 || d >= b) break
    v = v * b + d
    p++
  }
  if (p === start) return {value: 0, end: 0}
  return {value: neg ? -v : v, end: p}
}

/** strtol(s, NULL, 0) exactly, for a 64-bit long: saturates at LONG_MIN/LONG_MAX; 0 when nothing converts. */
export function strtolLong(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX](?=[0-9a-fA-F])[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s)
  if (!m) return 0n
  const digits = m[2]
  const v = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt('0o' + digits.slice(1)) : BigInt(digits)
  const signed = m[1] === '-' ? -v : v
  const max = (1n << 63n) - 1n
  return signed > max ? max : signed < -max - 1n ? -max - 1n : signed
}

/** sscanf(s, "%ld") / "%li": the leading number, or null. */
export function scanLong(s: string, auto = false): number | null {
  const r = strtol(s, auto ? 0 : 10)
  return r.end === 0 ? null : r.value
}

/** printf("%02lx") of a C long, where negative values print as 64-bit two's complement. */
export function hexLong(n: number, width = 2): string {
  const v = n < 0 ? (1n << 64n) + BigInt(n) : BigInt(n)
  return v.toString(16).padStart(width, '0')
}

/**
 * The two output streams of a C program. stderr is unbuffered; stdout is
 * line buffered on a terminal and fully buffered (4096 bytes) otherwise, so
 * when both go to one pipe the error messages come first, as on a real host.
 */
export class Stdio {
  /** stdout text not yet in chunks (not a terminal): what the C buffer holds, and the blocks it wrote since the last settle. */
  private parts: string[] = []
  private partsLength = 0
  private readonly chunks: Array<{fd: 1 | 2; text: string}> = []

  /** The process was killed by this signal (a Crash): the drop-ins then end by it too, after the output. */
  killedBy?: FatalSignal

  constructor(private readonly stdoutIsTTY = false) {}

  out(text: string): void {
    if (this.stdoutIsTTY) {
      this.chunks.push({fd: 1, text})
      return
    }
    this.parts.push(text)
    this.partsLength += text.length
    // Joined a piece at a time: a listing of 65,536 rows is kept as a few
    // hundred strings, written in as many writes.
    if (this.partsLength >= SETTLE) this.settle()
  }

  /**
   * What stdout has written so far, in whole 4096-byte blocks, becomes one
   * chunk; the rest stays in the buffer. Only the order of the chunks of
   * both streams is observable, and each block is written before anything
   * that follows it on stderr.
   */
  private settle(): void {
    if (this.partsLength < 4096) return
    const all = this.parts.length === 1 ? this.parts[0] : this.parts.join('')
    const n = all.length - (all.length % 4096)
    this.chunks.push({fd: 1, text: all.slice(0, n)})
    this.parts = n < all.length ? [all.slice(n)] : []
    this.partsLength = all.length - n
  }

  err(text: string): void {
    this.settle()
    this.chunks.push({fd: 2, text})
  }

  /** Everything in the order it reaches the file descriptors, stdout flushed at exit (its last partial block a chunk of its own). */
  drain(): Array<{fd: 1 | 2; text: string}> {
    this.settle()
    if (this.partsLength > 0) this.chunks.push({fd: 1, text: this.parts.join('')})
    this.parts = []
    this.partsLength = 0
    return this.chunks.splice(0)
  }

  /** Both streams as strings, for tests. */
  get stdout(): string {
    return this.collect(1)
  }

  get stderr(): string {
    return this.collect(2)
  }

  private collect(fd: 1 | 2): string {
    return this.chunks.filter((c) => c.fd === fd).map((c) => c.text).join('') + (fd === 1 ? this.parts.join('') : '')
  }
}

/** Characters of stdout joined into one chunk at a time (larger pieces measured slower: V8's large-object space). */
const SETTLE = 1 << 14

/**
 * Run a tool's main: an errx (ToolExit) goes to stderr and becomes the exit
 * code, as exit() would; success is 0.
 */
export function runMain(io: Stdio, main: () => void): number {
  try {
    main()
    return 0
  } catch (e) {
    if (!(e instanceof ToolExit)) throw e
    io.err(e.message)
    return e.exitCode
  }
}

// --- dying ---------------------------------------------------------------------------------------

export type FatalSignal = 'SIGABRT' | 'SIGSEGV'

/** What a dying process's last words depend on: its short name (glibc's assert prints it) and its core size limit. */
export interface CrashEnv {
  prog: string
  /** getrlimit(RLIMIT_CORE) gives 0: libutil's panic banner then says so. */
  coreDumpsOff: boolean
}

/**
 * The process ends abnormally: abort() (SIGABRT, status 134 in a shell) or
 * a segfault (SIGSEGV, 139). Whatever stdout still buffers is lost; `text`
 * is what it wrote to stderr on the way.
 */
export class Crash extends Error {
  constructor(
    readonly code: 134 | 139,
    private readonly text: string | ((env: CrashEnv) => string) = '',
  ) {
    super(typeof text === 'string' ? text : 'abort')
  }

  get signal(): FatalSignal {
    return this.code === 139 ? 'SIGSEGV' : 'SIGABRT'
  }

  stderr(env: CrashEnv): string {
    return typeof this.text === 'string' ? this.text : this.text(env)
  }
}

/** The soft core size limit of this process is 0 (Linux: /proc/self/limits; unknown counts as 0, the usual default). */
export function coreDumpsOff(): boolean {
  try {
    const m = /^Max core file size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))
    return m === null || m[1] === '0'
  } catch {
    return true
  }
}

/**
 * raise(): end this process by the signal the real tool dies of, so that a
 * parent's waitpid sees the signal, not an exit status. Call it after the
 * output is written (writes to files, pipes and terminals are synchronous
 * on Linux). Should the signal be caught, exit with the shell's status.
 */
export function raise(sig: FatalSignal): never {
  process.kill(process.pid, sig)
  process.exit(sig === 'SIGABRT' ? 134 : 139)
}
