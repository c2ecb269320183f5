// One permission model for every path ($APLAB_UID): root only where the
// kernel demands it, with the real tools' messages; and a refused operation
// changes nothing but the kernel log, on the sysfs path and through aplab's
// own commands alike.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {pickHost} from '../../src/cli/env.js'
import {monitorAdd, start} from '../../src/cli/guest.js'
import {reboot, setCmdline} from '../../src/cli/host.js'
import {change, create, remove, viaMdevctl} from '../../src/cli/mdev.js'
import {mutateKeepingLog} from '../../src/cli/refuse.js'
import {AplabError, ToolExit} from '../../src/core/errors.js'
import type {Host, World} from '../../src/core/model.js'
import {modprobe} from '../../src/core/modules.js'
import {capable, mayAccess} from '../../src/core/perm.js'
import {preset} from '../../src/core/presets.js'
import {load, replace, serialize} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {echo} from '../../src/sysfs/shell.js'
import {runChzdev} from '../../src/tools/zdev/chzdev.js'
import {Stdio} from '../../src/tools/libc.js'

const U = '11111111-1111-4111-8111-111111111111'
const V = '22222222-2222-4222-8222-222222222222'
const USER = 1000
const CREATE = '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create'
const sysfsdev = (u: string) => `/sys/bus/mdev/devices/${u}`
const CPU = ['-cpu', 'host,ap=on']

/** The kernel documentation's host, vfio_ap loaded, with mdev U (adapter 5, domain 4) and an empty V. */
function world(): World {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  for (const u of [U, V]) v.write(CREATE, u)
  v.write(`/sys/devices/vfio_ap/matrix/${U}/assign_adapter`, '5\n')
  v.write(`/sys/devices/vfio_ap/matrix/${U}/assign_domain`, '4\n')
  return {current: 'h', hosts: [h]}
}

/** The message and class of what fn throws. */
function thrown(fn: () => unknown): {kind: string; text: string; code: number} {
  try {
    fn()
  } catch (e) {
    if (e instanceof AplabError) return {kind: e.constructor.name, text: e.message, code: e.exitCode}
    throw e
  }
  throw new Error('nothing was refused')
}

async function thrownAsync(p: Promise<unknown>): Promise<{kind: string; text: string}> {
  try {
    await p
  } catch (e) {
    if (e instanceof AplabError) return {kind: e.constructor.name, text: e.message}
    throw e
  }
  throw new Error('nothing was refused')
}

const logOf = (h: Host) => h.runtime.dmesg.map((l) => l.msg)

describe('the one check', () => {
  it('root passes every read and write; others get the mode bits for others', () => {
    expect(mayAccess(0, 0o200, 'rw')).toBe(true)
    expect(mayAccess(USER, 0o444, 'r')).toBe(true)
    expect(mayAccess(USER, 0o440, 'r')).toBe(false)
    expect(mayAccess(USER, 0o644, 'w')).toBe(false)
    expect(mayAccess(USER, 0o666, 'rw')).toBe(true)
    expect(mayAccess(USER, 0o604, 'rw')).toBe(false)
    expect(capable(0, 'CAP_SYS_MODULE')).toBe(true)
    expect(capable(USER, 'CAP_SYS_BOOT')).toBe(false)
  })
})

