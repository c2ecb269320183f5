// The state file as a file: where it really is, refusing what is not a
// regular file, bounded reads, and writes through temporaries that no
// planted link can redirect.

import * as fs from 'node:fs'
import * as path from 'node:path'

import {StateError} from '../core/errors.js'

/**
 * The largest state file aplab reads: 4 MiB. The `max` preset (65,536
 * queues) with 1,000 mdevs and 100 running guests takes about 0.4 MB, and
 * parsing YAML costs about a second per 300 kB on a slow machine, so the
 * bound keeps a first read of any accepted file to seconds.
 */
export const MAX_STATE_BYTES = 4 * 1024 * 1024

const {O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY} = fs.constants

/** Why a call failed, in words, from a Node error (its errno, never its stack). */
export function why(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    ELOOP: 'too many levels of symbolic links',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'is a directory',
    ENAMETOOLONG: 'file name too long',
    EIO: 'input/output error',
    ENOENT: 'no such file or directory',
    EMFILE: 'too many open files',
    EXDEV: 'on another file system',
  }
  if (err?.code && Object.hasOwn(words, err.code)) return words[err.code]
  const m = /^[A-Z]+: ([^,]+)/.exec(err?.message ?? '')
  return m ? m[1] : String(err?.message ?? e)
}

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException)?.code

/** `why`, naming the place for a refusal of access: `permission denied on /x`. */
export function whyOn(e: unknown, place: string): string {
  return ['EACCES', 'EPERM', 'EROFS'].includes(code(e) ?? '') ? `${why(e)} on ${place}` : why(e)
}

function kind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'not a regular file'
}

const PSEUDO = /^\/(proc|sys)(\/|$)/

/** Where a state path leads: the real file (links resolved) and its status if it exists. */
export interface Place {
  /** The path as given (absolute). */
  file: string
  /** The file it names, symbolic links resolved: one lock and one cache per real file. */
  real: string
  /** Its status, when it exists. */
  stat?: fs.Stats
}

/**
 * Resolve a state path without changing anything, refusing what can never
 * be a state file: something that is not a regular file, a link to nothing,
 * a place under /proc or /sys, a path through a file.
 */
export function locate(file: string): Place {
  file = path.resolve(file)
  const refuse = (detail: string): never => {
    throw new StateError(file, detail)
  }
  if (PSEUDO.test(file)) refuse('a state file cannot live under /proc or /sys')
  let real: string
  try {
    real = fs.realpathSync.native(file)
  } catch (e) {
    if (code(e) !== 'ENOENT') return refuse(`cannot read the state: ${why(e)}`)
    let link = false
    try {
      link = fs.lstatSync(file).isSymbolicLink()
    } catch {
      // nothing there
    }
    if (link) refuse(`is a symbolic link to a missing file (${fs.readlinkSync(file)}); the state must be a regular file`)
    real = missingReal(file, refuse)
  }
  if (PSEUDO.test(real)) refuse(`a state file cannot live under /proc or /sys (it is ${real})`)
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(real)
  } catch (e) {
    if (code(e) !== 'ENOENT') refuse(`cannot read the state: ${why(e)}`)
  }
  if (stat && !stat.isFile()) refuse(`the state must be a regular file, not ${kind(stat)}${real === file ? '' : ` (${real})`}`)
  return {file, real, stat}
}

/** The real path of a file that does not exist yet: its nearest existing directory resolved. */
function missingReal(file: string, refuse: (d: string) => never): string {
  let dir = path.dirname(file)
  const rest = [path.basename(file)]
  for (;;) {
    let st: fs.Stats | undefined
    try {
      st = fs.statSync(dir)
    } catch (e) {
      if (code(e) !== 'ENOENT') return refuse(`cannot read the state: ${whyOn(e, dir)}`)
    }
    if (st) {
      if (!st.isDirectory()) return refuse(`cannot be created: ${dir} is not a directory`)
      return path.join(fs.realpathSync.native(dir), ...rest)
    }
    rest.unshift(path.basename(dir))
    dir = path.dirname(dir)
  }
}

/** A file as read: its bytes and status, and its text (decoded when first asked for). */
export interface Read {
  bytes: Buffer
  stat: fs.Stats
  readonly text: string
}

/**
 * Read a file that must be a regular file of at most `max` bytes: opened
 * without blocking (a FIFO never blocks), checked with fstat before a byte is
 * read, and read no further than its size. Null when it does not exist.
 */
export function readRegular(place: Place, max = MAX_STATE_BYTES): Read | null {
  const {file} = place
  let fd: number
  try {
    fd = fs.openSync(place.real, O_RDONLY | O_NONBLOCK | O_NOCTTY)
  } catch (e) {
    if (code(e) === 'ENOENT') return null
    throw new StateError(file, `cannot read the state: ${why(e)}`)
  }
  try {
    const stat = fs.fstatSync(fd)
    if (!stat.isFile()) throw new StateError(file, `the state must be a regular file, not ${kind(stat)}`)
    if (stat.size > max) throw new StateError(file, `the state is ${stat.size} bytes, more than aplab reads (${max} bytes)`)
    // A write replaces the file (a new inode), so other hard links would keep the old state and
    // each name would have a lock of its own: one state is one name; use a symbolic link.
    if (stat.nlink > 1) throw new StateError(file, `the state has ${stat.nlink} hard links; aplab replaces it on every write, so they would part: use a symbolic link`)
    const bytes = readAll(fd, stat.size)
    let text: string | undefined
    return {
      bytes,
      stat,
      get text() {
        return (text ??= bytes.toString('utf8'))
      },
    }
  } catch (e) {
    if (e instanceof StateError) throw e
    throw new StateError(file, `cannot read the state: ${why(e)}`)
  } finally {
    fs.closeSync(fd)
  }
}

