// The one place that reads the process environment: where the state is,
// which host a command acts on, who the caller is, and where output goes.
// Tests redirect all of it by passing their own values.

import * as fs from 'node:fs'
import {createRequire} from 'node:module'

import {AplabError, UsageError} from '../core/errors.js'
import {HOST_NAME_RE, type Host, type World} from '../core/model.js'
import {type Stdio, cBytes} from '../tools/libc.js'
import {statePath} from '../state/store.js'

export interface Env {
  /** The state file. */
  state: string
  /** Host to act on (--host / $APLAB_HOST); the state's current host when unset. */
  host?: string
  /** The caller's uid as the emulated host sees it ($APLAB_UID, default root). */
  uid: number
  /** A real sysfs tree to use instead of the emulated host ($SYSFS_ROOT). */
  sysfsRoot?: string
  /** A real root tree for mdevctl instead of the emulated host ($MDEVCTL_ENV_ROOT). */
  mdevctlRoot?: string
  stdoutIsTTY: boolean
  /** The first environment string (NAME=value): a C program's memory right after its last argument (lszcrypt reads it). */
  firstEnviron?: string
}

export function processEnv(stateFlag?: string, hostFlag?: string, env: NodeJS.ProcessEnv = process.env): Env {
  const uid = env.APLAB_UID === undefined || env.APLAB_UID === '' ? 0 : Number(env.APLAB_UID)
  if (!Number.isInteger(uid) || uid < 0) throw new UsageError(`APLAB_UID must be a user id, not '${env.APLAB_UID}'`)
  const host = hostFlag ?? (env.APLAB_HOST || undefined)
  if (host !== undefined && !HOST_NAME_RE.test(host))
    throw new UsageError(`'${host}' is not a valid host name (letters, digits, '.', '_' and '-', not starting with a punctuation mark)`)
  return {
    state: statePath(stateFlag, env),
    host,
    uid,
    sysfsRoot: env.SYSFS_ROOT || undefined,
    mdevctlRoot: env.MDEVCTL_ENV_ROOT || undefined,
    stdoutIsTTY: isTerminal(1),
    firstEnviron: firstEnviron(env),
  }
}

function firstEnviron(env: NodeJS.ProcessEnv): string | undefined {
  for (const k in env) return `${k}=${env[k]}`
  return undefined
}

export function pickHost(world: World, name?: string): Host {
  const want = name ?? world.current
  const h = world.hosts.find((x) => x.name === want)
  if (!h) throw new UsageError(`no host named '${want}' (hosts: ${world.hosts.map((x) => x.name).join(', ')})`)
  return h
}

// --- standard output and error -----------------------------------------------

let streamsReady = false
let direct = false

/**
 * process.stdout and process.stderr, made once with the handlers a C tool's
 * death by SIGPIPE asks for: a reader that goes away ends the process with
 * status 141 and nothing printed; any other failure to write (a full disk, a
 * closed descriptor) with status 1, without a stack trace.
 */
export function stdStreams(): {stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream} {
  if (!streamsReady) {
    streamsReady = true
    for (const s of [process.stdout, process.stderr]) s.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 141 : 1))
  }
  return {stdout: process.stdout, stderr: process.stderr}
}

/**
 * The binaries write a tool's output with write(2) on descriptors 1 and 2, as
 * the C tool does, rather than through Node's streams: making a stream for a
 * pipe loads Node's networking, a good part of a short call. Only until the
 * streams are made (stdStreams), so that nothing overtakes what they hold.
 */
export function writeDescriptors(): void {
  direct = true
}

function writeFd(fd: number, data: string | Buffer): void {
  let buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  while (buf.length > 0) {
    let n: number
    try {
      n = fs.writeSync(fd, buf)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EAGAIN') {
        // A descriptor left non-blocking by another program: wait for the reader.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
        continue
      }
      process.exit(code === 'EPIPE' ? 141 : 1)
    }
    buf = buf.subarray(n)
  }
}

/** Write to standard output (1) or error (2). */
export function writeOut(fd: 1 | 2, data: string | Buffer): void {
  if (direct && !streamsReady) writeFd(fd, data)
  else stdStreams()[fd === 1 ? 'stdout' : 'stderr'].write(data)
}

/** What must be done before a child process writes to this process's terminal (aplab batch's progress bar erased). */
const handOvers = new Set<() => void>()

/** Run `fn` whenever a child process is about to get the terminal; undone by the function returned. */
export function beforeChildOutput(fn: () => void): () => void {
  handOvers.add(fn)
  return () => void handOvers.delete(fn)
}

/**
 * Called just before a child process that inherits standard output or error
 * is started: what this process drew on the terminal that is not output of
 * its own (a progress bar) is taken off, as it is before its own output.
 */
export function handOverTerminal(): void {
  for (const fn of handOvers) fn()
}

/** Write what a tool printed, in the order a C program's streams would deliver it (raw bytes as bytes). */
export function emit(io: Stdio): void {
  for (const c of io.drain()) writeOut(c.fd === 1 ? 1 : 2, cBytes(c.text))
}

/**
 * isatty(fd), without loading Node's tty module (and with it its
 * networking) for what cannot be a terminal: files, pipes, sockets,
 * /dev/null.
 */
export function isTerminal(fd: number): boolean {
  return (terminal[fd] ??= terminalNow(fd))
}

/** Asked once per descriptor and process (aplab batch asks at every line). */
const terminal: Record<number, boolean> = {}

function terminalNow(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd)
    if (!st.isCharacterDevice()) return false
    // Linux's memory devices (major 1: /dev/null, /dev/zero, /dev/full...) are never terminals.
    if (process.platform === 'linux' && ((st.rdev >>> 8) & 0xfff) === 1 && st.rdev < 2 ** 32) return false
  } catch {
    return false
  }
  return (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty(fd)
}

/** The one-line message for any error that reaches the user; never a stack trace. */
export function errorMessage(e: unknown): {message: string; exitCode: number} {
  if (e instanceof AplabError) return {message: e.message, exitCode: e.exitCode}
  const msg = e instanceof Error ? e.message : String(e)
  return {message: `internal error: ${msg.split('\n')[0]}`, exitCode: 70}
}
