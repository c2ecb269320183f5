// A small virtual file system in the shape of sysfs: directories are resolved
// lazily (a host with 65536 queues never builds them all), attributes are
// show/store pairs like the kernel's device attributes, and links are
// relative paths resolved the way the VFS resolves them.

import {KernelError} from '../core/errors.js'
import {DIR_MODE, mayAccess} from '../core/perm.js'

export interface DirNode {
  kind: 'dir'
  list(): string[]
  get(name: string): Node | undefined
  /** Regular directories (not sysfs) can create and remove entries. */
  create?(name: string, data: string): void
  mkdir?(name: string): void
  remove?(name: string): void
}

export interface FileNode {
  kind: 'file'
  /** Permission bits as sysfs shows them (0444, 0644, 0200; 0755 for programs). */
  mode: number
  show?: () => string
  store?: (buf: string) => void
}

export interface LinkNode {
  kind: 'link'
  target: string
}

export type Node = DirNode | FileNode | LinkNode

type Entry = Node | (() => Node | undefined)

/** A directory from a fixed table of entries; a function entry may yield nothing. */
export function dir(entries: Record<string, Entry>): DirNode {
  const resolve = (e: Entry | undefined) => (typeof e === 'function' ? e() : e)
  return {
    kind: 'dir',
    list: () => Object.keys(entries).filter((k) => resolve(entries[k]) !== undefined),
    get: (name) => (Object.hasOwn(entries, name) ? resolve(entries[name]) : undefined),
  }
}

/** A directory whose entries are computed on demand. */
export function lazyDir(list: () => string[], get: (name: string) => Node | undefined): DirNode {
  return {kind: 'dir', list, get}
}

/** Merge fixed entries with a computed set (a device dir with child devices). */
export function mergeDirs(...dirs: DirNode[]): DirNode {
  return {
    kind: 'dir',
    list: () => dirs.flatMap((d) => d.list()),
    get: (name) => {
      for (const d of dirs) {
        const n = d.get(name)
        if (n) return n
      }
      return undefined
    },
  }
}

export const ro = (show: () => string): FileNode => ({kind: 'file', mode: 0o444, show})
export const rw = (show: () => string, store: (buf: string) => void): FileNode => ({kind: 'file', mode: 0o644, show, store})
export const wo = (store: (buf: string) => void): FileNode => ({kind: 'file', mode: 0o200, store})
export const link = (target: string): LinkNode => ({kind: 'link', target})

export interface Stat {
  kind: Node['kind']
  mode: number
}

const MAX_LINKS = 40

export function normalize(path: string): string {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return '/' + out.join('/')
}

/** The file system view a tool gets: the operations a C program would use. */
/**
 * kernfs keeps directory entries ordered by a hash of their name, so readdir
 * on sysfs returns them in that order, not sorted.
 */
export function kernfsHash(name: string): number {
  const M = 0xffffffffffffffffn
  let h = 0n
  for (let i = 0; i < name.length; i++) {
    const c = BigInt(name.charCodeAt(i) & 0xff)
    h = ((h + (c << 4n) + (c >> 4n)) * 11n) & M
  }
  let x = Number(((h * 0x61c8864680b583ebn) & M) >> 32n) & 0x7fffffff
  if (x < 2) x += 2
  if (x >= 0x7fffffff) x = 0x7ffffffe
  return x
}

const hashCache = new Map<string, number>()

