// /sys/module and /proc/modules: the loaded modules as Linux 6.15 shows them
// (kernel/module/sysfs.c, main.c's modinfo attributes, procfs.c's m_show,
// drivers/base/module.c's links, kernel/params.c for the built-in ap), from
// the one list that lsmod prints.

import {lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {type GuestStart, startGuest, stopGuest} from '../../src/core/guest.js'
import {makeHost} from '../../src/core/host.js'
import type {Host, World} from '../../src/core/model.js'
import {loadedModules} from '../../src/core/modules.js'
import {preset} from '../../src/core/presets.js'
import {exportHost} from '../../src/sysfs/export.js'
import {guestVfs} from '../../src/sysfs/guest.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {cat, ls, readlink} from '../../src/sysfs/shell.js'
import type {Vfs} from '../../src/sysfs/vfs.js'
import {type KmodResult, lsmodText, parseModprobe, runModprobe} from '../../src/tools/kmod.js'
import {docHostWithVfioQueues, errno} from '../helpers.js'

const U = '11111111-1111-4111-8111-111111111111'
const ROOT_LINES = 'vfio_ap 65536 0 - Live 0x000003ff805d0000\nzcrypt_cex4 57344 0 - Live 0x000003ff80448000\nzcrypt 151552 1 zcrypt_cex4, Live 0x000003ff80410000\n'
const ZEROS = '0x0000000000000000'

const tmp: string[] = []
afterAll(() => {
  for (const d of tmp) rmSync(d, {recursive: true, force: true})
})

function modprobe(h: Host, ...argv: string[]): KmodResult {
  const a = parseModprobe(argv)
  return 'code' in a ? a : runModprobe(h, a, 0)
}

/** The kernel documentation's host with an mdev of 05.0004 and a guest that has it open. */
function withGuest(): {w: World; h: Host; start: () => void} {
  const h = docHostWithVfioQueues()
  const v = hostVfs(h)
  v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
  v.write(`/sys/devices/vfio_ap/matrix/${U}/assign_adapter`, '5\n')
  v.write(`/sys/devices/vfio_ap/matrix/${U}/assign_domain`, '4\n')
  const w: World = {current: 'h', hosts: [h]}
  const spec: GuestStart = {
    name: 'g',
    managed: 'qemu',
    autostart: false,
    args: [],
    cpuModel: 'host',
    features: {ap: true, apqci: true, apft: true, apqi: true},
    devices: [{id: 'vfio0', sysfsdev: `/sys/bus/mdev/devices/${U}`, uuid: U}],
  }
  return {w, h, start: () => void startGuest(w, h, spec)}
}

/**
 * What kmod's lsmod makes of the files (tools/lsmod.c, libkmod-module.c):
 * the names from /proc/modules in its order, each size from
 * /sys/module/NAME/coresize, the use count from refcnt, the holders from
 * the entries of holders/.
 */
function lsmodFromFiles(v: Vfs): string {
  const mods = v
    .read('/proc/modules')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const name = l.split(' ')[0]
      const at = `/sys/module/${name}`
      return {name, size: Number(v.read(`${at}/coresize`)), refcnt: Number(v.read(`${at}/refcnt`)), holders: v.readdir(`${at}/holders`)}
    })
  return lsmodText(mods)
}

