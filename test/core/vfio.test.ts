import {describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import type {Host} from '../../src/core/model.js'
import {modprobe} from '../../src/core/modules.js'
import {preset} from '../../src/core/presets.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {lszcrypt} from '../helpers.js'
import {errno} from '../helpers.js'

setClock(() => 1_000_000)

const U1 = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'
const U3 = '33333333-3333-4333-8333-333333333333'
const TYPE = '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough'
const dev = (u: string, attr: string) => `/sys/devices/vfio_ap/matrix/${u}/${attr}`

/** The default host with vfio_ap loaded and every queue freed for it. */
function freed(): {h: Host; v: ReturnType<typeof hostVfs>} {
  const h = preset('default').build('h')
  modprobe(h, 'vfio_ap', false)
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '0x0\n')
  return {h, v}
}

function mdev(v: ReturnType<typeof hostVfs>, uuid: string, adapters: number[], domains: number[]): void {
  v.write(`${TYPE}/create`, uuid)
  for (const a of adapters) v.write(dev(uuid, 'assign_adapter'), `${a}\n`)
  for (const d of domains) v.write(dev(uuid, 'assign_domain'), `${d}\n`)
}

const world = (h: Host) => ({current: h.name, hosts: [h]})

describe("the kernel documentation's sharing examples (seeds)", () => {
  it('Example 1: same adapters, different domains is valid', () => {
    const {v} = freed()
    mdev(v, U1, [1, 2], [5, 6])
    mdev(v, U2, [1, 2], [7])
    expect(v.read(dev(U2, 'matrix'))).toBe('01.0007\n02.0007\n')
  })
  it('Example 2: different adapters, same domains is valid', () => {
    const {v} = freed()
    mdev(v, U1, [1, 2], [5, 6])
    mdev(v, U2, [3, 4], [5, 6])
    expect(v.read(dev(U2, 'matrix'))).toBe('03.0005\n03.0006\n04.0005\n04.0006\n')
  })
  it('Example 3: a shared APQN is refused with EADDRINUSE and logged on the assignee', () => {
    const {h, v} = freed()
    mdev(v, U1, [1, 2], [5, 6])
    mdev(v, U2, [1], [7])
    expect(errno(() => v.write(dev(U2, 'assign_domain'), '6\n'))).toBe('EADDRINUSE')
    expect(v.read(dev(U2, 'matrix'))).toBe('01.0007\n')
    // dev_warn: a kernel warning.
    expect(h.runtime.dmesg.at(-1)).toMatchObject({
      level: 4,
      facility: 0,
      msg: `vfio_ap_mdev ${U2}: Userspace may not assign queue 01.0006 to mdev: already assigned to ${U1}`,
    })
  })
})

describe("the kernel documentation's three guests (seeds)", () => {
  it('secures the eight queues and gives each mdev its matrix and guest_matrix', () => {
    const h = preset('vfio-ap-doc').build('h')
    const v = hostVfs(h)
    v.write('/sys/bus/ap/apmask', '-5,-6\n')
    v.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
    for (const u of [U1, U2, U3]) v.write(`${TYPE}/create`, u + '\n')
    for (const [f, x] of [['assign_adapter', '5'], ['assign_adapter', '6'], ['assign_domain', '4'], ['assign_domain', '0xab']])
      v.write(dev(U1, f), x + '\n')
    for (const [f, x] of [['assign_adapter', '5'], ['assign_domain', '0x47'], ['assign_domain', '0xff']]) v.write(dev(U2, f), x + '\n')
    for (const [f, x] of [['assign_adapter', '6'], ['assign_domain', '0x47'], ['assign_domain', '0xff']]) v.write(dev(U3, f), x + '\n')
    expect(v.read(dev(U1, 'matrix'))).toBe('05.0004\n05.00ab\n06.0004\n06.00ab\n')
    expect(v.read(dev(U1, 'guest_matrix'))).toBe('05.0004\n05.00ab\n06.0004\n06.00ab\n')
    expect(v.read(dev(U2, 'guest_matrix'))).toBe('05.0047\n05.00ff\n')
    expect(v.read(dev(U3, 'guest_matrix'))).toBe('06.0047\n06.00ff\n')
    expect(v.read(`${TYPE}/available_instances`)).toBe('65533\n')
    expect(v.readdir(`${TYPE}/devices`).sort()).toEqual([U1, U2, U3])
    expect(v.readlink(`/sys/bus/mdev/devices/${U1}`)).toBe(`../../../devices/vfio_ap/matrix/${U1}`)
    expect(v.realpath(`/sys/class/mdev_bus/matrix/${U2}/mdev_type`)).toBe(TYPE)
    const l = lszcrypt(world(h), '-V')
    expect(l.stdout).toContain('05.0047  CEX5C CCA-Coproc  assigned          -        -     11     08 S--D--N-F- vfio_ap    \n')
    expect(v.read('/sys/devices/ap/card06/06.0004/status')).toBe('assigned\n')
  })
})

