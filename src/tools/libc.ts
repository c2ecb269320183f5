// The C library behaviour the s390-tools rely on: scanf conversions, strtol,
// the output buffering of stdio, and how a process dies (abort, segfault).

import {readFileSync} from 'node:fs'

import {ToolExit} from '../core/errors.js'

const HEX = /[0-9a-fA-F]/

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
const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c)

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
  while (isSpace(s[p])) p++
  const start = p
  const room = () => p - start < width
  let neg = false
  if ((s[p] === '+' || s[p] === '-') && room()) {
    neg = s[p] === '-'
    p++
  }
  let v = 0
  let digits = 0
  if (s[p] === '0' && room()) {
    p++
    digits++
    if ((s[p] === 'x' || s[p] === 'X') && room()) p++
  }
  while (p < s.length && HEX.test(s[p]) && room()) {
    v = (v * 16 + parseInt(s[p], 16)) % 0x100000000
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
  while (isSpace(s[p])) p++
  let neg = false
  if (s[p] === '+' || s[p] === '-') {
    neg = s[p] === '-'
    p++
  }
  let b: number = base
  if (b === 0) {
    if (s[p] === '0' && (s[p + 1] === 'x' || s[p + 1] === 'X') && HEX.test(s[p + 2] ?? '')) {
      b = 16
      p += 2
    } else if (s[p] === '0') b = 8
    else b = 10
  }
  const start = p
  let v = 0
  while (p < s.length) {
    const d = parseInt(s[p], 36)
    if (Number.isNaN(d) || d >= b) break
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
  private pending = ''
  private readonly chunks: Array<{fd: 1 | 2; text: string}> = []

  /** The process was killed by this signal (a Crash): the drop-ins then end by it too, after the output. */
  killedBy?: FatalSignal

  constructor(private readonly stdoutIsTTY = false) {}

  out(text: string): void {
    if (this.stdoutIsTTY) {
      this.chunks.push({fd: 1, text})
      return
    }
    this.pending += text
    if (this.pending.length >= 4096) {
      const n = this.pending.length - (this.pending.length % 4096)
      this.chunks.push({fd: 1, text: this.pending.slice(0, n)})
      this.pending = this.pending.slice(n)
    }
  }

  err(text: string): void {
    this.chunks.push({fd: 2, text})
  }

  /** Everything in the order it reaches the file descriptors, stdout flushed at exit. */
  drain(): Array<{fd: 1 | 2; text: string}> {
    if (this.pending) this.chunks.push({fd: 1, text: this.pending})
    this.pending = ''
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
    return this.chunks.filter((c) => c.fd === fd).map((c) => c.text).join('') + (fd === 1 ? this.pending : '')
  }
}

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
