// The sysfs view's fast paths answer what the plain ones answer: a directory
// opened once (openat's way) reads what its paths read, kernfs's name hash
// is the kernel's, and lszcrypt reads a real tree as it reads the emulated one.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {KernelError} from '../../src/core/errors.js'
import type {Host} from '../../src/core/model.js'
import {exportHost} from '../../src/sysfs/export.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {type Vfs, type VfsDir, kernfsHash, kernfsOrder} from '../../src/sysfs/vfs.js'
import {Stdio} from '../../src/tools/libc.js'
import {queueShaped, runLszcrypt} from '../../src/tools/lszcrypt.js'
import {RealSys} from '../../src/tools/sys.js'
import {cat, ls} from '../../src/sysfs/shell.js'
import {docHostWithVfioQueues} from '../helpers.js'

function errno(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof KernelError ? e.errno : String(e)
  }
  return undefined
}

const host = (): Host => docHostWithVfioQueues()

/** Every entry of `path` read through an open directory and through its path, recursively (links not entered). */
function compare(v: Vfs, d: VfsDir, path: string, depth: number): number {
  let n = 0
  for (const name of v.readdir(path)) {
    const p = `${path}/${name}`
    n++
    expect(d.readOrNull(name), p).toBe(v.readOrNull(p))
    const link = (() => {
      try {
        return v.readlink(p)
      } catch {
        return 'not a link'
      }
    })()
    expect((() => {
      try {
        return d.readlink(name)
      } catch {
        return 'not a link'
      }
    })(), p).toBe(link)
    const sub = d.openDir(name)
    expect(sub !== null, p).toBe(v.isDir(p))
    if (sub && link === 'not a link' && depth > 0) n += compare(v, sub, p, depth - 1)
    else if (sub) for (const e of v.readdir(p)) expect(sub.readOrNull(e), `${p}/${e}`).toBe(v.readOrNull(`${p}/${e}`))
  }
  return n
}

describe('a directory opened once', () => {
  it('reads, reads links and opens what the paths below it give', () => {
    const v = hostVfs(host())
    for (const top of ['/sys/devices/ap', '/sys/bus/ap']) {
      const d = v.openDir(top)!
      expect(d.path).toBe(top)
      expect(compare(v, d, top, 3)).toBeGreaterThan(30)
    }
  })

  it('follows a link to a directory from where the link is', () => {
    const v = hostVfs(host())
    const dev = v.openDir('/sys/bus/ap/devices')!.openDir('05.0047')!
    expect(dev.readOrNull('online')).toBe(v.readOrNull('/sys/devices/ap/card05/05.0047/online'))
    expect(dev.openDir('..')!.readOrNull('type')).toBe('CEX5C\n')
    expect(dev.readOrNull('subsystem/apmask')).toBe(v.readOrNull('/sys/bus/ap/apmask'))
  })

  it('is none for what is not a directory', () => {
    const v = hostVfs(host())
    expect(v.openDir('/sys/bus/ap/apmask')).toBeNull()
    expect(v.openDir('/sys/devices/ap/card7f')).toBeNull()
    expect(v.openDir('sys/bus')).toBeNull()
    const card = v.openDir('/sys/devices/ap/card05')!
    expect(card.openDir('type')).toBeNull()
    expect(card.openDir('05.zzzz')).toBeNull()
    expect(card.openDir('06.0047')).toBeNull()
    expect(card.readOrNull('nothing')).toBeNull()
    expect(errno(() => card.readlink('type'))).toBe('EINVAL')
    expect(errno(() => card.readlink('nothing'))).toBe('ENOENT')
  })
})

describe('a path that goes on past a file', () => {
  // path_lookupat: a trailing slash, '.' or '..' after a component asks for a
  // directory (a link is followed first), so a file there is ENOTDIR.
  it('is ENOTDIR, for files of sysfs and /proc alike, through links too', () => {
    const v = hostVfs(host())
    for (const p of ['/sys/bus/ap/apmask/', '/sys/bus/ap/apmask/.', '/sys/bus/ap/apmask/..', '/proc/cmdline/', '/proc/modules/', '/sys/module/vfio_ap/refcnt/', '/sys/bus/ap/devices/card05/type/', '/sys/bus/ap/devices/card05/type/../type'])
      expect([p, errno(() => v.read(p))]).toEqual([p, 'ENOTDIR'])
    expect(cat(v, ['/proc/cmdline/'])).toEqual({stdout: '', stderr: 'cat: /proc/cmdline/: Not a directory\n', code: 1})
    expect(ls(v, ['/sys/module/vfio_ap/refcnt/'])).toEqual({stdout: '', stderr: "ls: cannot access '/sys/module/vfio_ap/refcnt/': Not a directory\n", code: 2})
    // A directory, or a link to one, with a trailing slash is the directory.
    expect(v.readdir('/sys/module/zcrypt/holders/zcrypt_cex4/')).toEqual(v.readdir('/sys/module/zcrypt_cex4'))
    expect(v.read('/sys/bus/ap/devices/card05/../card05/type')).toBe(v.read('/sys/devices/ap/card05/type'))
    expect(errno(() => v.read('/sys/bus/ap/devices/05.0047/'))).toBe('EISDIR')
  })
})