describe("the IBM guide's scenario (seeds)", () => {
  it('matrix shows adapters alone, then APQNs; control_domains', () => {
    const h = preset('ibm-doc').build('h')
    const v = hostVfs(h)
    const u = '4b0518fd-9237-493f-93c8-c5597f8006a3'
    v.write(`${TYPE}/create`, u + '\n')
    v.write(dev(u, 'assign_adapter'), '0x00\n')
    v.write(dev(u, 'assign_adapter'), '0x0a\n')
    expect(v.read(dev(u, 'matrix'))).toBe('00.\n0a.\n')
    v.write(dev(u, 'assign_domain'), '0x001b\n')
    expect(v.read(dev(u, 'matrix'))).toBe('00.001b\n0a.001b\n')
    expect(v.read(dev(u, 'control_domains'))).toBe('')
    v.write(dev(u, 'assign_control_domain'), '0x001b\n')
    expect(v.read(dev(u, 'control_domains'))).toBe('001b\n')
    // Adapters 0x00 and 0x0a, domain 0x1b, control domain 0x1b.
    const dom = '0x00000010' + '0'.repeat(56)
    expect(v.read(dev(u, 'ap_config'))).toBe(`0x8020${'0'.repeat(60)},${dom},${dom}\n`)
  })
})

describe('assign and unassign: numbers, limits, no-ops', () => {
  it('takes the kernel number syntax and refuses the rest', () => {
    const {v} = freed()
    v.write(`${TYPE}/create`, U1)
    v.write(dev(U1, 'assign_domain'), '05\n')
    v.write(dev(U1, 'assign_domain'), '0x6\n')
    v.write(dev(U1, 'assign_domain'), '+7')
    expect(v.read(dev(U1, 'matrix'))).toBe('.0005\n.0006\n.0007\n')
    for (const bad of ['08', '0x', 'five', '-1', ' 5', '5 ']) expect(errno(() => v.write(dev(U1, 'assign_adapter'), bad)), bad).toBe('EINVAL')
    expect(errno(() => v.write(dev(U1, 'assign_adapter'), '99999999999999999999'))).toBe('ERANGE')
    expect(errno(() => v.write(dev(U1, 'assign_adapter'), '256'))).toBe('ENODEV')
    expect(errno(() => v.write(dev(U1, 'assign_domain'), '85'))).toBe('ENODEV')
    expect(errno(() => v.write(dev(U1, 'unassign_control_domain'), '85'))).toBe('ENODEV')
    expect(errno(() => v.write(dev(U1, 'unassign_adapter'), '9'))).toBe('ok')
    expect(errno(() => v.write(dev(U1, 'assign_domain'), '5'))).toBe('ok')
  })
  it('checks reservation on the cross product only', () => {
    const h = preset('default').build('h')
    modprobe(h, 'vfio_ap', false)
    const v = hostVfs(h)
    v.write(`${TYPE}/create`, U1)
    // Adapter 0 is entirely the host's, but with no domain assigned nothing is checked.
    v.write(dev(U1, 'assign_adapter'), '0')
    expect(errno(() => v.write(dev(U1, 'assign_domain'), '4'))).toBe('EADDRNOTAVAIL')
    expect(v.read(dev(U1, 'matrix'))).toBe('00.\n')
    v.write('/sys/bus/ap/aqmask', '-4')
    v.write(dev(U1, 'assign_domain'), '4')
    expect(v.read(dev(U1, 'matrix'))).toBe('00.0004\n')
  })
  it('control domains have no reservation or sharing checks', () => {
    const {v} = freed()
    v.write(`${TYPE}/create`, U1)
    v.write(`${TYPE}/create`, U2)
    v.write(dev(U1, 'assign_control_domain'), '4')
    v.write(dev(U2, 'assign_control_domain'), '4')
    v.write(dev(U2, 'assign_control_domain'), '0x54')
    expect(v.read(dev(U2, 'control_domains'))).toBe('0004\n0054\n')
  })
})