describe('/proc/modules', () => {
  it('one line per loaded module, the newest first; the address of its code for root only', () => {
    const h = docHostWithVfioQueues()
    expect(hostVfs(h).read('/proc/modules')).toBe(ROOT_LINES)
    expect(hostVfs(h, 1000).read('/proc/modules')).toBe(ROOT_LINES.replace(/0x[0-9a-f]{16}/g, ZEROS))
    expect(hostVfs(h, 1000).stat('/proc/modules').mode).toBe(0o444)
    expect(cat(hostVfs(h, 1000), ['/proc/modules']).stdout.split('\n')[2]).toBe(`zcrypt 151552 1 zcrypt_cex4, Live ${ZEROS}`)
    expect(errno(() => hostVfs(h).write('/proc/modules', 'x'))).toBe('EACCES')
  })

  it("is what lsmod reads: kmod's table from the files is the drop-in's, as modules come, are used and go", () => {
    const {h, start} = withGuest()
    const check = (): string => {
      const table = lsmodText(loadedModules(h))
      expect(lsmodFromFiles(hostVfs(h))).toBe(table)
      expect(lsmodFromFiles(hostVfs(h, 1000))).toBe(table)
      return table
    }
    expect(check()).toBe('Module                  Size  Used by\nvfio_ap                65536  0\nzcrypt_cex4            57344  0\nzcrypt                151552  1 zcrypt_cex4\n')
    start()
    expect(check().split('\n')[1]).toBe('vfio_ap                65536  1')
    expect(hostVfs(h).read('/proc/modules').split('\n')[0]).toBe('vfio_ap 65536 1 - Live 0x000003ff805d0000')
    modprobe(h, '-r', 'vfio_ap')
    stopGuest(h.guests[0])
    expect(modprobe(h, '-r', 'vfio_ap').code).toBe(0)
    expect(check()).toBe('Module                  Size  Used by\nzcrypt_cex4            57344  0\nzcrypt                151552  1 zcrypt_cex4\n')
  })
})