describe("a card's files", () => {
  it('show what a store changed, read again through the same view', () => {
    const h = host()
    h.runtime.counters['05.0004'] = {requests: 7, requestq: 2, pendingq: 1}
    const v = hostVfs(h)
    const card = v.openDir('/sys/devices/ap/card05')!
    const read = () => ['config', 'online', 'type', 'requestq_count', 'pendingq_count', 'request_count'].map((f) => card.readOrNull(f))
    expect(read()).toEqual(['1\n', '1\n', 'CEX5C\n', '2\n', '1\n', '7\n'])
    v.write('/sys/devices/ap/card05/05.0004/reset', '1')
    expect(read()).toEqual(['1\n', '1\n', 'CEX5C\n', '0\n', '0\n', '7\n'])
    v.write('/sys/devices/ap/card05/config', '0')
    expect(read()).toEqual(['0\n', '0\n', 'CEX5C\n', '0\n', '0\n', '7\n'])
    v.write('/sys/bus/ap/drivers/cex4card/unbind', 'card05')
    expect(read()).toEqual(['0\n', null, null, '0\n', '0\n', '7\n'])
  })
})

describe('kernfs order', () => {
  /** kernfs_name_hash as the kernel computes it, in 64-bit arithmetic. */
  function reference(name: string): number {
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

  it('hashes names as the kernel does', () => {
    const names = ['', 'card00', 'ap_functions', '05.0047', 'x'.repeat(300), '\xff'.repeat(40)]
    for (let a = 0; a < 256; a += 7) for (let d = 0; d < 256; d += 5) names.push(`${a.toString(16).padStart(2, '0')}.${d.toString(16).padStart(4, '0')}`)
    let seed = 1
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 0x80000000) / 0x80000000
    for (let i = 0; i < 2000; i++) names.push(String.fromCharCode(...Array.from({length: 1 + (i % 40)}, () => Math.floor(rnd() * 0x3000))))
    for (const n of names) expect(kernfsHash(n), JSON.stringify(n)).toBe(reference(n))
  })

  it('orders equal hashes by name', () => {
    // The hash sees the low byte of each character only.
    expect(kernfsOrder(['b', '\u0162', 'a', '\u0161', '\u0261', 'a', ''])).toEqual(['', 'a', 'a', '\u0161', '\u0261', 'b', '\u0162'])
  })
})

describe('lszcrypt on a real tree', () => {
  it('prints what it prints on the emulated host', () => {
    const h = host()
    const root = mkdtempSync(join(tmpdir(), 'aplab-vfs-'))
    try {
      exportHost(h, root, false)
      for (const argv of [['-V'], [], ['-V', '05'], ['-V', '.0047'], ['05.0047', '06.0004'], ['--queueonly', '-V']]) {
        const a = new Stdio(false)
        const b = new Stdio(false)
        const ca = runLszcrypt(argv, hostVfs(h), a)
        const cb = runLszcrypt(argv, new RealSys(join(root, 'sys')), b)
        expect({out: b.stdout, err: b.stderr, code: cb}, argv.join(' ')).toEqual({out: a.stdout, err: a.stderr, code: ca})
      }
    } finally {
      rmSync(root, {recursive: true, force: true})
    }
  })
})

describe("lszcrypt's test of a queue directory's name", () => {
  it('is the regular expression it replaces', () => {
    const alpha = 'a.\n\r\u2028\u20290'
    const strings = ['00.0001', 'card00', 'ap_functions', '0.00001', '000.000', '\n00.000', '00.000\n']
    for (let i = 0; i < 20000; i++) {
      let s = ''
      for (let n = i, k = 0; k < i % 11; k++, n = Math.floor(n / alpha.length)) s += alpha[(n + k * 3) % alpha.length]
      strings.push(s)
    }
    for (const s of strings) expect(queueShaped(s), JSON.stringify(s)).toBe(/..\..../.test(s))
  })
})

describe('stdout of a C program, not a terminal', () => {
  it('reaches its descriptor in whole 4096-byte blocks before what stderr writes after them', () => {
    const io = new Stdio(false)
    const row = 'x'.repeat(99) + '\n'
    for (let i = 0; i < 100; i++) io.out(row)
    io.err('oops\n')
    for (let i = 0; i < 300; i++) io.out(row)
    const chunks = io.drain()
    const before = chunks.findIndex((c) => c.fd === 2)
    expect(chunks.slice(0, before).map((c) => c.text).join('').length).toBe(8192)
    expect(chunks.slice(before + 1).map((c) => c.text).join('').length).toBe(40000 - 8192)
    // The part still buffered at exit is a chunk of its own (a crash loses it).
    expect(chunks[chunks.length - 1].text.length).toBe(40000 % 4096)
    expect(chunks.every((c) => c.fd === 2 || c.text.length > 0)).toBe(true)
  })
})