describe('create and remove', () => {
  it('create takes exactly a UUID', () => {
    const {v} = freed()
    for (const bad of ['x', U1 + 'a', U1.replace(/-/g, ''), U1 + ' ', U1.replace('1', 'g')])
      expect(errno(() => v.write(`${TYPE}/create`, bad)), bad).toBe('EINVAL')
    v.write(`${TYPE}/create`, U1.toUpperCase() + '\n')
    expect(v.isDir(dev(U1, ''))).toBe(true)
    expect(errno(() => v.write(`${TYPE}/create`, U1))).toBe('EEXIST')
  })
  it('remove takes a number; 0 does nothing', () => {
    const {v} = freed()
    v.write(`${TYPE}/create`, U1)
    expect(errno(() => v.write(dev(U1, 'remove'), 'yes'))).toBe('EINVAL')
    // remove_store turns every kstrtoul failure into EINVAL, an overflow too.
    expect(errno(() => v.write(dev(U1, 'remove'), '99999999999999999999999'))).toBe('EINVAL')
    v.write(dev(U1, 'remove'), '0')
    expect(v.isDir(dev(U1, ''))).toBe(true)
    v.write(dev(U1, 'remove'), '1\n')
    expect(v.exists(`/sys/bus/mdev/devices/${U1}`)).toBe(false)
    expect(v.read(`${TYPE}/available_instances`)).toBe('65536\n')
  })
  it('without vfio_ap there is no matrix device', () => {
    const v = hostVfs(preset('default').build('h'))
    expect(v.exists('/sys/devices/vfio_ap')).toBe(false)
    expect(v.exists('/sys/class/mdev_bus')).toBe(false)
  })
})

describe('ap_config', () => {
  it('needs three fields and is all-or-nothing', () => {
    const {v} = freed()
    v.write(`${TYPE}/create`, U1)
    expect(errno(() => v.write(dev(U1, 'ap_config'), '0x80\n'))).toBe('EINVAL')
    v.write(dev(U1, 'ap_config'), '0x80,\n')
    expect(v.read(dev(U1, 'matrix'))).toBe('00.\n')
    v.write('/sys/bus/ap/apmask', '+1')
    const before = v.read(dev(U1, 'ap_config'))
    expect(errno(() => v.write(dev(U1, 'ap_config'), '0x40,0x08,0x08\n'))).toBe('EADDRNOTAVAIL')
    expect(v.read(dev(U1, 'ap_config'))).toBe(before)
    expect(errno(() => v.write(dev(U1, 'ap_config'), '0x80,0x' + '0'.repeat(63) + '1,\n'))).toBe('ENODEV')
    v.write(dev(U1, 'ap_config'), '0x80,0x08,0x0c\n')
    expect(v.read(dev(U1, 'matrix'))).toBe('00.0004\n')
    expect(v.read(dev(U1, 'control_domains'))).toBe('0004\n0005\n')
  })
})

describe('the shadow APCB (guest_matrix)', () => {
  it('an unbound queue drops its whole adapter, not the domain', () => {
    const {v} = freed()
    mdev(v, U1, [1, 2], [5, 6])
    v.write('/sys/bus/ap/drivers/vfio_ap/unbind', '01.0005')
    expect(v.read(dev(U1, 'guest_matrix'))).toBe('02.0005\n02.0006\n')
    v.write('/sys/bus/ap/drivers/vfio_ap/bind', '01.0005')
    expect(v.read(dev(U1, 'guest_matrix'))).toBe('01.0005\n01.0006\n02.0005\n02.0006\n')
  })
  it('over-provisioned adapters and domains wait invisibly', () => {
    const {v} = freed()
    mdev(v, U1, [1, 0x20], [5, 0x30])
    expect(v.read(dev(U1, 'matrix'))).toBe('01.0005\n01.0030\n20.0005\n20.0030\n')
    expect(v.read(dev(U1, 'guest_matrix'))).toBe('01.0005\n')
  })
  it('a mask change that takes a queue from the host gives it back to the guest', () => {
    const h = preset('vfio-ap-doc').build('h')
    const v = hostVfs(h)
    v.write('/sys/bus/ap/aqmask', '-4')
    v.write(`${TYPE}/create`, U1)
    v.write(dev(U1, 'assign_domain'), '4')
    // Adapters 5 and 6 are still in apmask, but domain 4 is free: APQNs 05.0004 and 06.0004 are vfio_ap's.
    v.write(dev(U1, 'assign_adapter'), '5')
    expect(v.read(dev(U1, 'guest_matrix'))).toBe('05.0004\n')
  })
})

