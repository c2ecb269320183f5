// `cat`, `ls` and `echo VALUE > PATH` on an emulated file system, with the
// messages and exit codes of the real commands.

import {KernelError, type Errno} from '../core/errors.js'
import {byteOrder} from '../tools/libc.js'
import {catError, echoWriteError, lsError, lsText, redirectError} from '../views/shell.js'
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

export function ls(vfs: Vfs, paths: string[]): ShellResult {
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
