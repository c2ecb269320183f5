// `cat`, `ls` and `echo VALUE > PATH` on an emulated file system, with the
// messages and exit codes of the real commands.

import {KernelError, type Errno, strerror as strerrorOf} from '../core/errors.js'
import {byteOrder} from '../tools/libc.js'
import {type LongEntry, catError, echoWriteError, lsError, lsLongText, lsText, lsTime, redirectError} from '../views/shell.js'
import type {Vfs} from './vfs.js'

export interface ShellResult {
  stdout: string
  stderr: string
  code: number
}

const errnoOf = (e: unknown): Errno => {
  if (e instanceof KernelError) return e.errno
  throw e
}

/**
 * Paths are taken from the root directory, as if the shell's cwd were `/`.
 * `..` is left for the file system to resolve, as the kernel does: after
 * following a link, it leads to the parent of the link's target.
 */
const abs = (p: string): string => (p.startsWith('/') ? p : '/' + p)

export function cat(vfs: Vfs, paths: string[]): ShellResult {
  const r: ShellResult = {stdout: '', stderr: '', code: 0}
  for (const p of paths) {
    try {
      r.stdout += vfs.read(abs(p))
    } catch (e) {
      r.stderr += catError(p, errnoOf(e))
      r.code = 1
    }
  }
  return r
}

export interface LsOptions {
  /** -l: one line of stat(2) data per entry. */
  long?: boolean
  /** The time every entry shows (the emulated kernel created them at boot), and now, in ms. */
  mtime?: number
  now?: number
}

/**
 * What stat(2) and lstat(2) give for an entry: sysfs attributes are 4096
 * bytes and its directories 0, with 2 links plus one per subdirectory
 * (kernfs); /proc has only zeros; /etc and /usr are a disk's files.
 */
function longEntry(vfs: Vfs, path: string, name: string): LongEntry {
  const st = vfs.stat(path, false)
  const pseudo = /^\/(sys|proc)(\/|$)/.test(path)
  if (st.kind === 'link') return {kind: 'link', mode: 0o777, nlink: 1, size: 0, name, target: vfs.readlink(path)}
  if (st.kind === 'dir') {
    const sub = vfs.readdir(path).filter((e) => vfs.stat(`${path.replace(/\/$/, '')}/${e}`, false).kind === 'dir').length
    const proc = /^\/proc(\/|$)/.test(path)
    return {kind: 'dir', mode: proc ? 0o555 : 0o755, nlink: 2 + sub, size: pseudo ? 0 : 4096, name}
  }
  const size = /^\/sys(\/|$)/.test(path) ? 4096 : pseudo ? 0 : Buffer.byteLength(vfs.readOrNull(path) ?? '', 'latin1')
  return {kind: 'file', mode: st.mode, nlink: 1, size, name}
}

/** 1K blocks a listing takes: none on sysfs and /proc, a 4K block per started 4K of a disk file or directory. */
const blocks = (path: string, entries: LongEntry[]): number =>
  /^\/(sys|proc)(\/|$)/.test(path) ? 0 : entries.reduce((t, e) => t + (e.kind === 'link' ? 0 : Math.ceil(e.size / 4096) * 4), 0)

export function ls(vfs: Vfs, paths: string[], opts: LsOptions = {}): ShellResult {
  if (opts.long) return lsLong(vfs, paths, opts)
  const r: ShellResult = {stdout: '', stderr: '', code: 0}
  const files: string[] = []
  const dirs: Array<{path: string; entries: string[]}> = []
  for (const p of paths) {
    try {
      if (vfs.isDir(abs(p))) dirs.push({path: p, entries: vfs.readdir(abs(p)).sort(byteOrder)})
      else {
        vfs.lookup(abs(p), false)
        files.push(p)
      }
    } catch (e) {
      r.stderr += lsError(p, errnoOf(e))
      r.code = 2
    }
  }
  r.stdout = lsText(files.sort(byteOrder), dirs, paths.length)
  return r
}

