// The one place that reads the process environment: where the state is,
// which host a command acts on, who the caller is, and where output goes.
// Tests redirect all of it by passing their own values.

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
    stdoutIsTTY: Boolean(process.stdout.isTTY),
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

/** Write what a tool printed, in the order a C program's streams would deliver it (raw bytes as bytes). */
export function emit(io: Stdio): void {
  for (const c of io.drain()) (c.fd === 1 ? process.stdout : process.stderr).write(cBytes(c.text))
}

/** The one-line message for any error that reaches the user; never a stack trace. */
export function errorMessage(e: unknown): {message: string; exitCode: number} {
  if (e instanceof AplabError) return {message: e.message, exitCode: e.exitCode}
  const msg = e instanceof Error ? e.message : String(e)
  return {message: `internal error: ${msg.split('\n')[0]}`, exitCode: 70}
}
