// The process side zdev's tools share (s390-tools 2.43.0, zdev/src/misc.c):
// what chzdev and lszdev take from their process (ZdevContext), the
// messages of misc.c with their delayed queue (ZOut), running a tool main
// against a private stdio, glibc's strerror, dying by SIGSEGV, the aplab
// message for paths that are not emulated, and misc.c's string helpers
// (quote_str, unquote_str, shrink_str).

import {ERRNO, KernelError} from '../../core/errors.js'
import {Crash, Stdio, coreDumpsOff} from '../libc.js'
import {S390_TOOLS_VERSION} from '../usage.js'
import {EXIT} from './exit_code.js'

// --- the process ---------------------------------------------------------------------------------

/** What chzdev/lszdev take from their process and from the caller's file system. */
export interface ZdevContext {
  /** argv[0] as typed: the prefix of error() and syntax() messages and of --version. */
  prog: string
  /** program_invocation_short_name, the prefix of warnx(); default: the basename of prog. */
  shortName?: string
  /** uname nodename, for the export file header. */
  nodename: string
  /** stdout is a terminal: line-buffered; otherwise fully buffered (lost on abort). */
  stdoutIsTTY?: boolean
  /** Read a file of the caller (--import FILE); throws a Node-style error with `code`. */
  readFile: (path: string) => string
  /** Create/truncate and write a file of the caller (--export FILE); throws like readFile. */
  writeFile: (path: string, text: string) => void
  /** Standard input, for --import -; null or absent when closed. */
  stdin?: string | null
  /** SYSFS_ROOT as libutil reads it (default /sys): reads of sysfs go there, writes use --base. */
  sysfsRoot?: string
  /** POSIXLY_CORRECT is set: getopt stops at the first operand. */
  posixlyCorrect?: boolean
  /** The core size limit is 0 (util_assert's banner says so); default: this process's limit. */
  coreDumpsOff?: boolean
}

export const SIGSEGV = (): never => {
  throw new Crash(139)
}

/** glibc strerror for an errno name, a KernelError or a Node error. */
export function errText(e: unknown): string {
  const code = e instanceof KernelError ? e.errno : ((e as NodeJS.ErrnoException | null)?.code ?? '')
  const known: Record<string, string> = {
    ...Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [k, v[1]])),
    ENOSPC: 'No space left on device',
    EROFS: 'Read-only file system',
    ELOOP: 'Too many levels of symbolic links',
    ENAMETOOLONG: 'File name too long',
  }
  return known[code] ?? 'Input/output error'
}

/** The messages of misc.c: info/verb (stdout, or stderr when stdout carries data), warn, error, syntax, the delayed queue. */
export class ZOut {
  readonly std: Stdio
  quiet = false
  verbose = false
  force = false
  stdoutData = false
  foundForceable = false
  delayedErrors = 0
  private delayed: string[] = []

  constructor(
    readonly prog: string,
    readonly shortName: string,
    tty: boolean,
  ) {
    this.std = new Stdio(tty)
  }

  out(s: string): void {
    this.std.out(s)
  }

  err(s: string): void {
    this.std.err(s)
  }

  /** warn(): stderr without a prefix. */
  warn(s: string): void {
    this.err(s)
  }

  info(s: string): void {
    if (this.quiet) return
    if (this.stdoutData) this.err(s)
    else this.out(s)
  }

  verb(s: string): void {
    if (!this.verbose) return
    if (this.stdoutData) this.err(s)
    else this.out(s)
  }

  error(s: string): void {
    this.err(`${this.prog}: ${s}`)
  }

  syntax(s: string): void {
    this.err(`${this.prog}: ${s}Use '${this.prog} --help' for more information\n`)
  }

  warnx(s: string): void {
    this.err(`${this.shortName}: ${s}\n`)
  }

  delayedErr(s: string): void {
    this.delayedErrors++
    this.delayed.push(`Error: ${s}`)
  }

  delayedWarn(s: string): void {
    this.delayed.push(`Warning: ${s}`)
  }

  delayedInfo(s: string): void {
    if (!this.quiet) this.delayed.push(s)
  }

