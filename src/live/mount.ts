// `aplab mount`: the live host (fs.ts) served over FUSE with the
// @cocalc/fuse-native binding of libfuse 2, which is loaded here and only
// here, so that nothing else in aplab needs FUSE. Also what `aplab umount`
// and a new mount need to find an earlier mount: /proc/self/mountinfo.

import {execFile} from 'node:child_process'
import * as fs from 'node:fs'
import {createRequire} from 'node:module'
import * as path from 'node:path'

import {AplabError} from '../core/errors.js'
import {LiveFs, type LiveStat} from './fs.js'
import {errorMessage, pickHost} from '../cli/env.js'
import {pidAlive} from '../state/lock.js'
import {load} from '../state/store.js'

/** The file system type aplab's mounts show in mountinfo (fuse.SUBTYPE). */
export const FSTYPE = 'fuse.aplab'

export class MountError extends AplabError {}

/** One line of /proc/self/mountinfo: where, what type, and the source (aplab:PID for aplab's). */
export interface MountEntry {
  mountpoint: string
  fstype: string
  source: string
}

const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    const dash = f.indexOf('-')
    if (dash < 6 || f.length < dash + 3) continue
    out.push({mountpoint: unescapeMount(f[4]), fstype: f[dash + 1], source: unescapeMount(f[dash + 2])})
  }
  return out
}

/** The aplab mount on `dir` (the last one mounted there), if any. */
export function aplabMountAt(dir: string): MountEntry | undefined {
  let text = ''
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return undefined
  }
  const at = path.resolve(dir)
  return parseMountinfo(text)
    .filter((m) => m.mountpoint === at && m.fstype === FSTYPE)
    .at(-1)
}

/** The pid of the process serving a mount (its source is aplab:PID), when that process still runs. */
export function serverPid(m: MountEntry): number | null {
  const pid = Number(/^aplab:(\d+)$/.exec(m.source)?.[1])
  if (!Number.isInteger(pid) || pid <= 0) return null
  if (!pidAlive(pid)) return null
  // A mount whose server died answers ENOTCONN, whatever now has that pid.
  try {
    fs.statSync(m.mountpoint)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTCONN') return null
  }
  return pid
}

/** Detach a mount whose server is gone (fusermount -uz, as libfuse's own cleanup does). */
export async function detach(dir: string): Promise<void> {
  const run = (cmd: string, args: string[]) =>
    new Promise<string | null>((resolve) => execFile(cmd, args, (err, _o, stderr) => resolve(err ? (stderr.trim() || err.message) : null)))
  let err = await run('fusermount', ['-uz', dir])
  if (err !== null && process.geteuid?.() === 0) err = await run('umount', ['-l', dir])
  if (err !== null) throw new MountError(`cannot unmount the stale mount on ${dir}: ${err}`)
}

/** Why FUSE cannot run here, in one line that says what to install; null when it can. */
export function fuseMissing(): string | null {
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT'
      ? 'FUSE is not available: /dev/fuse is missing (load the kernel module with modprobe fuse; a container needs --device /dev/fuse)'
      : 'FUSE is not available: no permission to open /dev/fuse (add yourself to its group, or run as root)'
  }
  try {
    loadBinding()
  } catch (e) {
    return (e as Error).message
  }
  return null
}

interface FuseClass {
  new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>): FuseInstance
}
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void
  unmount(cb: (err: Error | null) => void): void
}

let binding: FuseClass | undefined

/** The binding, loaded at run time (a native module: never bundled). */
function loadBinding(): FuseClass {
  if (binding) return binding
  try {
    binding = createRequire(import.meta.url)('@cocalc/fuse-native') as FuseClass
  } catch (e) {
    const msg = (e as Error).message
    if (/libfuse\.so/.test(msg)) throw new MountError('FUSE is not available: libfuse.so.2 is missing (apt-get install libfuse2)')
    throw new MountError(
      'FUSE is not available: the binding @cocalc/fuse-native is not built (apt-get install libfuse-dev pkg-config fuse3, then npm rebuild @cocalc/fuse-native)',
    )
  }
  return binding
}

export interface LiveMount {
  dir: string
  /** Unmount and stop serving. */
  close(): Promise<void>
}

/**
 * Serve the live host on `dir` until close(). A stale aplab mount left
 * there by a killed process is detached first; a live one is refused.
 */
