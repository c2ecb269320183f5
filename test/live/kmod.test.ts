// The modprobe and lsmod drop-ins: kmod's options, messages, log levels and
// exit statuses on the emulated host.

import {afterAll, describe, expect, it} from 'vitest'

import type {Host} from '../../src/core/model.js'
import {loadedModules} from '../../src/core/modules.js'
import {type KmodResult, KMOD_VERSION, lsmodText, modprobeHelp, parseLsmod, parseModprobe, runModprobe} from '../../src/tools/kmod.js'
import {newWorld} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {cleanSandboxes, sandbox} from './helpers.js'

afterAll(cleanSandboxes)

const REL = '6.15.0-aplab.s390x'

function modprobe(host: Host, argv: string[], uid = 0): KmodResult {
  const a = parseModprobe(argv)
  return 'code' in a ? a : runModprobe(host, a, uid)
}

const fresh = (): Host => newWorld('vfio-ap-doc').hosts[0]
/** A host without vfio_ap loaded. */
function unloaded(): Host {
  const h = fresh()
  modprobe(h, ['-r', 'vfio_ap'])
  expect(h.runtime.modules).not.toContain('vfio_ap')
  return h
}
const ok = (stdout = ''): KmodResult => ({stdout, stderr: '', code: 0})
const err = (stderr: string): KmodResult => ({stdout: '', stderr, code: 1})

describe('modprobe', () => {
  it('loads vfio_ap (the matrix device appears) and unloads it, silently; either again is no error', () => {
    const h = unloaded()
    expect(hostVfs(h).exists('/sys/devices/vfio_ap/matrix')).toBe(false)
    expect(modprobe(h, ['vfio_ap'])).toEqual(ok())
    expect(hostVfs(h).exists('/sys/devices/vfio_ap/matrix')).toBe(true)
    expect(modprobe(h, ['vfio-ap'])).toEqual(ok())
    expect(modprobe(h, ['-r', 'vfio_ap'])).toEqual(ok())
    expect(modprobe(h, ['-r', 'vfio_ap'])).toEqual(ok())
  })

  it("says kmod's FATAL, ERROR and WARNING lines, and -q silences them but not the status", () => {
    const h = fresh()
    expect(modprobe(h, ['foo'])).toEqual(err(`modprobe: FATAL: Module foo not found in directory /lib/modules/${REL}\n`))
    expect(modprobe(h, ['-q', 'foo'])).toEqual(err(''))
    expect(modprobe(h, ['-r', 'foo'])).toEqual(err('modprobe: FATAL: Module foo not found.\n'))
    expect(modprobe(h, ['-r', 'ap'])).toEqual(err('modprobe: FATAL: Module ap is builtin.\n'))
    expect(modprobe(h, ['-r', 'zcrypt'])).toEqual(err('modprobe: FATAL: Module zcrypt is in use.\n'))
    expect(modprobe(h, ['--first-time', 'vfio_ap'])).toEqual(err("modprobe: ERROR: could not insert 'vfio_ap': Module already in kernel\n"))
    expect(modprobe(unloaded(), ['--first-time', '-r', 'vfio_ap'])).toEqual(err('modprobe: FATAL: Module vfio_ap is not in kernel.\n'))
    expect(modprobe(h, [])).toEqual(err('modprobe: ERROR: missing parameters. See -h.\n'))
  })

  it('-a loads every name and turns a missing one into a warning; -r removes every name, stopping at FATAL', () => {
    const h = unloaded()
    expect(modprobe(h, ['-a', 'foo', 'vfio_ap'])).toEqual(err(`modprobe: WARNING: Module foo not found in directory /lib/modules/${REL}\n`))
    expect(h.runtime.modules).toContain('vfio_ap')
    expect(modprobe(h, ['-r', 'foo', 'vfio_ap'])).toEqual(err('modprobe: FATAL: Module foo not found.\n'))
    expect(h.runtime.modules).toContain('vfio_ap')
    // Without -a the words after the module are its parameters.
    expect(modprobe(unloaded(), ['vfio_ap', 'foo=1'])).toEqual(ok())
  })

  it('-n prints the insmod it would do and changes nothing; -v prints it while loading', () => {
    const h = unloaded()
    const insmod = `insmod /lib/modules/${REL}/kernel/drivers/s390/crypto/vfio_ap.ko.xz \n`
    expect(modprobe(h, ['-n', 'vfio_ap'])).toEqual(ok(insmod))
    expect(h.runtime.modules).not.toContain('vfio_ap')
    expect(modprobe(h, ['-v', 'vfio_ap'])).toEqual(ok(insmod))
    expect(modprobe(h, ['-n', 'vfio_ap'])).toEqual(ok())
  })

  it('needs root to load or unload, with the system call failing as kmod reports it', () => {
    expect(modprobe(unloaded(), ['vfio_ap'], 1000)).toEqual(err("modprobe: ERROR: could not insert 'vfio_ap': Operation not permitted\n"))
    expect(modprobe(fresh(), ['-r', 'vfio_ap'], 1000)).toEqual(err("modprobe: ERROR: could not remove 'vfio_ap': Operation not permitted\n"))
  })

  it("parses options as glibc's getopt_long and prints kmod's help and version", () => {
    const h = fresh()
    expect(modprobe(h, ['-x'])).toEqual(err("modprobe: invalid option -- 'x'\n"))
    expect(modprobe(h, ['--frobnicate'])).toEqual(err("modprobe: unrecognized option '--frobnicate'\n"))
    expect(modprobe(h, ['--remove=1'])).toEqual(err("modprobe: option '--remove' doesn't allow an argument\n"))
    expect(modprobe(h, ['--wait'])).toEqual(err("modprobe: option '--wait' requires an argument\n"))
    expect(modprobe(h, ['-w'])).toEqual(err("modprobe: option requires an argument -- 'w'\n"))
    expect(modprobe(h, ['-w', '1x', '-r', 'vfio_ap'])).toEqual(err("modprobe: ERROR: unexpected wait value '1x'.\n"))
    expect(modprobe(h, ['-V'])).toEqual(ok(KMOD_VERSION))
    const help = modprobe(h, ['--help'])
    expect(help).toEqual(ok(modprobeHelp('modprobe')))
    expect(help.stdout.split('\n').slice(0, 3)).toEqual(['Usage:', '\tmodprobe [options] [-i] [-b] modulename', '\tmodprobe [options] -a [-i] [-b] modulename [modulename...]'])
    expect(modprobe(unloaded(), ['--show', 'vfio_ap'])).toEqual({
      stdout: `insmod /lib/modules/${REL}/kernel/drivers/s390/crypto/vfio_ap.ko.xz \n`,
      stderr: 'modprobe: WARNING: --show is deprecated and scheduled for removal; use --dry-run\n',
      code: 0,
    })
  })
})