  delayedForceable(s: string): void {
    this.foundForceable = true
    this.delayedErrors++
    const msg = s.endsWith('\n') ? s.slice(0, -1) : s
    this.delayed.push(`${this.force ? 'Warning:' : 'Error:'} ${msg}${this.force ? '' : ' (*)'}\n`)
  }

  delayedAvailable(): boolean {
    return this.delayed.length > 0
  }

  delayedPrint(indent: number): void {
    const pad = ' '.repeat(indent)
    for (const s of this.delayed.splice(0)) {
      if (s.startsWith('Warning:') || s.startsWith('Error:')) this.err(pad + s)
      else this.info(pad + s)
    }
    this.delayedErrors = 0
  }

  /** indent(): each line of `text` printed with `i` blanks, empty lines as they are. */
  indent(i: number, text: string): void {
    const parts = text.split('\n')
    if (parts[parts.length - 1] === '') parts.pop()
    for (const p of parts) this.out(p === '' ? '\n' : ' '.repeat(i) + p + '\n')
  }
}

/**
 * Run a tool main against a private stdio and hand the output to `io` in
 * the order it reaches the file descriptors. A crash ends the process: its
 * message goes to stderr, whatever stdout still buffers is dropped, and
 * `io.killedBy` names the signal (the exit code is the shell's 128 + n).
 */
export function runZdevTool(io: Stdio, ctx: ZdevContext, main: (o: ZOut) => number): number {
  const prog = ctx.prog
  const shortName = ctx.shortName ?? prog.slice(prog.lastIndexOf('/') + 1)
  const o = new ZOut(prog, shortName, ctx.stdoutIsTTY ?? false)
  let code: number
  let crashed = false
  try {
    code = main(o)
  } catch (e) {
    if (!(e instanceof Crash)) throw e
    o.err(e.stderr({prog: shortName, coreDumpsOff: ctx.coreDumpsOff ?? coreDumpsOff()}))
    code = e.code
    crashed = true
    io.killedBy = e.signal
  }
  const pending = ctx.stdoutIsTTY ? 0 : o.std.stdout.length % 4096
  const chunks = o.std.drain()
  if (crashed && pending > 0) chunks.pop()
  for (const c of chunks) {
    if (c.fd === 1) io.out(c.text)
    else io.err(c.text)
  }
  return code
}

export const versionText = (prog: string): string => `${prog} version ${S390_TOOLS_VERSION}\n`

/** Thrown where aplab stops emulating a device path (device creation, type settings of other types). */
export class NotEmulated extends Error {}

export function notEmulated(o: ZOut, what: string): number {
  o.err(`aplab: ${o.shortName}: ${what} is not emulated\n`)
  return EXIT.RUNTIME_ERROR
}

// --- strings (misc.c) -------------------------------------------------------------------------------

export const isWs = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c)

/** quote_str: escape \ " and newline; quote when forced, when there are blanks, or when empty. */
export function quoteStr(value: string, force: boolean): string {
  let special = 0
  let spaces = 0
  for (const c of value) {
    if (c === '\\' || c === '"' || c === '\n') special++
    else if (isWs(c)) spaces++
  }
  if (special === 0) return force || spaces > 0 || value === '' ? `"${value}"` : value
  let s = '"'
  for (const c of value) {
    if (c === '\\' || c === '"') s += '\\' + c
    else if (c === '\n') s += '\\n'
    else s += c
  }
  return s + '"'
}

/** unquote_str: trim, drop the surrounding quotes, resolve backslash escapes. */
export function unquoteStr(value: string): string {
  let first = 0
  while (first < value.length && isWs(value[first])) first++
  let last = value.length - 1
  while (last >= first && isWs(value[last])) last--
  let out = ''
  for (let i = first; i <= last; i++) {
    let c = value[i]
    if (c === '"' && i === first) continue
    if (i === last) {
      if (c === '"') break
    } else if (c === '\\') {
      c = value[++i]
      if (c === 'n') c = '\n'
    }
    out += c ?? ''
  }
  return out
}

export const shrinkStr = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '').replace(/[ \t\n\v\f\r]+$/, '')