/** At most `size` bytes from the start of an open file. */
function readAll(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  let got = 0
  while (got < size) {
    const n = fs.readSync(fd, buf, got, size - got, got)
    if (n === 0) break
    got += n
  }
  return buf.subarray(0, got)
}

/**
 * A regular file that is not a link, of at most `max` bytes, owned by `uid`,
 * or null: for files aplab keeps beside the state (the cache), which it trusts
 * only when they are what it wrote.
 */
export function readOwn(file: string, uid: number, max: number): Buffer | null {
  let fd: number
  try {
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
  } catch {
    return null
  }
  try {
    const st = fs.fstatSync(fd)
    if (!st.isFile() || st.uid !== uid || st.size > max) return null
    return readAll(fd, st.size)
  } catch {
    return null
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * `n` bytes (at most 256: never a short read) from the kernel's random
 * source, as a C program reads them: Node's crypto module, or Web Crypto's
 * global, costs a short call more than all of its work. Null where there is
 * no /dev/urandom.
 */
export function kernelRandom(n: number): Buffer | null {
  const buf = Buffer.alloc(n)
  try {
    const fd = fs.openSync('/dev/urandom', O_RDONLY)
    try {
      return fs.readSync(fd, buf, 0, n, null) === n ? buf : null
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return null
  }
}

/**
 * Twelve unpredictable bytes as base64url, for the names of temporaries and
 * of the lock's stage: from the kernel's random source, else from Node's
 * crypto.
 */
export async function randomToken(): Promise<string> {
  const buf = kernelRandom(12)
  if (buf) return buf.toString('base64url')
  const {randomBytes} = await import('node:crypto')
  return randomBytes(12).toString('base64url')
}

/** An unpredictable name for a temporary beside `file`. */
async function tempName(file: string): Promise<string> {
  return path.join(path.dirname(file), `.${path.basename(file)}.${await randomToken()}.tmp`)
}

export interface WriteOptions {
  /** Mode and owner to give the file (those of the file it replaces); default: 0666 less the umask, the caller's. */
  like?: fs.Stats
  /** fsync the new file before it is renamed into place (the state); a cache needs no durability. */
  durable: boolean
}

/**
 * Replace `file` atomically with `text`: a new temporary with an unpredictable
 * name, created exclusively and never through a link (O_CREAT|O_EXCL|O_NOFOLLOW),
 * given the mode and owner of the file it replaces, synced, and renamed over
 * `file`, as libvirt rewrites a domain's XML (virFileRewrite). After a power
 * failure the file holds the old text or the new one, never a part or
 * nothing; the directory is not synced, so the rename of the last changes
 * may be lost with it (the journal commits it within seconds), as SQLite's
 * synchronous=NORMAL may lose the last transactions: syncing the directory
 * cost a write more than a millisecond. Returns the new file's status.
 * Node errors come out as they are; the caller says what failed.
 */
export async function replaceFile(file: string, text: string | Buffer, opts: WriteOptions): Promise<fs.Stats> {
  const tmp = await tempName(file)
  const like = opts.like
  // Created no more permissive than the file it replaces, then given its exact mode.
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, like ? like.mode & 0o777 : 0o666)
  let st: fs.Stats
  try {
    try {
      if (like) {
        if (like.uid !== process.geteuid?.() || like.gid !== process.getegid?.()) {
          try {
            fs.fchownSync(fd, like.uid, like.gid)
          } catch {
            // only root can give a file away; the caller keeps it
          }
        }
        fs.fchmodSync(fd, like.mode & 0o7777)
      }
      fs.writeFileSync(fd, text)
      if (opts.durable) fs.fsyncSync(fd)
      st = fs.fstatSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (e) {
    try {
      fs.unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw e
  }
  return st
}

/**
 * Create the missing directories of `dir`, returning those created (outermost
 * first) so that a command that writes nothing can remove them again.
 */
export function makeDirs(dir: string): string[] {
  const missing: string[] = []
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      fs.statSync(d)
      break
    } catch (e) {
      if (code(e) !== 'ENOENT' || d === path.dirname(d)) throw e
      missing.unshift(d)
    }
  }
  const created: string[] = []
  for (const d of missing) {
    try {
      fs.mkdirSync(d)
      created.push(d)
    } catch (e) {
      if (code(e) !== 'EEXIST') {
        removeDirs(created)
        throw Object.assign(e as Error, {path: d})
      }
    }
  }
  return created
}

/** Remove directories `makeDirs` created, innermost first, where they are still empty. */
export function removeDirs(created: string[]): void {
  for (const d of [...created].reverse()) {
    try {
      fs.rmdirSync(d)
    } catch {
      return // another command uses it now
    }
  }
}
