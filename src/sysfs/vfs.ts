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

/**
 * A directory of many alike (the queues of a host): one table of entries
 * for all, each made from the directory's own context when looked up; an
 * entry may yield nothing.
 */
export function tableDir<C>(table: Record<string, (ctx: C) => Node | undefined>, ctx: C): DirNode {
  return {
    kind: 'dir',
    list: () => Object.keys(table).filter((k) => table[k](ctx) !== undefined),
    get: (name) => (Object.hasOwn(table, name) ? table[name](ctx) : undefined),
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

type Errno = 'ENOENT' | 'ENOTDIR'

/** A resolved node and the components of its path, links resolved (for relative links and realpath). */
interface Resolved<N extends Node = DirNode> {
  node: N
  at: string[]
}

export function normalize(path: string): string {
  const out: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part)
  }
  return '/' + out.join('/')
}

/**
 * kernfs keeps directory entries ordered by a hash of their name, so readdir
 * on sysfs returns them in that order, not sorted. The kernel's
 * kernfs_name_hash (full_name_hash's 64-bit step, in 16-bit limbs, then
 * hash_long in 32-bit halves): exact, in small integers only.
 */
export function kernfsHash(name: string): number {
  let a0 = 0
  let a1 = 0
  let a2 = 0
  let a3 = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i) & 0xff
    // h = (h + (c << 4) + (c >> 4)) * 11, modulo 2^64
    let t = (a0 + (c << 4) + (c >> 4)) * 11
    a0 = t & 0xffff
    t = a1 * 11 + (t >>> 16)
    a1 = t & 0xffff
    t = a2 * 11 + (t >>> 16)
    a2 = t & 0xffff
    a3 = (a3 * 11 + (t >>> 16)) & 0xffff
  }
  const lo = ((a1 << 16) | a0) >>> 0
  const hi = ((a3 << 16) | a2) >>> 0
  // bits 32..62 of h * 0x61c8864680b583eb modulo 2^64
  const l1 = lo >>> 16
  const l0 = lo & 0xffff
  const mid = l1 * K0 + l0 * K1
  const carry = l1 * K1 + Math.floor((mid * 0x10000 + l0 * K0) / 0x100000000)
  let x = (Math.imul(hi, KLO) + Math.imul(lo, KHI) + carry) & 0x7fffffff
  if (x < 2) x += 2
  if (x >= 0x7fffffff) x = 0x7ffffffe
  return x
}

const KHI = 0x61c88646
const KLO = 0x80b583eb
const K1 = KLO >>> 16
const K0 = KLO & 0xffff

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** `names` in kernfs's order: by hash, then (the rare equal hashes) by name. */
export function kernfsOrder(names: string[]): string[] {
  const n = names.length
  if (n >= 1 << 21) {
    const keyed = names.map((name) => ({name, v: kernfsHash(name)}))
    keyed.sort((a, b) => a.v - b.v || byName(a.name, b.name))
    return keyed.map((k) => k.name)
  }
  // Hash and index in one exact double (31 + 21 bits), sorted as numbers
  // without a comparison function.
  const keys = new Float64Array(n)
  for (let i = 0; i < n; i++) keys[i] = kernfsHash(names[i]) * (1 << 21) + i
  keys.sort()
  const out = new Array<string>(n)
  for (let i = 0; i < n; i++) out[i] = names[keys[i] % (1 << 21)]
  // Names of equal hash: by name.
  for (let i = 0; i < n; ) {
    const h = Math.floor(keys[i] / (1 << 21))
    let j = i + 1
    while (j < n && Math.floor(keys[j] / (1 << 21)) === h) j++
    if (j - i > 1) {
      const run = out.slice(i, j).sort(byName)
      for (let k = i; k < j; k++) out[k] = run[k - i]
    }
    i = j
  }
  return out
}

/** A directory opened by Vfs.openDir (the tools' SysDir). */
export interface VfsDir {
  readonly path: string
  readOrNull(name: string): string | null
  readlink(name: string): string
  openDir(name: string): VfsDir | null
}

interface DirAccess {
  node(d: OpenDir, name: string, follow: boolean): Node | Errno
  dir(d: OpenDir, name: string): VfsDir | null
}

/** One component, not `.`, `..` or empty: a get() below the directory. */
const plainName = (name: string): boolean => name !== '' && name !== '.' && name !== '..' && !name.includes('/')

/**
 * An open directory: its node, and where it is (for links relative to it),
 * made from its parent's only when a link has to be followed.
 */
class OpenDir implements VfsDir {
  constructor(
    private readonly access: DirAccess,
    readonly path: string,
    readonly node: DirNode,
    private where?: string[],
    private readonly parent?: OpenDir,
    private readonly name?: string,
  ) {}

