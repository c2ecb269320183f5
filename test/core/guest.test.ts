// Guests: what they see of the host's queues (kernel-qemu.md §2.5, §3, §4.3),
// hot plug, LPAR configuration changes and migration, in-process.

import {describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {type GuestStart, GuestRefusal, deviceAdd, deviceDel, findGuest, guestLpar, migrateGuest, resetGuest, settleGuests, startGuest, stopGuest} from '../../src/core/guest.js'
import {addAdapter, addDomain, removeAdapter, removeDomain} from '../../src/core/hw.js'
import type {ApFeature, Guest, Host, World} from '../../src/core/model.js'
import {modprobe} from '../../src/core/modules.js'
import {preset} from '../../src/core/presets.js'
import {guestVfs} from '../../src/sysfs/guest.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {Stdio} from '../../src/tools/libc.js'
import {runChzcrypt} from '../../src/tools/chzcrypt.js'
import {runLszcrypt} from '../../src/tools/lszcrypt.js'
import {worldToData} from '../../src/state/schema.js'
import {errno} from '../helpers.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const U1 = '11111111-1111-4111-8111-111111111111'
const U2 = '22222222-2222-4222-8222-222222222222'
const U3 = '33333333-3333-4333-8333-333333333333'
const TYPE = '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough'
const ALL: Record<ApFeature, boolean> = {ap: true, apqci: true, apft: true, apqi: true}

function mdev(h: Host, uuid: string, adapters: number[], domains: number[], cdoms: number[] = []): void {
  const v = hostVfs(h)
  v.write(`${TYPE}/create`, uuid)
  for (const a of adapters) v.write(`/sys/devices/vfio_ap/matrix/${uuid}/assign_adapter`, `${a}\n`)
  for (const d of domains) v.write(`/sys/devices/vfio_ap/matrix/${uuid}/assign_domain`, `${d}\n`)
  for (const c of cdoms) v.write(`/sys/devices/vfio_ap/matrix/${uuid}/assign_control_domain`, `${c}\n`)
}

/** The kernel documentation's three guests, set up on the host. */
function threeGuests(): {w: World; h: Host} {
  const h = preset('vfio-ap-doc').build('h')
  const v = hostVfs(h)
  v.write('/sys/bus/ap/apmask', '-5,-6\n')
  v.write('/sys/bus/ap/aqmask', '-4,-0x47,-0xab,-0xff\n')
  mdev(h, U1, [5, 6], [4, 0xab])
  mdev(h, U2, [5], [0x47, 0xff])
  mdev(h, U3, [6], [0x47, 0xff])
  return {w: {current: 'h', hosts: [h]}, h}
}

const spec = (name: string, uuid: string | null, features = ALL, cpuModel = 'host'): GuestStart => ({
  name,
  managed: 'qemu',
  autostart: false,
  args: [],
  cpuModel,
  features,
  devices: uuid ? [{id: 'vfio0', sysfsdev: `/sys/bus/mdev/devices/${uuid}`, uuid}] : [],
})

function inGuest(h: Host, g: Guest, tool: 'lszcrypt' | 'chzcrypt', ...argv: string[]) {
  const io = new Stdio(false)
  const code = (tool === 'lszcrypt' ? runLszcrypt : runChzcrypt)(argv, guestVfs(h, g), io)
  return {stdout: io.stdout, stderr: io.stderr, code}
}

const HEAD = 'CARD.DOM TYPE  MODE        STATUS     REQUESTS\n----------------------------------------------\n'
const row = (id: string, type: string, mode: string) => `${id.padEnd(9)}${type} ${mode.padEnd(12)}online            0\n`

describe("the kernel documentation's three guests (seeds)", () => {
  it('each guest lists exactly its APQNs with the real card type and mode', () => {
    const {w, h} = threeGuests()
    const g1 = startGuest(w, h, spec('guest1', U1))
    const g2 = startGuest(w, h, spec('guest2', U2))
    const g3 = startGuest(w, h, spec('guest3', U3))
    expect(inGuest(h, g1, 'lszcrypt').stdout).toBe(
      HEAD +
        row('05', 'CEX5C', 'CCA-Coproc') +
        row('05.0004', 'CEX5C', 'CCA-Coproc') +
        row('05.00ab', 'CEX5C', 'CCA-Coproc') +
        row('06', 'CEX5A', 'Accelerator') +
        row('06.0004', 'CEX5A', 'Accelerator') +
        row('06.00ab', 'CEX5A', 'Accelerator'),
    )
    expect(inGuest(h, g2, 'lszcrypt').stdout).toBe(HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0047', 'CEX5C', 'CCA-Coproc') + row('05.00ff', 'CEX5C', 'CCA-Coproc'))
    expect(inGuest(h, g3, 'lszcrypt').stdout).toBe(HEAD + row('06', 'CEX5A', 'Accelerator') + row('06.0047', 'CEX5A', 'Accelerator') + row('06.00ff', 'CEX5A', 'Accelerator'))
  })

  it('opening the mdev makes its queues `in use`; stopping the guest makes them `assigned`', () => {
    const {w, h} = threeGuests()
    const v = hostVfs(h)
    expect(v.read('/sys/bus/ap/devices/05.0004/status')).toBe('assigned\n')
    const g1 = startGuest(w, h, spec('guest1', U1))
    expect(v.read('/sys/bus/ap/devices/05.0004/status')).toBe('in use\n')
    expect(v.read('/sys/bus/ap/devices/05.0047/status')).toBe('assigned\n')
    stopGuest(g1)
    expect(v.read('/sys/bus/ap/devices/05.0004/status')).toBe('assigned\n')
  })

  it("the guest's own AP bus: masks all ones, QCI masks are its APCB, chzcrypt works on it", () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    const gv = guestVfs(h, g)
    expect(gv.read('/sys/bus/ap/apmask')).toBe('0x' + 'f'.repeat(64) + '\n')
    expect(gv.read('/sys/bus/ap/ap_adapter_mask')).toBe('0x06' + '0'.repeat(62) + '\n')
    expect(gv.read('/sys/bus/ap/ap_domain')).toBe('4\n')
    expect(inGuest(h, g, 'chzcrypt', '-d', '06').code).toBe(0)
    expect(inGuest(h, g, 'lszcrypt', '06').stdout).toContain('06       CEX5A Accelerator offline')
    // The host is not affected.
    expect(hostVfs(h).read('/sys/devices/ap/card06/online')).toBe('1\n')
  })
})

describe('CPU features shape what the guest sees', () => {
  it('ap=off: no AP bus at all, and the guest kernel says so', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('g', null, {ap: false, apqci: false, apft: false, apqi: false}))
    expect(guestVfs(h, g).exists('/sys/bus/ap')).toBe(false)
    expect(g.runtime.dmesg.map((l) => [l.level, l.facility, l.msg])).toEqual([[4, 0, 'ap: The hardware system does not support AP instructions']])
    expect(() => startGuest(w, h, spec('g2', U1, {ap: false, apqci: true, apft: true, apqi: true}))).toThrow(GuestRefusal)
  })

  it('apft=off: no cards or queues although the APCB is set', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('g', U1, {...ALL, apft: false}))
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices')).toEqual([])
    expect(guestVfs(h, g).read('/sys/bus/ap/ap_adapter_mask')).toBe('0x06' + '0'.repeat(62) + '\n')
  })

  it('apqci=off: limits 63/15, masks not supported, domains above 15 invisible', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('g', U1, {...ALL, apqci: false}))
    const gv = guestVfs(h, g)
    expect(gv.read('/sys/bus/ap/ap_max_domain_id')).toBe('15\n')
    expect(gv.read('/sys/bus/ap/ap_adapter_mask')).toBe('not supported\n')
    expect(gv.readdir('/sys/bus/ap/devices').sort()).toEqual(['05.0004', '06.0004', 'card05', 'card06'])
  })

  it('apqi=off: no interrupts', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('g', U1, {...ALL, apqi: false}))
    expect(guestVfs(h, g).read('/sys/bus/ap/ap_interrupts')).toBe('0\n')
    const g2 = startGuest(w, h, spec('g2', U2))
    expect(guestVfs(h, g2).read('/sys/bus/ap/ap_interrupts')).toBe('1\n')
  })
})

