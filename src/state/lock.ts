// The state's lock: a directory FILE.lock holding one owner record, taken
// from its owner only when that owner is provably dead.
//
// The record (owner.TOKEN, TOKEN random) names the holder: pid, the process's
// start time (field 22 of /proc/PID/stat), the boot id and the host name. A
// waiter breaks the lock only when the holder is gone: no such pid, the pid
// now belongs to another process (another start time), a zombie, or another
// boot of this host. A stopped or busy holder is waited for, however long.
// A lock without a readable record (left by an older aplab, or made by hand)
// is stale once it has been left unchanged for GRACE_MS.
//
// Every step that decides is an atomic rename: a new lock is a staged
// directory (with its record already inside) renamed to FILE.lock, which
// succeeds only where there is no lock or an empty directory; a dead owner's
// record is renamed away by name, which only one waiter can do.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {randomToken} from './files.js'

/** How long a lock without a readable owner record must stay unchanged to be stale. */
export const GRACE_MS = 10_000
/** After how long waiting for one live holder a waiter says so (once). */
export const NOTICE_MS = 1000

export interface Owner {
  pid: number
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22). */
  start?: string
  boot?: string
  host: string
}

export interface Held {
  lockDir: string
  /** Whether this lock is still ours: its record is still in place. */
  stillHeld(): boolean
  release(): void
}

export interface LockOptions {
  /** Said once when a live holder has kept the lock for NOTICE_MS. */
  onWait?: (message: string) => void
  /** Create the state's directory again when it has gone. */
  makeDir?: () => void
  /** GRACE_MS unless given (tests). */
  graceMs?: number
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code

/** A small file (a record, /proc/PID/stat) never through a link, at most 4 KiB; null when unreadable. */
function readSmall(file: string): string | null {
  let fd: number
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
  } catch {
    return null
  }
  try {
    const buf = Buffer.alloc(4096)
    const n = fs.readSync(fd, buf, 0, buf.length, null)
    return buf.toString('utf8', 0, n)
  } catch {
    return null
  } finally {
    fs.closeSync(fd)
  }
}

/** State letter and start time of a process, from /proc/PID/stat; null when there is no such process. */
export function procStat(pid: number): {state: string; start: string} | null | undefined {
  const text = readSmall(`/proc/${pid}/stat`)
  if (text === null) return fs.existsSync('/proc/self/stat') ? null : undefined
  // "pid (comm) state ppid ...": comm may hold anything, so fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return {state: fields[0], start: fields[19]}
}

let me: Owner | undefined
export function self(): Owner {
  if (!me) {
    const boot = readSmall('/proc/sys/kernel/random/boot_id')?.trim()
    me = {pid: process.pid, start: procStat(process.pid)?.start, boot: boot || undefined, host: os.hostname()}
  }
  return me
}

export function parseOwner(text: string | null): Owner | null {
  if (text === null) return null
  try {
    const o = JSON.parse(text) as Partial<Owner>
    if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0 || typeof o.host !== 'string') return null
    return {pid: o.pid as number, start: typeof o.start === 'string' ? o.start : undefined, boot: typeof o.boot === 'string' ? o.boot : undefined, host: o.host}
  } catch {
    return null
  }
}

/** 'dead' only when provable; a holder on another host cannot be judged from here and counts as alive. */
export function judge(o: Owner): 'alive' | 'dead' {
  const i = self()
  if (o.host !== i.host) return 'alive'
  if (o.boot && i.boot && o.boot !== i.boot) return 'dead'
  const ps = procStat(o.pid)
  if (ps) {
    if (ps.state === 'Z' || ps.state === 'X') return 'dead'
    return o.start && ps.start !== o.start ? 'dead' : 'alive'
  }
  // No /proc, or the process is hidden from this user (hidepid): the pid alone.
  return pidAlive(o.pid) ? 'alive' : 'dead'
}

/** kill(pid, 0): gone only on ESRCH; a process of another user (EPERM) is alive. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (e) {
    if (code(e) === 'ESRCH') return false
  }
  return true
}

/** Remove a directory tree this module made (a staged lock, a broken one). */
function removeTree(p: string): void {
  try {
    fs.rmSync(p, {recursive: true, force: true})
  } catch {
    // left for the next one
  }
}

/**
 * What commands killed while taking or breaking a lock leave beside it:
 * staged locks (FILE.lock.TOKEN) whose owner is dead, or that never got a
 * record and have stayed so for the grace period, and records being
 * removed (FILE.lock.TOKEN.broken). Run by the holder, so at most one
 * command sweeps at a time; a live command's staged lock is left alone.
 */
function sweep(lockDir: string, token: string, graceOver: (key: string, mtimeMs: number) => boolean): void {
  const dir = path.dirname(lockDir)
  const prefix = path.basename(lockDir) + '.'
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const n of names) {
    if (!n.startsWith(prefix) || n.includes(token)) continue
    const p = path.join(dir, n)
    if (n.endsWith('.broken')) {
      removeTree(p)
      continue
    }
    let st: fs.Stats
    let inner: string[]
    try {
      st = fs.lstatSync(p)
      if (!st.isDirectory()) continue
      inner = fs.readdirSync(p)
    } catch {
      continue
    }
    const old = () => graceOver(`${st.ino}:${n}:${st.mtimeMs}`, st.mtimeMs)
    const owners = inner.filter((x) => x.startsWith('owner.')).map((x) => parseOwner(readSmall(path.join(p, x))))
    const dead = owners.length > 0 ? owners.every((o) => (o ? judge(o) === 'dead' : old())) : old()
    if (dead) removeTree(p)
  }
}

