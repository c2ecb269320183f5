// What the s390-tools ask of the file system. The emulated host's sysfs
// implements it, and so does a real directory (the tools honour SYSFS_ROOT as
// libutil does, so they also run against a tree written by `aplab export` or
// copied from a real machine).

import * as fs from 'node:fs'

import {KernelError} from '../core/errors.js'

export interface Sys {
  /** Where /sys is; messages show paths below it. */
  readonly root: string
  read(path: string): string
  /** The contents, or null when the file cannot be read. */
  readOrNull(path: string): string | null
  write(path: string, data: string): void
  readdir(path: string): string[]
  /**
   * readdir's entries in no particular order, where that is cheaper (the
   * emulated sysfs puts a directory in kernfs's order by a hash of every
   * name), for a caller whose result cannot show the order; fails as readdir.
   */
  readdirAnyOrder?(path: string): string[]
  readlink(path: string): string
  isDir(path: string): boolean
  isFile(path: string): boolean
  canWrite(path: string): boolean
  /**
   * open(path, O_PATH | O_DIRECTORY): a directory whose entries are then
   * read by name, as openat(2) and readlinkat(2) do. Null when it is not a
   * directory (the test stat(2) would make). A tool reading many attributes
   * of one device opens its directory once.
   */
  openDir(path: string): SysDir | null
}

/** A directory opened with Sys.openDir; `name` is one entry of it. */
export interface SysDir {
  /** The path it was opened by (for messages). */
  readonly path: string
  /** Like Sys.readOrNull of `path/name`. */
  readOrNull(name: string): string | null
  /** Like Sys.readlink of `path/name`. */
  readlink(name: string): string
  /** Like Sys.openDir of `path/name`. */
  openDir(name: string): SysDir | null
}

/**
 * A whole root file system (sysfs plus /etc and friends), for tools that keep
 * files of their own, such as mdevctl. Paths are absolute.
 */
export interface Fs extends Sys {
  exists(path: string): boolean
  realpath(path: string): string | null
  isExecutable(path: string): boolean
  /** open(O_WRONLY|O_CREAT|O_TRUNC) and write. */
  writeFile(path: string, data: string): void
  mkdirp(path: string): void
  unlink(path: string): void
}

/** The first line of a file without its newline, or null if unreadable. */
export function readLine(sys: Sys | SysDir, path: string): string | null {
  return firstLine(sys.readOrNull(path))
}

export function firstLine(s: string | null): string | null {
  if (s === null) return null
  const nl = s.indexOf('\n')
  return nl < 0 ? s : s.slice(0, nl)
}

export class RealSys implements Fs {
  /** @param root where /sys is; for a whole tree use RealFs. */
  constructor(readonly root: string) {}

  exists(path: string): boolean {
    return fs.existsSync(path)
  }

  realpath(path: string): string | null {
    try {
      return fs.realpathSync(path)
    } catch {
      return null
    }
  }

  isExecutable(path: string): boolean {
    try {
      fs.accessSync(path, fs.constants.X_OK)
      return this.isFile(path)
    } catch {
      return false
    }
  }

  writeFile(path: string, data: string): void {
    try {
      fs.writeFileSync(path, data)
    } catch (e) {
      throw asKernelError(e)
    }
  }

  mkdirp(path: string): void {
    try {
      fs.mkdirSync(path, {recursive: true})
    } catch (e) {
      throw asKernelError(e)
    }
  }

  unlink(path: string): void {
    try {
      fs.unlinkSync(path)
    } catch (e) {
      throw asKernelError(e)
    }
  }

  read(path: string): string {
    try {
      return fs.readFileSync(path, 'latin1')
    } catch (e) {
      throw asKernelError(e)
    }
  }

  readOrNull(path: string): string | null {
    try {
      return fs.readFileSync(path, 'latin1')
    } catch {
      return null
    }
  }

  write(path: string, data: string): void {
    try {
      // fopen(path, "w") and Rust's fs::write: truncate (a plain file), create if missing.
      fs.writeFileSync(path, data, {flag: 'w'})
    } catch (e) {
      throw asKernelError(e)
    }
  }

  /** readdir(3) order, as the C tools see it (fs.readdirSync would sort the names). */
  readdir(path: string): string[] {
    let dir: fs.Dir | undefined
    try {
      dir = fs.opendirSync(path)
      const names: string[] = []
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) names.push(e.name)
      return names
    } catch (e) {
      throw asKernelError(e)
    } finally {
      dir?.closeSync()
    }
  }

  readlink(path: string): string {
    try {
      return fs.readlinkSync(path)
    } catch (e) {
      throw asKernelError(e)
    }
  }

  // stat(2) failing for any reason (ENOENT, ENOTDIR below a file, EACCES) is "no".
  isDir(path: string): boolean {
    try {
      return fs.statSync(path, {throwIfNoEntry: false})?.isDirectory() ?? false
    } catch {
      return false
    }
  }

  isFile(path: string): boolean {
    try {
      return fs.statSync(path, {throwIfNoEntry: false})?.isFile() ?? false
    } catch {
      return false
    }
  }

  canWrite(path: string): boolean {
    try {
      fs.accessSync(path, fs.constants.W_OK)
      return true
    } catch {
      return false
    }
  }

  openDir(path: string): SysDir | null {
    if (!this.isDir(path)) return null
    return {
      path,
      readOrNull: (name) => this.readOrNull(`${path}/${name}`),
      readlink: (name) => this.readlink(`${path}/${name}`),
      openDir: (name) => this.openDir(`${path}/${name}`),
    }
  }
}

function asKernelError(e: unknown): KernelError {
  const code = (e as NodeJS.ErrnoException).code
  const known = ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EINVAL', 'EPERM'] as const
  return new KernelError((known as readonly string[]).includes(code ?? '') ? (code as (typeof known)[number]) : 'EIO')
}