describe('QEMU refuses', () => {
  it('a missing mdev, an mdev open in another guest, a second vfio-ap device', () => {
    const {w, h} = threeGuests()
    const kind = (f: () => unknown) => {
      try {
        f()
      } catch (e) {
        return (e as GuestRefusal).kind
      }
      return 'ok'
    }
    expect(kind(() => startGuest(w, h, spec('g', '44444444-4444-4444-8444-444444444444')))).toBe('no-such-device')
    startGuest(w, h, spec('g1', U1))
    expect(kind(() => startGuest(w, h, spec('g2', U1)))).toBe('device-busy')
    const two: GuestStart = {...spec('g3', U2), devices: [...spec('', U2).devices, ...spec('', U3).devices]}
    expect(kind(() => startGuest(w, h, two))).toBe('no-ap-bus')
    expect(h.guests.map((g) => g.name)).toEqual(['g1'])
  })
})

describe('hot plug', () => {
  it('assigning a domain to the mdev of a running guest shows it at once; unassign takes it away', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    hostVfs(h).write('/sys/bus/ap/aqmask', '-0x47\n') // already free; no change
    expect(() => mdevSet(h, U1, 'assign_domain', '0x47')).toThrow(/Address already in use/)
    mdevSet(h, U2, 'unassign_domain', '0x47')
    mdevSet(h, U3, 'unassign_domain', '0x47')
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/assign_domain`, '0x47\n')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').sort()).toContain('05.0047')
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/unassign_adapter`, '6\n')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').filter((d) => d.startsWith('06'))).toEqual([])
  })

  it('a mask change that takes a queue back for the host unplugs its whole adapter from the guest', () => {
    const h = preset('vfio-ap-doc').build('h')
    const v = hostVfs(h)
    v.write('/sys/bus/ap/apmask', '-5,-6\n')
    v.write('/sys/bus/ap/aqmask', '-4,-0xab\n')
    mdev(h, U1, [5, 6], [4])
    const w = {current: 'h', hosts: [h]}
    const g = startGuest(w, h, spec('g', U1))
    // Freed queues that are not assigned anywhere give the host back 05.00ab only.
    v.write('/sys/bus/ap/aqmask', '+0xab\n')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').sort()).toEqual(['05.0004', '06.0004', 'card05', 'card06'])
  })

  it('device_del and device_add through the monitor; removing an mdev in use unplugs it first', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    expect(() => deviceDel(g, 'nope')).toThrow(GuestRefusal)
    deviceDel(g, 'vfio0')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices')).toEqual([])
    deviceAdd(h, g, {id: 'ap1', sysfsdev: `/sys/devices/vfio_ap/matrix/${U2}`, uuid: U2})
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').sort()).toEqual(['05.0047', '05.00ff', 'card05'])
    expect(() => deviceAdd(h, g, {id: 'ap2', sysfsdev: U3, uuid: U3})).toThrow(GuestRefusal)
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U2}/remove`, '1\n')
    expect(g.device).toBeNull()
    // dev_notice_ratelimited: a notice.
    expect(h.runtime.dmesg.at(-1)).toMatchObject({level: 5, facility: 0, msg: `vfio_ap_mdev ${U2}: Relaying device request to user (#0)`})
  })

  it('a device that comes back by hot plug is new: online again, its request count from zero', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    expect(inGuest(h, g, 'chzcrypt', '-d', '06', '05.00ab').code).toBe(0)
    g.runtime.counters['05.00ab'] = {requests: 7}
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/unassign_domain`, '0xab\n')
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/unassign_adapter`, '6\n')
    expect(settleGuests(w)).toBe(true)
    expect(g.runtime.offline).toEqual([])
    expect(g.runtime.counters).toEqual({})
    // Nothing more to forget: settling again changes nothing, and says so.
    const before = structuredClone(w)
    expect(settleGuests(w)).toBe(false)
    expect(w).toEqual(before)
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/assign_adapter`, '6\n')
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/assign_domain`, '0xab\n')
    settleGuests(w)
    expect(inGuest(h, g, 'lszcrypt', '06', '05.00ab').stdout).toBe(
      HEAD + row('06', 'CEX5A', 'Accelerator') + row('06.0004', 'CEX5A', 'Accelerator') + row('06.00ab', 'CEX5A', 'Accelerator') + row('05.00ab', 'CEX5C', 'CCA-Coproc'),
    )
  })

  it('a device that stays keeps its state', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    inGuest(h, g, 'chzcrypt', '-d', '05.0004')
    hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${U1}/unassign_domain`, '0xab\n')
    expect(settleGuests(w)).toBe(false)
    expect(g.runtime.offline).toEqual(['05.0004'])
    expect(inGuest(h, g, 'lszcrypt', '05.0004').stdout).toContain('offline')
  })

  it('a reset keeps the APCB; the guest kernel starts again', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    inGuest(h, g, 'chzcrypt', '-d', '05')
    resetGuest(h, g)
    expect(inGuest(h, g, 'lszcrypt', '05').stdout).toContain('online')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').length).toBe(6)
  })
})

describe('LPAR configuration changes', () => {
  it('an over-provisioned adapter appears in the guest when the SE adds it; removal takes it away', () => {
    const {w, h} = threeGuests()
    hostVfs(h).write('/sys/bus/ap/apmask', '-7\n')
    mdev(h, '55555555-5555-4555-8555-555555555555', [7], [4, 0xab])
    const g = startGuest(w, h, spec('g', '55555555-5555-4555-8555-555555555555'))
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices')).toEqual([])
    addAdapter(h, 7, 'CEX8C')
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').sort()).toEqual(['07.0004', '07.00ab', 'card07'])
    expect(inGuest(h, g, 'lszcrypt', '07').stdout).toContain('CEX8C CCA-Coproc')
    removeAdapter(h, 7)
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices')).toEqual([])
  })

  it('a domain removed from the LPAR leaves every guest; added again it comes back', () => {
    const {w, h} = threeGuests()
    const g = startGuest(w, h, spec('guest1', U1))
    removeDomain(h, 0xab, false)
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').sort()).toEqual(['05.0004', '06.0004', 'card05', 'card06'])
    addDomain(h, 0xab, false)
    expect(guestVfs(h, g).readdir('/sys/bus/ap/devices').length).toBe(6)
    expect(() => addDomain(h, 0xab, false)).toThrow(/already/)
    expect(() => addAdapter(h, 300, 'CEX8C')).toThrow(/out of range/)
  })
})

describe('migration', () => {
  it('is refused with a vfio-ap device, allowed after device_del; a target mdev can be attached', () => {
    const {w, h} = threeGuests()
    const t = preset('vfio-ap-doc').build('t')
    w.hosts.push(t)
    const g = startGuest(w, h, spec('guest1', U1))
    expect(() => migrateGuest(w, 'guest1', 't')).toThrow(GuestRefusal)
    deviceDel(g, 'vfio0')
    migrateGuest(w, 'guest1', 't')
    expect(findGuest(w, 'guest1')?.host.name).toBe('t')
    hostVfs(t).write('/sys/bus/ap/apmask', '-5\n')
    hostVfs(t).write('/sys/bus/ap/aqmask', '-4\n')
    mdev(t, U3, [5], [4])
    deviceAdd(t, g, {id: 'vfio0', sysfsdev: `/sys/bus/mdev/devices/${U3}`, uuid: U3})
    expect(guestVfs(t, g).readdir('/sys/bus/ap/devices').sort()).toEqual(['05.0004', 'card05'])
  })

  it('modprobe -r vfio_ap is refused while a guest has an mdev open', () => {
    const {w, h} = threeGuests()
    startGuest(w, h, spec('guest1', U1))
    expect(() => modprobe(h, 'vfio_ap', true)).toThrow(/in use/)
  })
})

function mdevSet(h: Host, uuid: string, attr: string, value: string): void {
  hostVfs(h).write(`/sys/devices/vfio_ap/matrix/${uuid}/${attr}`, value + '\n')
}

describe('a guest acts only inside itself (issue 9)', () => {
  /** The world's data with one guest's own runtime left out. */
  const outside = (w: World, name: string) => {
    const data = worldToData(w) as {hosts: Array<{guests: Array<{name: string; runtime?: unknown}>}>}
    for (const h of data.hosts) for (const g of h.guests) if (g.name === name) delete g.runtime
    return JSON.stringify(data)
  }

  it('chzcrypt --config-off in a guest is refused as QEMU\'s SCLP refuses it; the host and the other guests keep card 05', () => {
    const {w, h} = threeGuests()
    const g1 = startGuest(w, h, spec('guest1', U1))
    const g2 = startGuest(w, h, spec('guest2', U2))
    const before = outside(w, 'guest1')
    expect(inGuest(h, g1, 'chzcrypt', '--config-off', '05')).toEqual({
      stdout: '',
      stderr: 'chzcrypt: Error - unable to set cryptographic device card05 config off.\n',
      code: 1,
    })
    expect(errno(() => guestVfs(h, g1).write('/sys/devices/ap/card05/config', '0\n'))).toBe('EOPNOTSUPP')
    // Writing the value it has is no SCLP call, so it succeeds.
    expect(errno(() => guestVfs(h, g1).write('/sys/devices/ap/card05/config', '1\n'))).toBe('ok')
    expect(outside(w, 'guest1')).toBe(before)
    expect(inGuest(h, g2, 'lszcrypt').stdout).toBe(HEAD + row('05', 'CEX5C', 'CCA-Coproc') + row('05.0047', 'CEX5C', 'CCA-Coproc') + row('05.00ff', 'CEX5C', 'CCA-Coproc'))
    expect(h.lpar.adapters.find((a) => a.id === 5)!.configured).toBe(true)
  })

  it("every other write a guest can make (online, masks, unbind, reset, cio_ignore) changes only that guest's runtime", () => {
    const {w, h} = threeGuests()
    const g1 = startGuest(w, h, spec('guest1', U1))
    startGuest(w, h, spec('guest2', U2))
    const before = outside(w, 'guest1')
    expect(inGuest(h, g1, 'chzcrypt', '-d', '05', '06.0004').code).toBe(0)
    const v = guestVfs(h, g1)
    v.write('/sys/bus/ap/apmask', '0x0\n')
    v.write('/sys/bus/ap/aqmask', '-4\n')
    v.write('/sys/devices/ap/card06/06.00ab/reset', '1\n')
    v.write('/proc/cio_ignore', 'add 0.0.1234\n')
    expect(outside(w, 'guest1')).toBe(before)
    expect(guestLpar(h, g1).adapters.every((a) => !h.lpar.adapters.includes(a))).toBe(true)
  })
})