describe('lsmod', () => {
  it("prints kmod's table, the newest module first, vfio_ap used by the guests that have an mdev open", () => {
    const h = fresh()
    expect(lsmodText(loadedModules(h))).toBe(
      'Module                  Size  Used by\nvfio_ap                65536  0\nzcrypt_cex4            57344  0\nzcrypt                151552  1 zcrypt_cex4\n',
    )
    expect(lsmodText(loadedModules(unloaded())).split('\n')[1]).toBe('zcrypt_cex4            57344  0')
    expect(lsmodText([{name: 'a_module_with_a_long_name', size: 1, refcnt: 2, holders: ['x', 'y']}])).toBe(
      'Module                  Size  Used by\na_module_with_a_long_name        1  2 x,y\n',
    )
  })

  it('refuses operands and unknown options; prints its help and version', () => {
    expect(parseLsmod(['x'])).toEqual(err('lsmod: ERROR: too many arguments provided.\n'))
    expect(parseLsmod(['-x'])).toEqual(err("lsmod: invalid option -- 'x'\n"))
    expect(parseLsmod(['-V'])).toEqual(ok(KMOD_VERSION))
    expect(parseLsmod(['-h'])?.stdout).toBe(
      'Usage:\n\tlsmod [options]\nOptions:\n\t-s, --syslog      print to syslog, not stderr\n\t-v, --verbose     enables more messages\n\t-V, --version     show version\n\t-h, --help        show this help\n',
    )
    expect(parseLsmod([])).toBeNull()
  })
})

describe('the drop-in binaries', () => {
  it('modprobe and lsmod act on $APLAB_STATE as $APLAB_UID', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    expect(await s.run('modprobe', ['-r', 'vfio_ap'])).toEqual({stdout: '', stderr: '', exitCode: 0})
    expect((await s.run('lsmod', [])).stdout).toBe('Module                  Size  Used by\nzcrypt_cex4            57344  0\nzcrypt                151552  1 zcrypt_cex4\n')
    expect(await s.run('modprobe', ['vfio_ap'], {APLAB_UID: '1000'})).toEqual({
      stdout: '',
      stderr: "modprobe: ERROR: could not insert 'vfio_ap': Operation not permitted\n",
      exitCode: 1,
    })
    const before = s.bytes()
    expect(await s.run('modprobe', ['nosuch'])).toEqual({stdout: '', stderr: `modprobe: FATAL: Module nosuch not found in directory /lib/modules/${REL}\n`, exitCode: 1})
    expect(s.bytes().equals(before)).toBe(true)
    expect((await s.run('modprobe', ['vfio_ap'])).exitCode).toBe(0)
    expect((await s.run('aplab', ['sysfs', 'ls', '/sys/devices/vfio_ap'])).stdout).toBe('matrix\npower\nuevent\n')
  })

  it('aplab sysfs sees the modules lsmod lists, in /proc/modules and /sys/module, and their going', async () => {
    const s = sandbox()
    await s.run('aplab', ['init', '--preset', 'vfio-ap-doc'])
    const zeros = 'vfio_ap 65536 0 - Live 0x0000000000000000\nzcrypt_cex4 57344 0 - Live 0x0000000000000000\nzcrypt 151552 1 zcrypt_cex4, Live 0x0000000000000000\n'
    expect(await s.run('aplab', ['sysfs', 'cat', '/proc/modules', '/sys/module/vfio_ap/refcnt'], {APLAB_UID: '1000'})).toEqual({stdout: `${zeros}0\n`, stderr: '', exitCode: 0})
    expect(await s.run('aplab', ['sysfs', 'readlink', '/sys/module/vfio_ap/drivers/ap:vfio_ap', '/sys/bus/ap/drivers/vfio_ap/module'])).toEqual({
      stdout: '../../../bus/ap/drivers/vfio_ap\n../../../../module/vfio_ap\n',
      stderr: '',
      exitCode: 0,
    })
    expect((await s.run('lsmod', [])).stdout.split('\n')[1]).toBe('vfio_ap                65536  0')
    await s.run('modprobe', ['-r', 'vfio_ap'])
    expect(await s.run('aplab', ['sysfs', 'ls', '/sys/module'])).toEqual({stdout: 'ap\nzcrypt\nzcrypt_cex4\n', stderr: '', exitCode: 0})
    expect(await s.run('aplab', ['sysfs', 'cat', '/sys/module/vfio_ap/refcnt'])).toEqual({
      stdout: '',
      stderr: 'cat: /sys/module/vfio_ap/refcnt: No such file or directory\n',
      exitCode: 1,
    })
  })
})
