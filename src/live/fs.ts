// The live host as file operations: what `aplab mount` serves over FUSE.
// One emulated host's /sys, /proc and /etc, each operation answered from the
// state file as it is now: a read calls the attribute's show, a write(2)
// its store under the state lock (store.mutate), and a refused store gives
// the writer the kernel's errno with the state file unchanged.
//
// Nothing here knows FUSE: every operation returns a result or a negative
// errno, so the same class is tested without a mount.

import * as fs from 'node:fs'

import {ERRNO, type Errno, KernelError} from '../core/errors.js'
import type {Host, World} from '../core/model.js'
import {errorMessage, pickHost} from '../cli/env.js'
import {load, mutate} from '../state/store.js'
import {STANDARD_DIRS} from '../sysfs/etc.js'
import {hostVfs} from '../sysfs/host.js'
import type {DirNode, Node, Vfs} from '../sysfs/vfs.js'

/** Where a path lies: sysfs and procfs have their own file semantics; /etc is a plain disk. */
type Area = 'sys' | 'proc' | 'etc'

/** The top directories served. */
export const TOP: readonly Area[] = ['sys', 'proc', 'etc']

/** sysfs attributes have the size of a page (PAGE_SIZE on s390x and x86-64). */
export const PAGE_SIZE = 4096

export const S_IFDIR = 0o040000
export const S_IFREG = 0o100000
export const S_IFLNK = 0o120000

export interface LiveStat {
  mode: number
  size: number
  nlink: number
  uid: number
  gid: number
  mtime: Date
  atime: Date
  ctime: Date
}

/** A negative errno, as FUSE wants it. */
export const neg = (errno: Errno | 'ENOTEMPTY' | 'EBADF' | 'EROFS'): number => {
  const extra = {ENOTEMPTY: 39, EBADF: 9, EROFS: 30} as const
  return -(errno in extra ? extra[errno as keyof typeof extra] : ERRNO[errno as Errno][0])
}

/**
 * The errno for a failed operation. The kernel's refusals carry theirs; any
 * other failure (a state made invalid by a hand edit, the served host
 * removed) is said once on the server's stderr and is EIO to the caller, so
 * that the mount lives on.
 */
function errnoOf(e: unknown): number {
  if (e instanceof KernelError) return neg(e.errno)
  const said = errorMessage(e).message
  if (said !== lastSaid) process.stderr.write(`aplab mount: ${(lastSaid = said)}\n`)
  return neg('EIO')
}
let lastSaid = ''

const areaOf = (path: string): Area | null => {
  const top = path.split('/')[1] as Area
  return TOP.includes(top) ? top : null
}

interface Handle {
  path: string
  area: Area
  /** What show() gave at the read at offset 0 (seq_file's buffer). */
  buf: Buffer | null
}

/** The identity of the state file's current version: a new version is a new file (atomic rename). */
function identity(file: string): string {
  try {
    const s = fs.statSync(file, {bigint: true})
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  } catch {
    return 'absent'
  }
}

export class LiveFs {
  private view: {id: string; world: World; host: Host; vfs: Vfs} | null = null
  private readonly handles = new Map<number, Handle>()
  private nextFh = 1

  /**
   * @param state the state file
   * @param host the host served (the state's current host when unset, looked up at each operation)
   */
  constructor(
    readonly state: string,
    readonly host?: string,
  ) {}

  /** The host as the state file has it now; parsed again only when the file changed. */
  private async current(): Promise<{host: Host; vfs: Vfs}> {
    const id = identity(this.state)
    if (this.view?.id !== id || id === 'absent') {
      const world = await load(this.state)
      const host = pickHost(world, this.host)
      this.view = {id, world, host, vfs: hostVfs(host, 0)}
    }
    return this.view
  }

  /** Run a change of the host under the state lock; the next operation sees the new file. */
  private async change<T>(fn: (vfs: Vfs, host: Host) => T): Promise<T> {
    try {
      return await mutate(this.state, (w) => {
        const host = pickHost(w, this.host)
        return fn(hostVfs(host, 0), host)
      })
    } finally {
      this.view = null
    }
  }