export function kernfsOrder(names: string[]): string[] {
  // Each name's hash looked up once, not at every comparison of the sort.
  const keyed = names.map((n) => {
    let v = hashCache.get(n)
    if (v === undefined) hashCache.set(n, (v = kernfsHash(n)))
    return {n, v}
  })
  keyed.sort((a, b) => a.v - b.v || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
  return keyed.map((k) => k.n)
}

export class Vfs {
  /** Where sysfs is mounted. */
  readonly root = '/sys'

  /**
   * @param uid the caller's user id: files and directories belong to root
   *   and their modes decide (core/perm.ts), so any other user can read
   *   what others may read and write nothing.
   */
  constructor(
    private readonly top: DirNode,
    readonly uid = 0,
  ) {}

  /** Resolve an absolute path; with `follow`, a link in the last component is followed too. */
  lookup(path: string, follow = true): {node: Node; path: string} {
    const r = this.resolve(path, follow)
    if (typeof r === 'string') throw new KernelError(r)
    return r
  }

  /** Resolved parent directories; dropped on every write, which may add or remove devices. */
  private readonly dirs = new Map<string, {node: DirNode; at: string[]}>()
  /** The directory resolved last (a tool reads one directory's attributes in a row). */
  private lastDir: {path: string; d: {node: DirNode; at: string[]}} | undefined
  /** Drop what was resolved (a write may add or remove devices). */
  private forget(): void {
    this.dirs.clear()
    this.lastDir = undefined
  }
  private links = 0

  /** Like lookup, but returns the errno instead of throwing (tools probe many missing files). */
  private resolve(path: string, follow: boolean): {node: Node; path: string} | 'ENOENT' | 'ENOTDIR' {
    const r = this.resolveAt(path, follow)
    return typeof r === 'string' ? r : {node: r.node, path: '/' + r.at.join('/')}
  }

  /** resolve without making the path's text (most callers want only the node). */
  private resolveAt(path: string, follow: boolean): {node: Node; at: string[]} | 'ENOENT' | 'ENOTDIR' {
    if (!path.startsWith('/')) return 'ENOENT'
    this.links = 0
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    if (name !== '' && name !== '.' && name !== '..') {
      const parent = this.dirAt(path.slice(0, cut) || '/')
      if (typeof parent === 'string') return parent
      return this.step(parent.node, parent.at, name, follow)
    }
    return this.walk(path.split('/'), follow)
  }

  /**
   * The directory at an absolute path, through the cache of resolved
   * directories, its own parent's included: reading the attributes of
   * 65,536 queues walks one step per queue directory, not the whole path.
   */
  private dirAt(path: string): {node: DirNode; at: string[]} | 'ENOENT' | 'ENOTDIR' {
    if (this.lastDir?.path === path) return this.lastDir.d
    const hit = this.dirs.get(path)
    if (hit) {
      this.lastDir = {path, d: hit}
      return hit
    }
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    let r: {node: Node; at: string[]} | 'ENOENT' | 'ENOTDIR'
    if (path === '/' || name === '' || name === '.' || name === '..') r = this.walk(path.split('/'), true)
    else {
      const parent = this.dirAt(path.slice(0, cut) || '/')
      if (typeof parent === 'string') return parent
      r = this.step(parent.node, parent.at, name, true)
    }
    if (typeof r === 'string') return r
    if (r.node.kind !== 'dir') return 'ENOTDIR'
    const d = {node: r.node, at: r.at}
    // A bounded cache: what a tool walks is read in order, and tens of
    // thousands of entries kept alive cost more in garbage collection than
    // walking the few levels again.
    if (this.dirs.size >= 1024) this.dirs.clear()
    this.dirs.set(path, d)
    this.lastDir = {path, d}
    return d
  }

  private walk(parts: string[], followLast: boolean): {node: Node; at: string[]} | 'ENOENT' | 'ENOTDIR' {
    let cur: {node: Node; at: string[]} = {node: this.top, at: []}
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]
      if (part === '' || part === '.') continue
      if (part === '..') {
        const up = this.walk(cur.at.slice(0, -1), true)
        if (typeof up === 'string') return up
        cur = up
        continue
      }
      const r = this.step(cur.node, cur.at, part, followLast || i < parts.length - 1)
      if (typeof r === 'string') return r
      cur = r
    }
    return cur
  }

  /** One path component below `node`, following a link when asked. */
  private step(node: Node, at: string[], part: string, follow: boolean): {node: Node; at: string[]} | 'ENOENT' | 'ENOTDIR' {
    if (node.kind !== 'dir') return 'ENOTDIR'
    const next = node.get(part)
    if (!next) return 'ENOENT'
    if (next.kind !== 'link' || !follow) return {node: next, at: [...at, part]}
    if (++this.links > MAX_LINKS) return 'ENOENT'
    return this.walk(next.target.startsWith('/') ? next.target.split('/') : [...at, ...next.target.split('/')], true)
  }

  private nodeOrNull(path: string): Node | null {
    const r = this.resolveAt(path, true)
    return typeof r === 'string' ? null : r.node
  }

  /** The contents, or null when the file cannot be read. */
  readOrNull(path: string): string | null {
    const n = this.nodeOrNull(path)
    if (!n || n.kind !== 'file' || !n.show) return null
    try {
      return n.show()
    } catch {
      return null
    }
  }

  exists(path: string): boolean {
    return this.nodeOrNull(path) !== null
  }

  stat(path: string, follow = true): Stat {
    const {node} = this.lookup(path, follow)
    if (node.kind === 'file') return {kind: 'file', mode: node.mode}
    return {kind: node.kind, mode: node.kind === 'dir' ? 0o755 : 0o777}
  }

  isDir(path: string): boolean {
    return this.nodeOrNull(path)?.kind === 'dir'
  }

  isFile(path: string): boolean {
    return this.nodeOrNull(path)?.kind === 'file'
  }

  /** Read a file's whole contents (open + read); errno as the kernel gives it. */
  read(path: string): string {
    const {node} = this.lookup(path)
    if (node.kind === 'dir') throw new KernelError('EISDIR')
    if (node.kind !== 'file' || !node.show) throw new KernelError('EACCES')
    // Files without read permission for others (module parameters, 0440) are root's.
    if (!mayAccess(this.uid, node.mode, 'r')) throw new KernelError('EACCES')
    return node.show()
  }

  /** Write to an attribute (open O_WRONLY + write). */
  write(path: string, data: string): void {
    const {node} = this.lookup(path)
    if (node.kind === 'dir') throw new KernelError('EISDIR')
    if (node.kind !== 'file' || !node.store || !mayAccess(this.uid, node.mode, 'w')) throw new KernelError('EACCES')
    // Nothing to write is no write(2) at all (echo -n "", an empty fputs): the store never runs.
    if (data === '') return
    this.forget()
    node.store(data)
  }

  /** access(path, W_OK): root may write any existing file, others what the mode lets them. */
  canWrite(path: string): boolean {
    const n = this.nodeOrNull(path)
    return n?.kind === 'file' && mayAccess(this.uid, n.mode, 'w')
  }

  readdir(path: string): string[] {
    const {node} = this.lookup(path)
    if (node.kind !== 'dir') throw new KernelError('ENOTDIR')
    return kernfsOrder(node.list())
  }

  readlink(path: string): string {
    const {node} = this.lookup(path, false)
    if (node.kind !== 'link') throw new KernelError('EINVAL')
    return node.target
  }

  /** realpath(3): the path with every link resolved, or null. */
  realpath(path: string): string | null {
    const r = this.resolve(path, true)
    return typeof r === 'string' ? null : r.path
  }

  isExecutable(path: string): boolean {
    const n = this.nodeOrNull(path)
    return n?.kind === 'file' && (n.mode & 0o111) !== 0
  }

  private parentOf(path: string): {dir: DirNode; name: string} {
    const cut = path.lastIndexOf('/')
    const {node} = this.lookup(path.slice(0, cut) || '/')
    if (node.kind !== 'dir') throw new KernelError('ENOTDIR')
    return {dir: node, name: path.slice(cut + 1)}
  }

  /** open(O_WRONLY|O_CREAT|O_TRUNC) and write: sysfs cannot create files, /etc can. */
  writeFile(path: string, data: string): void {
    if (this.exists(path)) return this.write(path, data)
    const {dir: d, name} = this.parentOf(path)
    if (!d.create || !mayAccess(this.uid, DIR_MODE, 'w')) throw new KernelError('EACCES')
    this.forget()
    d.create(name, data)
  }

  /** mkdir -p */
  mkdirp(path: string): void {
    const parts = normalize(path).split('/').filter(Boolean)
    let cur = ''
    for (const p of parts) {
      cur += '/' + p
      if (this.isDir(cur)) continue
      const {dir: d, name} = this.parentOf(cur)
      if (this.exists(cur)) throw new KernelError('EEXIST')
      if (!d.mkdir || !mayAccess(this.uid, DIR_MODE, 'w')) throw new KernelError('EACCES')
      this.forget()
      d.mkdir(name)
    }
  }

  unlink(path: string): void {
    const {node} = this.lookup(path, false)
    if (node.kind === 'dir') throw new KernelError('EISDIR')
    const {dir: d, name} = this.parentOf(path)
    if (!d.remove || !mayAccess(this.uid, DIR_MODE, 'w')) throw new KernelError('EACCES')
    this.forget()
    d.remove(name)
  }
}