/**
 * Take the lock of the real file `real` (FILE.lock beside it), waiting as
 * long as a live process holds it. Errors are Node's (EACCES, ...): the
 * caller names them.
 */
export async function acquire(real: string, opts: LockOptions = {}): Promise<Held> {
  const lockDir = `${real}.lock`
  const token = await randomToken()
  const recordName = `owner.${token}`
  const staged = `${lockDir}.${token}`
  const record = JSON.stringify(self()) + '\n'

  /** Stage a lock with our record and rename it into place; false when a lock is there. */
  const tryTake = (): boolean => {
    try {
      fs.mkdirSync(staged, 0o755)
    } catch (e) {
      // The state's directory went away (a command that wrote nothing removed what it made).
      if (code(e) !== 'ENOENT' || !opts.makeDir) throw e
      opts.makeDir()
      return false
    }
    try {
      fs.writeFileSync(path.join(staged, recordName), record, {flag: 'wx', mode: 0o644})
      fs.renameSync(staged, lockDir)
      return true
    } catch (e) {
      removeTree(staged)
      if (['EEXIST', 'ENOTEMPTY', 'ENOTDIR', 'EISDIR'].includes(code(e) ?? '')) return false
      throw e
    }
  }

  const grace = opts.graceMs ?? GRACE_MS
  const firstSeen = new Map<string, number>()
  /** Whether something without a readable record has stayed the same (`key`) for GRACE_MS. */
  const graceOver = (key: string, mtimeMs: number): boolean => {
    const now = Date.now()
    if (mtimeMs <= now - grace) return true // older than the grace period (a future time does not count)
    const seen = firstSeen.get(key)
    if (seen === undefined) {
      firstSeen.set(key, performance.now())
      return false
    }
    return performance.now() - seen >= grace
  }

  let noticed = ''
  let waitingOn = ''
  let waitingSince = 0
  let delay = 1
  for (;;) {
    let st: fs.Stats | undefined
    try {
      st = fs.lstatSync(lockDir)
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e
    }
    if (!st) {
      if (tryTake()) break
      continue
    }
    let live: Owner | undefined
    let liveToken = ''
    let pending = false // a record without a readable owner, within its grace period
    if (st.isDirectory()) {
      let names: string[]
      try {
        names = fs.readdirSync(lockDir)
      } catch (e) {
        if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') continue
        throw e
      }
      const owners = names.filter((n) => n.startsWith('owner.'))
      for (const name of owners) {
        const rec = path.join(lockDir, name)
        const owner = parseOwner(readSmall(rec))
        let dead: boolean
        if (owner) {
          dead = judge(owner) === 'dead'
          if (!dead) {
            live = owner
            liveToken = name
          }
        } else {
          let rs: fs.Stats
          try {
            rs = fs.lstatSync(rec)
          } catch {
            continue
          }
          dead = graceOver(`${rs.ino}:${name}:${rs.mtimeMs}:${rs.size}`, rs.mtimeMs)
          pending ||= !dead
        }
        if (dead) {
          // Only one waiter can rename a record by its unique name.
          const broken = `${lockDir}.${token}.broken`
          try {
            fs.renameSync(rec, broken)
          } catch {
            continue
          }
          removeTree(broken)
        }
      }
      if (!live && owners.length === 0) {
        if (names.length === 0) {
          // Empty: left by an older aplab (live or not) or by a command that died breaking a lock.
          if (graceOver(`${st.ino}:${st.ctimeMs}`, st.mtimeMs) && tryTake()) break
        } else if (graceOver(`${st.ino}:${st.ctimeMs}:${names.join('/')}`, st.mtimeMs)) {
          const broken = `${lockDir}.${token}.broken`
          try {
            fs.renameSync(lockDir, broken)
            removeTree(broken)
          } catch {
            // someone else moved it
          }
          continue
        }
      } else if (!live && !pending) {
        // We just broke the only (dead) owner: the directory is empty, take it at once.
        if (tryTake()) break
        continue
      }
    } else if (graceOver(`${st.ino}:${st.ctimeMs}`, st.mtimeMs)) {
      // Not a directory (a file or a link made by hand): removing it never follows a link.
      try {
        fs.unlinkSync(lockDir)
      } catch {
        // gone already, or a directory now
      }
      continue
    }
    if (live) {
      if (waitingOn !== liveToken) {
        waitingOn = liveToken
        waitingSince = performance.now()
      } else if (noticed !== liveToken && performance.now() - waitingSince >= NOTICE_MS) {
        noticed = liveToken
        const where = live.host === self().host ? '' : ` on ${live.host}`
        opts.onWait?.(`waiting for the lock ${lockDir}, held by process ${live.pid}${where}`)
      }
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 20)
  }

  sweep(lockDir, token, graceOver)
  const mine = path.join(lockDir, recordName)
  return {
    lockDir,
    stillHeld: () => {
      try {
        fs.lstatSync(mine)
        return true
      } catch {
        return false
      }
    },
    release: () => {
      try {
        fs.unlinkSync(mine)
      } catch {
        return // not ours any more: leave the lock as it is
      }
      try {
        fs.rmdirSync(lockDir)
      } catch {
        // another command has taken it already
      }
    },
  }
}
