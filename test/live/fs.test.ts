// The live file system's operations, without FUSE: what `aplab mount`
// answers for each path, straight from the state file.

import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {LiveFs, PAGE_SIZE, S_IFDIR, S_IFLNK, S_IFREG, type LiveStat} from '../../src/live/fs.js'
import {load, mutate, newWorld, replace} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'

const made: string[] = []
afterAll(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

/** A state file with the kernel documentation's host (vfio_ap loaded, queues for it). */
async function live(): Promise<{fs: LiveFs; state: string}> {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-live-'))
  made.push(dir)
  const state = join(dir, 'state.yaml')
  await replace(state, newWorld('vfio-ap-doc'), true)
  return {fs: new LiveFs(state), state}
}

const O_RDONLY = 0
const O_WRONLY = 1

async function stat(fs: LiveFs, p: string): Promise<LiveStat> {
  const s = await fs.getattr(p)
  if (typeof s === 'number') throw new Error(`getattr ${p}: ${s}`)
  return s
}

/** open, read everything, release: what `cat` does. */
async function cat(fs: LiveFs, p: string): Promise<string | number> {
  const fh = await fs.open(p, O_RDONLY)
  if (fh < 0) return fh
  let out = Buffer.alloc(0)
  for (;;) {
    const r = await fs.read(p, fh, 4096, out.length)
    if (typeof r === 'number') return r
    if (r.length === 0) break
    out = Buffer.concat([out, r])
  }
  fs.release(fh)
  return out.toString()
}

/** open for writing and one write(2): what `echo VALUE > PATH` does. */
async function echo(fs: LiveFs, p: string, text: string): Promise<number> {
  const fh = await fs.open(p, O_WRONLY)
  if (fh < 0) return fh
  const r = await fs.write(p, fh, Buffer.from(text), 0)
  fs.release(fh)
  return r
}

describe('the live file system', () => {
  it('has sys, proc and etc at its root, and nothing else', async () => {
    const {fs} = await live()
    expect(await fs.readdir('/')).toEqual(['.', '..', 'sys', 'proc', 'etc'])
    expect(await fs.getattr('/usr')).toBe(-2)
    expect((await stat(fs, '/')).nlink).toBe(5)
  })

  it('shows attributes as sysfs does: their mode, root, 4096 bytes, and times that do not move', async () => {
    const {fs, state} = await live()
    const apmask = await stat(fs, '/sys/bus/ap/apmask')
    expect(apmask.mode).toBe(S_IFREG | 0o644)
    expect(apmask.size).toBe(PAGE_SIZE)
    expect([apmask.uid, apmask.gid, apmask.nlink]).toEqual([0, 0, 1])
    expect(apmask.mtime.getTime()).toBe((await load(state)).hosts[0].runtime.bootTime)
    expect((await stat(fs, '/sys/bus/ap/ap_domain')).mode).toBe(S_IFREG | 0o644)
    expect((await stat(fs, '/sys/bus/ap/ap_max_domain_id')).mode).toBe(S_IFREG | 0o444)
    expect((await stat(fs, '/sys/devices/ap/card05/05.0004')).mode).toBe(S_IFDIR | 0o755)
    expect((await stat(fs, '/proc/cmdline')).size).toBe(0)
    expect(await echo(fs, '/sys/bus/ap/apmask', '-5\n')).toBe(3)
    expect((await stat(fs, '/sys/bus/ap/apmask')).mtime.getTime()).toBe(apmask.mtime.getTime())
  })

  it('gives links their relative targets, as kernfs does', async () => {
    const {fs} = await live()
    const l = await stat(fs, '/sys/bus/ap/devices/card05')
    expect(l.mode).toBe(S_IFLNK | 0o777)
    expect(await fs.readlink('/sys/bus/ap/devices/card05')).toBe('../../../devices/ap/card05')
    expect(l.size).toBe('../../../devices/ap/card05'.length)
    expect(await fs.readlink('/sys/bus/ap/apmask')).toBe(-22)
  })

  it('counts subdirectories in a directory link count, not links', async () => {
    const {fs} = await live()
    const names = await fs.readdir('/sys/devices/ap/card05')
    if (typeof names === 'number') throw new Error('readdir')
    let dirs = 0
    for (const n of names.slice(2)) if (((await stat(fs, `/sys/devices/ap/card05/${n}`)).mode & S_IFDIR) === S_IFDIR) dirs++
    expect((await stat(fs, '/sys/devices/ap/card05')).nlink).toBe(dirs + 2)
  })

  it("lists entries in kernfs's order, . and .. first", async () => {
    const {fs} = await live()
    const names = await fs.readdir('/sys/bus/ap')
    expect(names).toEqual(['.', '..', ...hostVfs((await load(fs.state)).hosts[0]).readdir('/sys/bus/ap')])
    expect(names).not.toEqual(['.', '..', ...(names as string[]).slice(2).sort()])
  })

  it('refuses to open a write-only attribute for reading and a read-only one for writing, as for root', async () => {
    const {fs} = await live()
    const u = await mutate(fs.state, (w) => {
      hostVfs(w.hosts[0]).write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', '6a3a2b59-2e0f-4c29-a3b1-8a0e1e3f0001\n')
      return '6a3a2b59-2e0f-4c29-a3b1-8a0e1e3f0001'
    })
    const base = `/sys/devices/vfio_ap/matrix/${u}`
    expect((await stat(fs, `${base}/assign_adapter`)).mode).toBe(S_IFREG | 0o200)
    expect(await cat(fs, `${base}/assign_adapter`)).toBe(-13)
    expect(await echo(fs, '/sys/bus/ap/ap_max_domain_id', '5\n')).toBe(-13)
    expect(await echo(fs, `${base}/assign_adapter`, '5\n')).toBe(2)
    expect(await cat(fs, `${base}/matrix`)).toBe('05.\n')
    // 05.00ab is the host's (apmask and aqmask are all ones): EADDRNOTAVAIL, and the matrix stays.
    expect(await echo(fs, `${base}/assign_domain`, '0xab\n')).toBe(-99)
    expect(await cat(fs, `${base}/matrix`)).toBe('05.\n')
  })

  it("returns the kernel's errno for a refused store and leaves the state file as it was", async () => {
    const {fs, state} = await live()
    const before = readFileSync(state)
    expect(await echo(fs, '/sys/bus/ap/apmask', '0xzz\n')).toBe(-22)
    expect(await echo(fs, '/sys/bus/ap/config_time', '200\n')).toBe(-22)
    expect(readFileSync(state).equals(before)).toBe(true)
    expect(await echo(fs, '/sys/bus/ap/nope', '1\n')).toBe(-2)
  })

  it('calls show once per open: later reads of the same open file continue in what it gave', async () => {
    const {fs} = await live()
    const fh = await fs.open('/sys/bus/ap/apmask', O_RDONLY)
    const first = await fs.read('/sys/bus/ap/apmask', fh, 10, 0)
    await mutate(fs.state, (w) => hostVfs(w.hosts[0]).write('/sys/bus/ap/apmask', '0x00\n'))
    const rest = await fs.read('/sys/bus/ap/apmask', fh, 4096, 10)
    expect(Buffer.concat([first as Buffer, rest as Buffer]).toString()).toBe('0x' + 'f'.repeat(64) + '\n')
    // A read at offset 0 (after lseek) asks show again.
    expect(((await fs.read('/sys/bus/ap/apmask', fh, 4096, 0)) as Buffer).toString()).toBe('0x' + '0'.repeat(64) + '\n')
    fs.release(fh)
  })

  it('sees what other aplab processes change at the next operation, and they see its writes', async () => {
    const {fs, state} = await live()
    expect(await cat(fs, '/sys/bus/ap/aqmask')).toBe('0x' + 'f'.repeat(64) + '\n')
    await mutate(state, (w) => hostVfs(w.hosts[0]).write('/sys/bus/ap/aqmask', '-0\n'))
    expect(await cat(fs, '/sys/bus/ap/aqmask')).toBe('0x7' + 'f'.repeat(63) + '\n')
    expect(await echo(fs, '/sys/bus/ap/aqmask', '-1\n')).toBe(3)
    expect((await load(state)).hosts[0].runtime.aqmask.has(1)).toBe(false)
  })

  it('passes each write(2) to store whole, whatever the offset, and ignores truncation', async () => {
    const {fs} = await live()
    const fh = await fs.open('/sys/bus/ap/apmask', O_WRONLY)
    expect(await fs.truncate('/sys/bus/ap/apmask', 0)).toBe(0)
    expect(await fs.write('/sys/bus/ap/apmask', fh, Buffer.from('-5'), 0)).toBe(2)
    expect(await fs.write('/sys/bus/ap/apmask', fh, Buffer.from('-6'), 2)).toBe(2)
    expect(await fs.write('/sys/bus/ap/apmask', fh, Buffer.alloc(0), 4)).toBe(0)
    fs.release(fh)
    expect(await cat(fs, '/sys/bus/ap/apmask')).toBe('0xf9' + 'f'.repeat(62) + '\n')
  })

  it('cannot create, remove or rename in sysfs and /proc', async () => {
    const {fs} = await live()
    expect(await fs.create('/sys/bus/ap/new')).toBe(-13)
    expect(await fs.mkdir('/sys/bus/ap/new')).toBe(-1)
    expect(await fs.unlink('/sys/bus/ap/apmask')).toBe(-1)
    expect(await fs.rmdir('/sys/bus/ap/devices')).toBe(-1)
    expect(await fs.rename('/sys/bus/ap/apmask', '/sys/bus/ap/x')).toBe(-1)
    expect(await fs.create('/proc/new')).toBe(-13)
  })

  it('keeps /etc as a disk keeps files: create, write at an offset, truncate, rename, remove', async () => {
    const {fs, state} = await live()
    const files = async () => (await load(state)).hosts[0].persistent.files
    expect(await fs.mkdir('/etc/mdevctl.d/matrix')).toBe(0)
    const fh = await fs.create('/etc/mdevctl.d/matrix/.tmp')
    expect(fh).toBeGreaterThan(0)
    expect(await fs.write('/etc/mdevctl.d/matrix/.tmp', fh, Buffer.from('{"a":'), 0)).toBe(5)
    expect(await fs.write('/etc/mdevctl.d/matrix/.tmp', fh, Buffer.from('1}\n'), 5)).toBe(3)
    fs.release(fh)
    expect(await fs.rename('/etc/mdevctl.d/matrix/.tmp', '/etc/mdevctl.d/matrix/u1')).toBe(0)
    expect((await files())['/etc/mdevctl.d/matrix/u1']).toBe('{"a":1}\n')
    expect((await files())['/etc/mdevctl.d/matrix/.tmp']).toBeUndefined()
    expect((await stat(fs, '/etc/mdevctl.d/matrix/u1')).size).toBe(8)
    expect(await fs.truncate('/etc/mdevctl.d/matrix/u1', 3)).toBe(0)
    expect(await cat(fs, '/etc/mdevctl.d/matrix/u1')).toBe('{"a')
    expect(await fs.rmdir('/etc/mdevctl.d/matrix')).toBe(-39)
    expect(await fs.unlink('/etc/mdevctl.d/matrix/u1')).toBe(0)
    expect(await fs.rmdir('/etc/mdevctl.d/matrix')).toBe(0)
    expect(await fs.getattr('/etc/mdevctl.d/matrix')).toBe(-2)
  })

  it("a directory the packages provide stays, and its refusal changes nothing; a state broken meanwhile is EIO, and the mount lives on", async () => {
    const {fs, state} = await live()
    const before = readFileSync(state, 'utf8')
    expect(await fs.rmdir('/etc/udev/rules.d')).toBe(-16)
    expect(readFileSync(state, 'utf8')).toBe(before)
    writeFileSync(state, before.replace(/^current: .*$/m, 'current: [broken'))
    const errors: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((t: string) => (errors.push(t), true)) as typeof process.stderr.write
    try {
      expect(await fs.getattr('/sys/bus/ap/apmask')).toBe(-5)
      expect(await fs.getattr('/sys/bus/ap/aqmask')).toBe(-5)
    } finally {
      process.stderr.write = write
    }
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(new RegExp(`^aplab mount: ${state}: line \\d+, column \\d+: `))
    writeFileSync(state, before)
    expect(await fs.getattr('/sys/bus/ap/apmask')).toMatchObject({size: 4096})
  })

  it('serves the host named, and says when there is none', async () => {
    const {state} = await live()
    expect(await new LiveFs(state, 'host0').getattr('/sys')).toMatchObject({mode: S_IFDIR | 0o755})
    // (aplab mount refuses such a host before mounting; a host removed later is EIO.)
    const write = process.stderr.write
    process.stderr.write = (() => true) as typeof process.stderr.write
    try {
      expect(await new LiveFs(state, 'nohost').getattr('/sys')).toBe(-5)
    } finally {
      process.stderr.write = write
    }
  })
})