describe('/sys/module', () => {
  it('the built-in ap and each loaded module; a loaded module as 6.15 lays it out', () => {
    const v = hostVfs(docHostWithVfioQueues())
    expect(ls(v, ['/sys/module']).stdout).toBe('ap\nvfio_ap\nzcrypt\nzcrypt_cex4\n')
    const mtime = new Date(2026, 11, 7, 9, 30).getTime()
    expect(ls(v, ['/sys/module/ap', '/sys/module/vfio_ap', '/sys/module/zcrypt'], {long: true, mtime, now: mtime + 60_000}).stdout).toBe(
      [
        '/sys/module/ap:',
        'total 0',
        'drwxr-xr-x 2 root root    0 Dec  7 09:30 parameters',
        '--w------- 1 root root 4096 Dec  7 09:30 uevent',
        '',
        '/sys/module/vfio_ap:',
        'total 0',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 coresize',
        'drwxr-xr-x 2 root root    0 Dec  7 09:30 drivers',
        'drwxr-xr-x 2 root root    0 Dec  7 09:30 holders',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 initsize',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 initstate',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 refcnt',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 taint',
        '--w------- 1 root root 4096 Dec  7 09:30 uevent',
        '',
        '/sys/module/zcrypt:',
        'total 0',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 coresize',
        'drwxr-xr-x 2 root root    0 Dec  7 09:30 holders',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 initsize',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 initstate',
        'drwxr-xr-x 2 root root    0 Dec  7 09:30 parameters',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 refcnt',
        '-r--r--r-- 1 root root 4096 Dec  7 09:30 taint',
        '--w------- 1 root root 4096 Dec  7 09:30 uevent',
        '',
      ].join('\n'),
    )
    const files = ['coresize', 'initsize', 'initstate', 'refcnt', 'taint']
    expect(cat(v, files.map((f) => `/sys/module/vfio_ap/${f}`)).stdout).toBe('65536\n0\nlive\n0\n\n')
    expect(cat(v, files.map((f) => `/sys/module/zcrypt/${f}`)).stdout).toBe('151552\n0\nlive\n1\n\n')
    expect(cat(v, files.map((f) => `/sys/module/zcrypt_cex4/${f}`)).stdout).toBe('57344\n0\nlive\n0\n\n')
    // Others read the attributes too; the parameters and uevent are root's.
    expect(cat(hostVfs(docHostWithVfioQueues(), 1000), ['/sys/module/vfio_ap/refcnt', '/sys/module/zcrypt/parameters/mempool_threshold'])).toEqual({
      stdout: '0\n',
      stderr: 'cat: /sys/module/zcrypt/parameters/mempool_threshold: Permission denied\n',
      code: 1,
    })
    expect(errno(() => v.read('/sys/module/vfio_ap/uevent'))).toBe('EACCES')
    expect(errno(() => v.write('/sys/module/vfio_ap/refcnt', '0'))).toBe('EACCES')
    expect(v.exists('/sys/module/ap/initstate')).toBe(false)
    expect(v.exists('/sys/module/ap/holders')).toBe(false)
  })

  it('holders/ and drivers/ link to the modules and drivers, and the drivers link back through module', () => {
    const v = hostVfs(docHostWithVfioQueues())
    expect(ls(v, ['/sys/module/vfio_ap/drivers', '/sys/module/zcrypt_cex4/drivers']).stdout).toBe(
      '/sys/module/vfio_ap/drivers:\nap:vfio_ap\nmdev:vfio_ap_mdev\n\n/sys/module/zcrypt_cex4/drivers:\nap:cex4card\nap:cex4queue\n',
    )
    // zcrypt registers no driver: no drivers/ (made with the first one).
    expect(v.exists('/sys/module/zcrypt/drivers')).toBe(false)
    expect(
      readlink(v, [
        '/sys/module/vfio_ap/drivers/ap:vfio_ap',
        '/sys/module/vfio_ap/drivers/mdev:vfio_ap_mdev',
        '/sys/module/zcrypt_cex4/drivers/ap:cex4queue',
        '/sys/module/zcrypt/holders/zcrypt_cex4',
        '/sys/bus/ap/drivers/vfio_ap/module',
        '/sys/bus/mdev/drivers/vfio_ap_mdev/module',
        '/sys/bus/ap/drivers/cex4card/module',
      ]).stdout,
    ).toBe(
      '../../../bus/ap/drivers/vfio_ap\n../../../bus/mdev/drivers/vfio_ap_mdev\n../../../bus/ap/drivers/cex4queue\n../../zcrypt_cex4\n' +
        '../../../../module/vfio_ap\n../../../../module/vfio_ap\n../../../../module/zcrypt_cex4\n',
    )
    expect(ls(v, ['/sys/module/vfio_ap/holders', '/sys/module/zcrypt/holders']).stdout).toBe('/sys/module/vfio_ap/holders:\n\n/sys/module/zcrypt/holders:\nzcrypt_cex4\n')
    expect(v.realpath('/sys/bus/ap/drivers/vfio_ap/module')).toBe('/sys/module/vfio_ap')
    expect(v.realpath('/sys/module/vfio_ap/drivers/mdev:vfio_ap_mdev/module/drivers/ap:vfio_ap')).toBe('/sys/bus/ap/drivers/vfio_ap')
    expect(v.realpath('/sys/module/zcrypt/holders/zcrypt_cex4/drivers/ap:cex4card/module')).toBe('/sys/module/zcrypt_cex4')
    // The matrix bus's driver is registered without an owner: no module link.
    expect(v.exists('/sys/bus/matrix/drivers/vfio_ap/module')).toBe(false)
  })

  it("ap's and zcrypt's parameters: the command line's values where they are taken", () => {
    const lpar = preset('default').build('h').lpar
    const read = (cmdline: string) => hostVfs(makeHost('h', lpar, {cmdline, files: {}})).read('/sys/module/zcrypt/parameters/mempool_threshold')
    expect(read('')).toBe('5\n')
    expect(read('zcrypt.mempool_threshold=12 ap.domain=4')).toBe('12\n')
    expect(read('zcrypt.mempool_threshold=0x10 zcrypt.mempool_threshold=0')).toBe('16\n')
    expect(hostVfs(makeHost('h', lpar, {cmdline: '', files: {}})).stat('/sys/module/zcrypt/parameters/mempool_threshold').mode).toBe(0o440)
    expect(hostVfs(makeHost('h', lpar, {cmdline: '', files: {}})).readdir('/sys/module/ap/parameters').sort()).toEqual([
      'apmask',
      'aqmask',
      'domain',
      'msgpool_min_items',
      'poll_thread',
      'useirq',
    ])
  })

  it('follows the module: in use it stays (modprobe -r refuses), removed it is gone with its line and links', () => {
    const {h, start} = withGuest()
    start()
    expect(hostVfs(h).read('/sys/module/vfio_ap/refcnt')).toBe('1\n')
    expect(modprobe(h, '-r', 'vfio_ap')).toEqual({stdout: '', stderr: 'modprobe: FATAL: Module vfio_ap is in use.\n', code: 1})
    expect(hostVfs(h).read('/sys/module/vfio_ap/refcnt')).toBe('1\n')
    expect(hostVfs(h).read('/proc/modules')).toContain('\nzcrypt_cex4 ')
    stopGuest(h.guests[0])
    expect(hostVfs(h).read('/sys/module/vfio_ap/refcnt')).toBe('0\n')
    expect(modprobe(h, '-r', 'vfio_ap').code).toBe(0)
    const v = hostVfs(h)
    expect(v.exists('/sys/module/vfio_ap')).toBe(false)
    expect(ls(v, ['/sys/module']).stdout).toBe('ap\nzcrypt\nzcrypt_cex4\n')
    expect(v.read('/proc/modules')).toBe(ROOT_LINES.split('\n').slice(1).join('\n'))
    expect(v.exists('/sys/bus/ap/drivers/vfio_ap')).toBe(false)
    expect(modprobe(h, 'vfio_ap').code).toBe(0)
    expect(hostVfs(h).read('/proc/modules')).toBe(ROOT_LINES)
    expect(hostVfs(h).realpath('/sys/bus/ap/drivers/vfio_ap/module')).toBe('/sys/module/vfio_ap')
  })

  it("a guest's: zcrypt and zcrypt_cex4 where it has an AP bus, no module without the ap feature", () => {
    const {w, h} = withGuest()
    const spec = (name: string, ap: boolean): GuestStart => ({
      name,
      managed: 'qemu',
      autostart: false,
      args: [],
      cpuModel: 'host',
      features: {ap, apqci: ap, apft: ap, apqi: ap},
      devices: [],
    })
    const g = startGuest(w, h, spec('g1', true))
    const gv = guestVfs(h, g)
    expect(gv.read('/proc/modules')).toBe(ROOT_LINES.split('\n').slice(1).join('\n'))
    expect(guestVfs(h, g, 1000).read('/proc/modules')).toBe(`zcrypt_cex4 57344 0 - Live ${ZEROS}\nzcrypt 151552 1 zcrypt_cex4, Live ${ZEROS}\n`)
    expect(ls(gv, ['/sys/module']).stdout).toBe('ap\nzcrypt\nzcrypt_cex4\n')
    expect(gv.realpath('/sys/bus/ap/drivers/cex4queue/module')).toBe('/sys/module/zcrypt_cex4')
    const plain = guestVfs(h, startGuest(w, h, spec('g2', false)))
    expect(plain.read('/proc/modules')).toBe('')
    expect(ls(plain, ['/sys/module']).stdout).toBe('ap\n')
  })
})