  get at(): string[] {
    return (this.where ??= [...this.parent!.at, this.name!])
  }

  readOrNull(name: string): string | null {
    const n = this.access.node(this, name, true)
    return showOrNull(typeof n === 'string' ? null : n)
  }

  readlink(name: string): string {
    const n = this.access.node(this, name, false)
    if (typeof n === 'string') throw new KernelError(n)
    if (n.kind !== 'link') throw new KernelError('EINVAL')
    return n.target
  }

  openDir(name: string): VfsDir | null {
    return this.access.dir(this, name)
  }
}

function showOrNull(n: Node | null): string | null {
  if (!n || n.kind !== 'file' || !n.show) return null
  try {
    return n.show()
  } catch {
    return null
  }
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

  /** The node at an absolute path (lookup without making the resolved path's text). */
  private node(path: string, follow = true): Node {
    const r = this.nodeAt(path, follow)
    if (typeof r === 'string') throw new KernelError(r)
    return r
  }

  /**
   * Resolved directories that others were looked up through (the bus, the
   * devices, the cards): few, and each used again and again. Dropped on
   * every write, which may add or remove devices.
   */
  private readonly dirs = new Map<string, Resolved>()
  /**
   * The last few directories whose files were read (a tool reads one
   * queue's attributes and its card's in turn). Only these: keeping every
   * queue directory of 65,536 alive, even for a while, moves them all to
   * the old generation and makes the run a garbage collector's.
   */
  private readonly recentPath: string[] = ['', '', '', '']
  private readonly recentDir: Array<Resolved | undefined> = [undefined, undefined, undefined, undefined]
  private recentNext = 0
  /** Drop what was resolved (a write may add or remove devices). */
  private forget(): void {
    this.dirs.clear()
    this.recentPath.fill('')
    this.recentDir.fill(undefined)
  }
  private links = 0

  /** Like lookup, but returns the errno instead of throwing (tools probe many missing files). */
  private resolve(path: string, follow: boolean): {node: Node; path: string} | Errno {
    const r = this.resolveAt(path, follow)
    return typeof r === 'string' ? r : {node: r.node, path: '/' + r.at.join('/')}
  }

  /** resolve with the path as components; `through`: a directory is looked up below `path`'s parent. */
  private resolveAt(path: string, follow: boolean, through = false): Resolved<Node> | Errno {
    if (!path.startsWith('/')) return 'ENOENT'
    this.links = 0
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    if (name !== '' && name !== '.' && name !== '..') {
      const parent = this.dirAt(cut === 0 ? '/' : path.slice(0, cut), through)
      if (typeof parent === 'string') return parent
      return this.step(parent.node, parent.at, name, follow)
    }
    return this.walk(path.split('/'), follow)
  }

  /**
   * The node alone: what reading a file needs. The last component is one
   * get() below its cached parent; no path components are built unless a
   * link has to be followed.
   */
  private nodeAt(path: string, follow: boolean): Node | Errno {
    if (path.charCodeAt(0) !== 47) return 'ENOENT'
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    if (name === '' || name === '.' || name === '..') {
      const r = this.resolveAt(path, follow)
      return typeof r === 'string' ? r : r.node
    }
    this.links = 0
    const parent = this.dirAt(cut === 0 ? '/' : path.slice(0, cut), false)
    if (typeof parent === 'string') return parent
    const next = parent.node.get(name)
    if (!next) return 'ENOENT'
    if (next.kind !== 'link' || !follow) return next
    const r = this.follow(next, parent.at)
    return typeof r === 'string' ? r : r.node
  }

  /**
   * The directory at an absolute path, through the caches of resolved
   * directories, its own parent's included: reading the attributes of
   * 65,536 queues walks one step per queue directory, not the whole path.
   * `through`: another directory is being looked up below this one.
   */
  private dirAt(path: string, through: boolean): Resolved | Errno {
    const rp = this.recentPath
    for (let i = 0; i < rp.length; i++) if (rp[i] === path) return this.recentDir[i]!
    const hit = this.dirs.get(path)
    if (hit) return hit
    const cut = path.lastIndexOf('/')
    const name = path.slice(cut + 1)
    let r: Resolved<Node> | Errno
    if (path === '/' || name === '' || name === '.' || name === '..') r = this.walk(path.split('/'), true)
    else {
      const parent = this.dirAt(cut === 0 ? '/' : path.slice(0, cut), true)
      if (typeof parent === 'string') return parent
      r = this.step(parent.node, parent.at, name, true)
    }
    if (typeof r === 'string') return r
    if (r.node.kind !== 'dir') return 'ENOTDIR'
    const d = r as Resolved
    if (through) {
      // Bounded all the same (a tool walking tens of thousands of devices).
      if (this.dirs.size >= 1024) this.dirs.clear()
      this.dirs.set(path, d)
    } else {
      const k = this.recentNext
      this.recentNext = (k + 1) % rp.length
      rp[k] = path
      this.recentDir[k] = d
    }
    return d
  }

  private walk(parts: string[], followLast: boolean): Resolved<Node> | Errno {
    let cur: Resolved<Node> = {node: this.top, at: []}
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]
      // A trailing slash, '.' or '..' asks for a directory of what came before (a link followed).
      if ((part === '' || part === '.' || part === '..') && cur.node.kind !== 'dir') return 'ENOTDIR'
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
  private step(node: Node, at: string[], part: string, follow: boolean): Resolved<Node> | Errno {
    if (node.kind !== 'dir') return 'ENOTDIR'
    const next = node.get(part)
    if (!next) return 'ENOENT'
    if (next.kind !== 'link' || !follow) return {node: next, at: [...at, part]}
    return this.follow(next, at)
  }

  /** Where a link in the directory `at` leads. */
  private follow(link: LinkNode, at: string[]): Resolved<Node> | Errno {
    if (++this.links > MAX_LINKS) return 'ENOENT'
    return this.walk(link.target.startsWith('/') ? link.target.split('/') : [...at, ...link.target.split('/')], true)
  }

  private nodeOrNull(path: string): Node | null {
    const r = this.nodeAt(path, true)
    return typeof r === 'string' ? null : r
  }

  /** The contents, or null when the file cannot be read. */
  readOrNull(path: string): string | null {
    return showOrNull(this.nodeOrNull(path))
  }

  /**
   * open(O_PATH | O_DIRECTORY) and then openat/readlinkat by name: one
   * lookup of the directory, then one get() per entry. Null when the path
   * is not a directory. Meant for reads: a write may remove what it holds.
   */
  openDir(path: string): VfsDir | null {
    // The directory is looked up through its cached parent but not cached
    // itself: a tool opens each of thousands of devices once.
    const r = this.resolveAt(path, true, true)
    if (typeof r === 'string' || r.node.kind !== 'dir') return null
    return new OpenDir(this.access, path, r.node, r.at)
  }

  /** What an open directory does below itself, with the view's private means. */
  private readonly access: DirAccess = {
    node: (d, name, follow) => {
      if (!plainName(name)) return this.nodeAt(`${d.path}/${name}`, follow)
      const next = d.node.get(name)
      if (!next) return 'ENOENT'
      if (next.kind !== 'link' || !follow) return next
      this.links = 0
      const r = this.follow(next, d.at)
      return typeof r === 'string' ? r : r.node
    },
    dir: (d, name) => {
      const path = `${d.path}/${name}`
      if (!plainName(name)) return this.openDir(path)
      const next = d.node.get(name)
      if (next?.kind === 'dir') return new OpenDir(this.access, path, next, undefined, d, name)
      if (next?.kind !== 'link') return null
      this.links = 0
      const r = this.follow(next, d.at)
      return typeof r === 'string' || r.node.kind !== 'dir' ? null : new OpenDir(this.access, path, r.node, r.at)
    },
  }

  exists(path: string): boolean {
    return this.nodeOrNull(path) !== null
  }

  stat(path: string, follow = true): Stat {
    const node = this.node(path, follow)
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
    const node = this.node(path)
    if (node.kind === 'dir') throw new KernelError('EISDIR')
    if (node.kind !== 'file' || !node.show) throw new KernelError('EACCES')
    // Files without read permission for others (module parameters, 0440) are root's.
    if (!mayAccess(this.uid, node.mode, 'r')) throw new KernelError('EACCES')
    return node.show()
  }

  /** Write to an attribute (open O_WRONLY + write). */
  write(path: string, data: string): void {
    const node = this.node(path)
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
    return kernfsOrder(this.readdirAnyOrder(path))
  }

  readdirAnyOrder(path: string): string[] {
    const node = this.node(path)
    if (node.kind !== 'dir') throw new KernelError('ENOTDIR')
    return node.list()
  }

  readlink(path: string): string {
    const node = this.node(path, false)
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
    const node = this.node(path.slice(0, cut) || '/')
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
    const node = this.node(path, false)
    if (node.kind === 'dir') throw new KernelError('EISDIR')
    const {dir: d, name} = this.parentOf(path)
    if (!d.remove || !mayAccess(this.uid, DIR_MODE, 'w')) throw new KernelError('EACCES')
    this.forget()
    d.remove(name)
  }
}