/** `ls -l`: command-line links are shown, not followed (coreutils does not dereference them with -l). */
function lsLong(vfs: Vfs, paths: string[], opts: LsOptions): ShellResult {
  const r: ShellResult = {stdout: '', stderr: '', code: 0}
  const files: LongEntry[] = []
  const dirs: Array<{path: string; entries: LongEntry[]; total: number}> = []
  for (const p of paths) {
    const a = abs(p)
    try {
      if (vfs.stat(a, false).kind === 'dir') {
        const base = a.replace(/\/+$/, '')
        const entries = vfs
          .readdir(a)
          .sort(byteOrder)
          .map((e) => longEntry(vfs, `${base}/${e}`, e))
        dirs.push({path: p, entries, total: blocks(a, entries)})
      } else files.push(longEntry(vfs, a, p))
    } catch (e) {
      r.stderr += lsError(p, errnoOf(e))
      r.code = 2
    }
  }
  const now = opts.now ?? Date.now()
  r.stdout = lsLongText(files.sort((x, y) => byteOrder(x.name, y.name)), dirs, paths.length, lsTime(opts.mtime ?? now, now))
  return r
}

export interface ReadlinkOptions {
  /** -f: canonicalize, every component but the last must exist; -e: all must. */
  canonicalize?: 'f' | 'e'
  /** -n: no newline after the (last) name. */
  noNewline?: boolean
  /** -v: say why a name gave nothing. */
  verbose?: boolean
}

/**
 * coreutils `readlink`: the target of each link (nothing, and status 1, for
 * what is not a link); with -f or -e the canonical path instead.
 */
export function readlink(vfs: Vfs, paths: string[], opts: ReadlinkOptions = {}): ShellResult {
  const r: ShellResult = {stdout: '', stderr: '', code: 0}
  const out: string[] = []
  for (const p of paths) {
    const a = abs(p)
    let v: string | null = null
    let errno: Errno = 'EINVAL'
    if (opts.canonicalize) {
      v = vfs.realpath(a)
      if (v === null) {
        errno = 'ENOENT'
        // -f: a missing last component is fine where its directory exists.
        const cut = a.replace(/\/+$/, '').lastIndexOf('/')
        const parent = vfs.realpath(a.slice(0, cut) || '/')
        const name = a.replace(/\/+$/, '').slice(cut + 1)
        if (opts.canonicalize === 'f' && parent !== null && vfs.isDir(parent) && name !== '..' && name !== '.')
          v = (parent === '/' ? '' : parent) + '/' + name
      }
    } else {
      try {
        v = vfs.readlink(a)
      } catch (e) {
        errno = errnoOf(e)
      }
    }
    if (v === null) {
      if (opts.verbose) r.stderr += `readlink: ${p}: ${strerrorOf(errno)}\n`
      r.code = 1
    } else out.push(v)
  }
  const noNewline = opts.noNewline && paths.length === 1
  if (opts.noNewline && !noNewline) r.stderr = 'readlink: ignoring --no-newline with multiple arguments\n' + r.stderr
  r.stdout = out.map((v) => v + (noNewline ? '' : '\n')).join('')
  return r
}

/**
 * `echo VALUE > PATH`: the shell opens the file (sysfs cannot create files,
 * so a missing attribute in an existing directory is EACCES), then the
 * attribute's store function takes the text or refuses it.
 */
export function echo(vfs: Vfs, path: string, text: string): ShellResult {
  const p = abs(path)
  try {
    vfs.lookup(p)
  } catch (e) {
    const errno = errnoOf(e)
    const parentIsDir = errno === 'ENOENT' && vfs.isDir(p.slice(0, p.lastIndexOf('/')) || '/')
    return {stdout: '', stderr: redirectError(path, parentIsDir ? 'EACCES' : errno), code: 1}
  }
  if (vfs.isDir(p)) return {stdout: '', stderr: redirectError(path, 'EISDIR'), code: 1}
  if (!vfs.canWrite(p)) return {stdout: '', stderr: redirectError(path, 'EACCES'), code: 1}
  try {
    vfs.write(p, text)
  } catch (e) {
    const errno = errnoOf(e)
    // Opening a read-only attribute for writing fails before echo runs.
    if (errno === 'EACCES') return {stdout: '', stderr: redirectError(path, errno), code: 1}
    return {stdout: '', stderr: echoWriteError(errno), code: 1}
  }
  return {stdout: '', stderr: '', code: 0}
}