describe('mask writes that would take an assigned queue', () => {
  it('fail with EBUSY and log each APQN of the first mdev (6.15 text)', () => {
    const h = preset('vfio-ap-doc').build('h')
    const v = hostVfs(h)
    v.write('/sys/bus/ap/apmask', '-5,-6')
    v.write(`${TYPE}/create`, U1)
    v.write(dev(U1, 'assign_adapter'), '5')
    v.write(dev(U1, 'assign_domain'), '4')
    v.write(dev(U1, 'assign_domain'), '0x47')
    const before = v.read('/sys/bus/ap/apmask')
    expect(errno(() => v.write('/sys/bus/ap/apmask', '+5'))).toBe('EBUSY')
    expect(v.read('/sys/bus/ap/apmask')).toBe(before)
    expect(h.runtime.dmesg.slice(-2).map((l) => [l.level, l.msg])).toEqual([
      [4, `vfio_ap_mdev ${U1}: Can not reserve queue 05.0004 for host driver: in use by mdev`],
      [4, `vfio_ap_mdev ${U1}: Can not reserve queue 05.0047 for host driver: in use by mdev`],
    ])
    // Adapter 6 is not assigned: taking it back is fine.
    v.write('/sys/bus/ap/apmask', '+6')
  })

  it('the kernel walks its mdev list newest first: the newest conflicting mdev is the one named', () => {
    const h = preset('vfio-ap-doc').build('h')
    const v = hostVfs(h)
    v.write('/sys/bus/ap/apmask', '-5,-6')
    mdev(v, U1, [5], [4])
    mdev(v, U2, [5], [0xab])
    v.write(`${TYPE}/create`, U3)
    v.write(dev(U3, 'assign_domain'), '4')
    v.write(dev(U3, 'assign_domain'), '0xab')
    expect(errno(() => v.write(dev(U3, 'assign_adapter'), '5'))).toBe('EADDRINUSE')
    expect(h.runtime.dmesg.at(-1)?.msg).toBe(`vfio_ap_mdev ${U3}: Userspace may not assign queue 05.00ab to mdev: already assigned to ${U2}`)
    expect(errno(() => v.write('/sys/bus/ap/apmask', '+5'))).toBe('EBUSY')
    expect(h.runtime.dmesg.at(-1)?.msg).toBe(`vfio_ap_mdev ${U2}: Can not reserve queue 05.00ab for host driver: in use by mdev`)
  })

  it('a relative term wraps past 2^64 as simple_strtoul does', () => {
    const v = hostVfs(preset('default').build('h'))
    v.write('/sys/bus/ap/apmask', '-18446744073709551621')
    expect(v.read('/sys/bus/ap/apmask')).toBe('0xfbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n')
  })
})

describe('modprobe', () => {
  it('loads and unloads vfio_ap with its messages', () => {
    const h = preset('default').build('h')
    modprobe(h, 'vfio_ap', false)
    expect(h.runtime.dmesg.at(-1)?.msg).toBe('vfio_ap matrix: MDEV: Registered')
    const v = hostVfs(h)
    v.write(`${TYPE}/create`, U1)
    modprobe(h, 'vfio-ap', true)
    expect(h.runtime.mdevs).toEqual([])
    expect(() => modprobe(h, 'vfio_ap', true)).toThrow('modprobe: FATAL: Module vfio_ap is not in kernel.\n')
    expect(() => modprobe(h, 'nope', false)).toThrow(/^modprobe: FATAL: Module nope not found in directory \/lib\/modules\//)
    expect(() => modprobe(h, 'ap', true)).toThrow('modprobe: FATAL: Module ap is builtin.\n')
  })

  it('loads without QCI too: the matrix limits are then 63 and 15', () => {
    const h = preset('default').build('h')
    h.lpar.qci = false
    modprobe(h, 'vfio_ap', false)
    expect(h.runtime.dmesg.at(-1)?.msg).toBe('vfio_ap matrix: MDEV: Registered')
    const v = hostVfs(h)
    v.write(`${TYPE}/create`, U1)
    expect(errno(() => v.write(dev(U1, 'assign_adapter'), '64'))).toBe('ENODEV')
    expect(errno(() => v.write(dev(U1, 'assign_domain'), '16'))).toBe('ENODEV')
  })
})