describe('aplab export', () => {
  it('writes /proc/modules as root reads it and /sys/module with its links, which resolve in the tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'aplab-modules-'))
    tmp.push(root)
    exportHost(docHostWithVfioQueues(), root, false)
    expect(readFileSync(join(root, 'proc/modules'), 'utf8')).toBe(ROOT_LINES)
    const mod = join(root, 'sys/module')
    expect(readdirSync(mod).sort()).toEqual(['ap', 'vfio_ap', 'zcrypt', 'zcrypt_cex4'])
    expect(readdirSync(join(mod, 'vfio_ap')).sort()).toEqual(['coresize', 'drivers', 'holders', 'initsize', 'initstate', 'refcnt', 'taint', 'uevent'])
    expect(readFileSync(join(mod, 'zcrypt/refcnt'), 'utf8')).toBe('1\n')
    expect(readFileSync(join(mod, 'vfio_ap/initstate'), 'utf8')).toBe('live\n')
    expect(statSync(join(mod, 'vfio_ap/uevent')).mode & 0o777).toBe(0o200)
    expect(statSync(join(mod, 'zcrypt/parameters/mempool_threshold')).mode & 0o777).toBe(0o440)
    expect(lstatSync(join(mod, 'zcrypt/holders/zcrypt_cex4')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(mod, 'vfio_ap/drivers/ap:vfio_ap'))).toBe('../../../bus/ap/drivers/vfio_ap')
    expect(realpathSync(join(root, 'sys/bus/ap/drivers/vfio_ap/module'))).toBe(realpathSync(join(mod, 'vfio_ap')))
    expect(realpathSync(join(root, 'sys/bus/mdev/drivers/vfio_ap_mdev/module'))).toBe(realpathSync(join(mod, 'vfio_ap')))
    expect(realpathSync(join(mod, 'zcrypt/holders/zcrypt_cex4'))).toBe(realpathSync(join(mod, 'zcrypt_cex4')))
  })
})