describe('aplab mdev as a user: the sysfs writes they stand for are root', () => {
  it('create, assign, unassign and remove refuse with the file named and change nothing', async () => {
    const w = world()
    const h = w.hosts[0]
    const before = await serialize(w)
    expect(thrown(() => create(h, '33333333-3333-4333-8333-333333333333', USER))).toEqual({
      kind: 'AplabError',
      text: `cannot create mdev 33333333-3333-4333-8333-333333333333: Permission denied (EACCES): only root may write ${CREATE}`,
      code: 1,
    })
    expect(thrown(() => change(h, V, {adapter: ['6']}, false, USER)).text).toBe(
      `cannot assign adapter 6 to mdev ${V}: Permission denied (EACCES): only root may write /sys/devices/vfio_ap/matrix/${V}/assign_adapter`,
    )
    expect(thrown(() => change(h, U, {domain: ['4']}, true, USER)).text).toBe(
      `cannot unassign domain 4 from mdev ${U}: Permission denied (EACCES): only root may write /sys/devices/vfio_ap/matrix/${U}/unassign_domain`,
    )
    expect(thrown(() => remove(h, U, USER)).text).toBe(
      `cannot remove mdev ${U}: Permission denied (EACCES): only root may write /sys/devices/vfio_ap/matrix/${U}/remove`,
    )
    expect(await serialize(w)).toBe(before)
    // The same writes through the sysfs path: the shell's message.
    expect(echo(hostVfs(h, USER), `/sys/devices/vfio_ap/matrix/${V}/assign_adapter`, '6\n')).toEqual({
      stdout: '',
      stderr: `aplab: /sys/devices/vfio_ap/matrix/${V}/assign_adapter: Permission denied\n`,
      code: 1,
    })
    // Root may.
    create(h, '33333333-3333-4333-8333-333333333333')
    change(h, V, {adapter: ['6']}, false)
    remove(h, '33333333-3333-4333-8333-333333333333')
    expect(h.runtime.mdevs.map((m) => m.uuid)).toEqual([U, V])
  })

  it('mdev start as a user is mdevctl failing to write create', async () => {
    const w = world()
    const h = w.hosts[0]
    h.persistent.files[`/etc/mdevctl.d/matrix/${U}`] = '{"mdev_type":"vfio_ap-passthrough","start":"manual","attrs":[]}\n'
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U}/remove`, '1\n')
    expect(await thrownAsync(viaMdevctl(h, 'start', U, USER))).toEqual({
      kind: 'AplabError',
      text: `cannot start mdev ${U}: Failed to create mdev ${U}, type vfio_ap-passthrough on matrix: Permission denied (os error 13)`,
    })
    expect(h.runtime.mdevs.map((m) => m.uuid)).toEqual([V])
  })
})

describe('modprobe without CAP_SYS_MODULE', () => {
  const run = (h: Host, module: string, rm: boolean, uid: number) => {
    try {
      modprobe(h, module, rm, uid)
      return {text: '', code: 0}
    } catch (e) {
      if (e instanceof ToolExit) return {text: e.message, code: e.exitCode}
      throw e
    }
  }

  it("fails at the system call, after every check modprobe makes by reading, with kmod's ERROR lines", () => {
    const h = world().hosts[0]
    expect(run(h, 'vfio_ap', true, USER)).toEqual({text: "modprobe: ERROR: could not remove 'vfio_ap': Operation not permitted\n", code: 1})
    expect(h.runtime.modules).toContain('vfio_ap')
    expect(h.runtime.mdevs).toHaveLength(2)
    // What modprobe finds out by reading comes first, as for root.
    expect(run(h, 'zcrypt', true, USER)).toEqual({text: 'modprobe: FATAL: Module zcrypt is in use.\n', code: 1})
    expect(run(h, 'ap', true, USER)).toEqual({text: 'modprobe: FATAL: Module ap is builtin.\n', code: 1})
    // Loading a module that is loaded already makes no system call.
    expect(run(h, 'vfio_ap', false, USER)).toEqual({text: '', code: 0})
    run(h, 'vfio_ap', true, 0)
    expect(run(h, 'vfio_ap', true, USER)).toEqual({text: 'modprobe: FATAL: Module vfio_ap is not in kernel.\n', code: 1})
    const log = logOf(h)
    expect(run(h, 'vfio_ap', false, USER)).toEqual({text: "modprobe: ERROR: could not insert 'vfio_ap': Operation not permitted\n", code: 1})
    expect(h.runtime.modules).not.toContain('vfio_ap')
    expect(logOf(h)).toEqual(log)
  })
})

describe('chzdev as a user', () => {
  const chzdev = (h: Host, ...argv: string[]) => {
    const io = new Stdio(false)
    const code = runChzdev(argv, hostVfs(h, USER), io, {prog: 'chzdev', nodename: 'h', readFile: () => '', writeFile: () => {}})
    return {stdout: io.stdout, stderr: io.stderr, code}
  }

  it("ignores a mask write the kernel refuses, as zdev's write_sysfs_mask does, and says why a rule cannot be written", async () => {
    const w = world()
    const h = w.hosts[0]
    const before = await serialize(w)
    // ap.c commits the masks with fopen/fputs and checks neither: the open fails, nothing is said.
    expect(chzdev(h, '-t', 'ap', '-a', 'apmask=-7')).toEqual({
      stdout: 'Configuring device type in the active configuration only\nap device type configured\n',
      stderr: '',
      code: 0,
    })
    expect(chzdev(h, '-t', 'ap', '-p', 'apmask=-7')).toEqual({
      stdout: 'Configuring device type in the persistent configuration only\nap device type configured\n',
      stderr: 'chzdev: Could not write to file /etc/udev/rules.d/41-ap.rules: Permission denied\n',
      code: 0,
    })
    expect(await serialize(w)).toBe(before)
  })
})

describe('the host as a user', () => {
  it('reboot needs CAP_SYS_BOOT and the boot configuration is root', async () => {
    const w = world()
    const h = w.hosts[0]
    const before = await serialize(w)
    expect(await thrownAsync(reboot(h, w, USER))).toEqual({
      kind: 'AplabError',
      text: 'cannot reboot host h: Operation not permitted (EPERM): only root may reboot (CAP_SYS_BOOT)',
    })
    expect(thrown(() => setCmdline(h, 'ap.apmask=0x0', USER)).text).toBe(
      'cannot set the kernel command line of host h: Permission denied (EACCES): only root may change the boot configuration',
    )
    expect(await serialize(w)).toBe(before)
  })
})

describe('QEMU run by a user cannot open /dev/vfio/N (root, 0600)', () => {
  const qemu = (w: World, name: string, args: string[], o: {libvirt?: boolean; uid?: number} = {}) => () =>
    start(w, w.hosts[0], name, [...CPU, ...args], {libvirt: o.libvirt ?? false, autostart: false, uid: o.uid ?? USER})
  const dev = (u: string, id = 'v0') => ['-device', `vfio-ap,sysfsdev=${sysfsdev(u)},id=${id}`]

  it("guest start fails at the group open with qemu_open's message", () => {
    const w = world()
    expect(thrown(qemu(w, 'g', dev(U)))).toEqual({
      kind: 'ToolExit',
      text: `qemu-system-s390x: -device vfio-ap,sysfsdev=${sysfsdev(U)},id=v0: vfio ${U}: Could not open '/dev/vfio/0': Permission denied\n`,
      code: 1,
    })
    expect(w.hosts[0].guests).toEqual([])
    // A missing mdev is found out before the open; a second device never gets that far.
    const none = '33333333-3333-4333-8333-333333333333'
    expect(thrown(qemu(w, 'g', dev(none))).text).toBe(
      `qemu-system-s390x: -device vfio-ap,sysfsdev=${sysfsdev(none)},id=v0: vfio ${sysfsdev(none)}: no such host device: No such file or directory\n`,
    )
    expect(thrown(qemu(w, 'g', [...dev(V), ...dev(U, 'v1')])).text).toBe(
      `qemu-system-s390x: -device vfio-ap,sysfsdev=${sysfsdev(V)},id=v0: vfio ${V}: Could not open '/dev/vfio/1': Permission denied\n`,
    )
  })

  it('permission is checked before the group says it is busy; libvirt hands QEMU the group; no device, no open', () => {
    const w = world()
    qemu(w, 'a', dev(U), {uid: 0})()
    expect(thrown(qemu(w, 'b', dev(U))).text).toBe(
      `qemu-system-s390x: -device vfio-ap,sysfsdev=${sysfsdev(U)},id=v0: vfio ${U}: Could not open '/dev/vfio/0': Permission denied\n`,
    )
    qemu(w, 'c', dev(V), {libvirt: true})()
    qemu(w, 'd', [])()
    expect(w.hosts[0].guests.filter((g) => g.running).map((g) => g.name)).toEqual(['a', 'c', 'd'])
  })

  it('device_add in the monitor opens the group too', () => {
    const w = world()
    qemu(w, 'g', [])()
    expect(thrown(() => monitorAdd(w, 'g', `vfio-ap,sysfsdev=${sysfsdev(V)},id=v0`, USER))).toEqual({
      kind: 'ToolExit',
      text: `Error: vfio ${V}: Could not open '/dev/vfio/1': Permission denied\n`,
      code: 1,
    })
    expect(w.hosts[0].guests[0].device).toBeNull()
    monitorAdd(w, 'g', `vfio-ap,sysfsdev=${sysfsdev(V)},id=v0`, 0)
    expect(w.hosts[0].guests[0].device?.uuid).toBe(V)
  })
})

describe('a refused operation changes nothing but the kernel log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-perm-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  const CONFLICT = `vfio_ap_mdev ${V}: Userspace may not assign queue 05.0004 to mdev: already assigned to ${U}`

  it('aplab mdev assign logs what the kernel logs for the refused write, as the sysfs write does, and keeps nothing else', async () => {
    const file = join(dir, 'assign.yaml')
    await replace(file, world(), true)
    const log = logOf(pickHost(await load(file)))
    // Adapter 6 and adapter 5 are taken; domain 4 makes 05.0004, which U holds: all three go back.
    expect(await thrownAsync(mutateKeepingLog(file, (w) => change(pickHost(w), V, {adapter: ['6', '5'], domain: ['4']}, false)))).toEqual({
      kind: 'AplabError',
      text: `cannot assign domain 4 to mdev ${V}: Address already in use (EADDRINUSE): an APQN it would add is assigned to another mdev (aplab dmesg names it)`,
    })
    const after = pickHost(await load(file))
    expect(logOf(after)).toEqual([...log, CONFLICT])
    const v = after.runtime.mdevs.find((m) => m.uuid === V)!
    expect([v.apm.bits(), v.aqm.bits(), v.shadow.apm.bits(), v.shadow.aqm.bits()]).toEqual([[], [], [], []])

    // The same refusal written to sysfs logs the same line.
    const w = world()
    const h = w.hosts[0]
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${V}/assign_adapter`, '5\n')
    const r = echo(hostVfs(h), `/sys/devices/vfio_ap/matrix/${V}/assign_domain`, '4\n')
    expect(r).toEqual({stdout: '', stderr: 'aplab: echo: write error: Address already in use\n', code: 1})
    expect(logOf(h).at(-1)).toBe(CONFLICT)
  })

  it('a refusal that logs nothing leaves the state file as it was', async () => {
    const file = join(dir, 'quiet.yaml')
    await replace(file, world(), true)
    const {readFileSync} = await import('node:fs')
    const text = readFileSync(file, 'utf8')
    expect((await thrownAsync(mutateKeepingLog(file, (w) => change(pickHost(w), V, {adapter: ['6']}, false, USER)))).kind).toBe('AplabError')
    expect(readFileSync(file, 'utf8')).toBe(text)
  })
})