  private static node(vfs: Vfs, path: string, follow: boolean): Node {
    if (path === '/') return ROOT_MARK
    if (areaOf(path) === null) throw new KernelError('ENOENT')
    return vfs.lookup(path, follow).node
  }

  async getattr(path: string): Promise<LiveStat | number> {
    try {
      const {host, vfs} = await this.current()
      const node = LiveFs.node(vfs, path, false)
      const t = new Date(host.runtime.bootTime)
      const base = {uid: 0, gid: 0, mtime: t, atime: t, ctime: t}
      const area = areaOf(path)
      if (node.kind === 'link') return {...base, mode: S_IFLNK | 0o777, size: Buffer.byteLength(node.target), nlink: 1}
      if (node.kind === 'dir') {
        const names = node === ROOT_MARK ? TOP : node.list()
        let subdirs = 0
        for (const n of names) if (node === ROOT_MARK || node.get(n)?.kind === 'dir') subdirs++
        return {...base, mode: S_IFDIR | 0o755, size: area === 'etc' ? PAGE_SIZE : 0, nlink: subdirs + 2}
      }
      const size = area === 'sys' ? PAGE_SIZE : area === 'proc' ? 0 : Buffer.byteLength(node.show?.() ?? '')
      return {...base, mode: S_IFREG | node.mode, size, nlink: 1}
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** The entries, `.` and `..` first, then in kernfs's order (a hash of the name, not sorted). */
  async readdir(path: string): Promise<string[] | number> {
    try {
      if (path === '/') return ['.', '..', ...TOP]
      const {vfs} = await this.current()
      if (areaOf(path) === null) return neg('ENOENT')
      return ['.', '..', ...vfs.readdir(path)]
    } catch (e) {
      return errnoOf(e)
    }
  }

  async readlink(path: string): Promise<string | number> {
    try {
      const {vfs} = await this.current()
      if (areaOf(path) === null) return neg('ENOENT')
      return vfs.readlink(path)
    } catch (e) {
      return errnoOf(e)
    }
  }

  /**
   * open(2). sysfs refuses to open an attribute for writing when it has no
   * store or no write bit, and for reading when it has no show or no read
   * bit, for root too (KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK).
   */
  async open(path: string, flags: number): Promise<number> {
    try {
      const {vfs} = await this.current()
      const area = areaOf(path)
      if (area === null) return neg('ENOENT')
      const node = vfs.lookup(path).node
      if (node.kind === 'dir') return neg('EISDIR')
      if (node.kind !== 'file') return neg('ENOENT')
      const acc = flags & 3
      if (area !== 'etc') {
        const wantsRead = acc === 0 || acc === 2
        const wantsWrite = acc === 1 || acc === 2
        if (wantsWrite && (!node.store || (node.mode & 0o222) === 0)) return neg('EACCES')
        if (wantsRead && (!node.show || (node.mode & 0o444) === 0)) return neg('EACCES')
      }
      const fh = this.nextFh++
      this.handles.set(fh, {path, area, buf: null})
      return fh
    } catch (e) {
      return errnoOf(e)
    }
  }

  release(fh: number): void {
    this.handles.delete(fh)
  }

  /**
   * read(2): on sysfs and procfs the read at offset 0 calls show() once and
   * later reads of the same open file are served from what it gave; /etc
   * reads the file as it is.
   */
  async read(path: string, fh: number, len: number, offset: number): Promise<Buffer | number> {
    const h = this.handles.get(fh) ?? {path, area: areaOf(path) ?? 'etc', buf: null}
    try {
      if (h.area === 'etc' || offset === 0 || h.buf === null) {
        const {vfs} = await this.current()
        const node = vfs.lookup(path).node
        if (node.kind !== 'file' || !node.show) return neg('EACCES')
        h.buf = Buffer.from(node.show())
      }
      return h.buf.subarray(Math.min(offset, h.buf.length), Math.min(offset + len, h.buf.length))
    } catch (e) {
      return errnoOf(e)
    }
  }

  /**
   * write(2): on sysfs and procfs one store() with exactly these bytes (at
   * most a page), whatever the file position; on /etc the bytes go at the
   * offset, as on a disk.
   */
  async write(path: string, fh: number, data: Buffer, offset: number): Promise<number> {
    const area = this.handles.get(fh)?.area ?? areaOf(path)
    if (area === null) return neg('ENOENT')
    if (data.length === 0) return 0
    try {
      if (area !== 'etc') {
        const bytes = data.subarray(0, PAGE_SIZE)
        await this.change((vfs) => vfs.write(path, bytes.toString('latin1')))
        return bytes.length
      }
      await this.change((vfs) => {
        const node = vfs.lookup(path).node
        if (node.kind !== 'file' || !node.store) throw new KernelError('EACCES')
        const old = Buffer.from(node.show?.() ?? '')
        const out = Buffer.alloc(Math.max(old.length, offset + data.length))
        old.copy(out)
        data.copy(out, offset)
        node.store(out.toString())
      })
      return data.length
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** truncate(2): sysfs ignores size changes (so `echo x > ATTR` opens fine); an /etc file is cut. */
  async truncate(path: string, size: number): Promise<number> {
    try {
      if (areaOf(path) !== 'etc') {
        const {vfs} = await this.current()
        vfs.lookup(path)
        return 0
      }
      await this.change((vfs) => {
        const node = vfs.lookup(path).node
        if (node.kind !== 'file' || !node.store) throw new KernelError('EACCES')
        const old = Buffer.from(node.show?.() ?? '')
        const out = Buffer.alloc(size)
        old.copy(out, 0, 0, Math.min(size, old.length))
        node.store(out.toString())
      })
      return 0
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** open(O_CREAT) of a new file: sysfs and procfs have no create (EACCES); /etc creates it. */
  async create(path: string): Promise<number> {
    const area = areaOf(path)
    if (area !== 'etc') return neg('EACCES')
    try {
      await this.change((vfs) => vfs.writeFile(path, ''))
      const fh = this.nextFh++
      this.handles.set(fh, {path, area, buf: null})
      return fh
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** mkdir(2): kernfs answers EPERM; /etc makes the directory. */
  async mkdir(path: string): Promise<number> {
    if (areaOf(path) !== 'etc') return neg('EPERM')
    try {
      await this.change((vfs) => {
        if (vfs.exists(path)) throw new KernelError('EEXIST')
        vfs.mkdirp(path)
      })
      return 0
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** unlink(2): sysfs directories have no unlink (EPERM); /etc removes the file. */
  async unlink(path: string): Promise<number> {
    if (areaOf(path) !== 'etc') return neg('EPERM')
    try {
      await this.change((vfs) => vfs.unlink(path))
      return 0
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** rmdir(2): EPERM on sysfs; an empty /etc directory goes (ENOTEMPTY otherwise). */
  async rmdir(path: string): Promise<number> {
    if (areaOf(path) !== 'etc') return neg('EPERM')
    try {
      return await this.change((vfs, host) => {
        const node = vfs.lookup(path, false).node
        if (node.kind !== 'dir') return neg('ENOTDIR')
        if (node.list().length > 0) return neg('ENOTEMPTY')
        // A directory the installed packages provide stays (etc.ts STANDARD_DIRS), and nothing changes.
        if (STANDARD_DIRS.includes(path.replace(/\/*$/, '/'))) throw new KernelError('EBUSY')
        delete host.persistent.files[path + '/']
        return 0
      })
    } catch (e) {
      return errnoOf(e)
    }
  }

  /** rename(2) of an /etc file (mdevctl and editors write a new file and rename it). */
  async rename(from: string, to: string): Promise<number> {
    if (areaOf(from) !== 'etc' || areaOf(to) !== 'etc') return neg('EPERM')
    try {
      await this.change((vfs, host) => {
        const node = vfs.lookup(from, false).node
        if (node.kind !== 'file') throw new KernelError('EISDIR')
        const files = host.persistent.files
        const text = files[from]
        if (vfs.isDir(to)) throw new KernelError('EISDIR')
        vfs.writeFile(to, text)
        vfs.unlink(from)
      })
      return 0
    } catch (e) {
      return errnoOf(e)
    }
  }
}

/** The mount's own root: a directory of sys, proc and etc. */
const ROOT_MARK: DirNode = {kind: 'dir', list: () => [...TOP], get: () => undefined}