export async function mountLive(dir: string, state: string, host?: string): Promise<LiveMount> {
  const mnt = path.resolve(dir)
  const missing = fuseMissing()
  if (missing) throw new MountError(missing)
  const old = aplabMountAt(mnt)
  if (old) {
    const pid = serverPid(old)
    if (pid !== null && pid !== process.pid) throw new MountError(`${dir} is an aplab mount already (served by pid ${pid}; aplab umount ${dir})`)
    await detach(mnt)
  }
  let st: fs.Stats
  try {
    st = fs.statSync(mnt)
  } catch (e) {
    throw new MountError(`cannot mount on ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`)
  }
  if (!st.isDirectory()) throw new MountError(`cannot mount on ${dir}: Not a directory`)
  // A state that cannot be read, or a host it does not have, is said now rather than as EIO later.
  try {
    pickHost(await load(state), host)
  } catch (e) {
    throw new MountError(errorMessage(e).message)
  }
  const Fuse = loadBinding()
  const live = new LiveFs(state, host)
  const fuse = new Fuse(mnt, fuseOps(live), {
    // libfuse 2's high-level options. The timeouts are strings, as the binding drops falsy values;
    // direct_io (no page cache: short reads of a 4096-byte attribute, every read reaches show())
    // has no field of its own and rides on fsname, which the binding passes on verbatim.
    fsname: `aplab:${process.pid},direct_io`,
    subtype: 'aplab',
    attrTimeout: '0',
    entryTimeout: '0',
    defaultPermissions: true,
    allowOther: process.geteuid?.() === 0,
    timeout: false,
  })
  await new Promise<void>((resolve, reject) =>
    fuse.mount((err) => (err ? reject(new MountError(`cannot mount on ${dir}: ${err.message === 'fuse failed' ? 'libfuse could not mount it' : err.message}`)) : resolve())),
  )
  let closed: Promise<void> | null = null
  return {
    dir: mnt,
    close: () =>
      (closed ??= new Promise<void>((resolve) =>
        fuse.unmount(() => {
          // fusermount may be missing or refuse (a user namespace): unmount as root does.
          if (aplabMountAt(mnt)) void detach(mnt).catch(() => undefined).then(() => resolve())
          else resolve()
        }),
      )),
  }
}

type Cb = (code: number, ...rest: unknown[]) => void

/** The binding's operations over a LiveFs: errors are negative errnos, as the binding wants. */
function fuseOps(live: LiveFs): Record<string, unknown> {
  const stat = (s: LiveStat) => s
  return {
    getattr: (p: string, cb: Cb) => void live.getattr(p).then((r) => (typeof r === 'number' ? cb(r) : cb(0, stat(r)))),
    fgetattr: (p: string, _fd: number, cb: Cb) => void live.getattr(p).then((r) => (typeof r === 'number' ? cb(r) : cb(0, stat(r)))),
    readdir: (p: string, cb: Cb) => void live.readdir(p).then((r) => (typeof r === 'number' ? cb(r) : cb(0, r))),
    readlink: (p: string, cb: Cb) => void live.readlink(p).then((r) => (typeof r === 'number' ? cb(r) : cb(0, r))),
    open: (p: string, flags: number, cb: Cb) => void live.open(p, flags).then((r) => (r < 0 ? cb(r) : cb(0, r))),
    release: (_p: string, fd: number, cb: Cb) => {
      live.release(fd)
      cb(0)
    },
    read: (p: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) =>
      void live.read(p, fd, len, pos).then((r) => {
        if (typeof r === 'number') return cb(r)
        r.copy(buf)
        cb(r.length)
      }),
    write: (p: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) =>
      void live.write(p, fd, Buffer.from(buf.subarray(0, len)), pos).then(cb),
    truncate: (p: string, size: number, cb: Cb) => void live.truncate(p, size).then((r) => cb(r)),
    ftruncate: (p: string, _fd: number, size: number, cb: Cb) => void live.truncate(p, size).then((r) => cb(r)),
    create: (p: string, _mode: number, cb: Cb) => void live.create(p).then((r) => (r < 0 ? cb(r) : cb(0, r))),
    mkdir: (p: string, _mode: number, cb: Cb) => void live.mkdir(p).then((r) => cb(r)),
    unlink: (p: string, cb: Cb) => void live.unlink(p).then((r) => cb(r)),
    rmdir: (p: string, cb: Cb) => void live.rmdir(p).then((r) => cb(r)),
    rename: (a: string, b: string, cb: Cb) => void live.rename(a, b).then((r) => cb(r)),
    // kernfs keeps chmod, chown and times in its node; aplab keeps none of them, but they succeed.
    chmod: (_p: string, _m: number, cb: Cb) => cb(0),
    chown: (_p: string, _u: number, _g: number, cb: Cb) => cb(0),
    utimens: (_p: string, _a: unknown, _m: unknown, cb: Cb) => cb(0),
    flush: (_p: string, _fd: number, cb: Cb) => cb(0),
    fsync: (_p: string, _fd: number, _d: unknown, cb: Cb) => cb(0),
  }
}
