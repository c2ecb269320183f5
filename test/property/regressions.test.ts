// Counterexamples the isolation property found (shrunk, then cut down by
// hand to the steps that matter), kept as regular tests.

import {describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {runHistory} from './history.js'
import {Lab, type Op, UUIDS} from './lab.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const U = UUIDS[0]
const DEVICE = `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`

/** vfio_ap loaded (vfio-ap-doc), 05 and 0x47/0xff freed from the host's masks, an empty mdev. */
const SETUP: Op[] = [
  {k: 'sysfs', h: 0, path: '/sys/bus/ap/apmask', text: '-5', uid: 0},
  {k: 'sysfs', h: 0, path: '/sys/bus/ap/aqmask', text: '-0x47,-0xff', uid: 0},
  {k: 'mdev-create', h: 0, u: 0, uid: 0},
]

describe('regressions found by the isolation property', () => {
  it("a guest's kernel picks its default domain at the scan after a hot plug, not at the next command run in it", async () => {
    // Seed found with 2000 runs: the guest booted with an empty APCB (ap_domain -1); the queues
    // came by hot plug; a refused chzcrypt in the guest then changed its ap_domain to 0x47.
    const ops: Op[] = [
      ...SETUP,
      {k: 'guest-start', h: 0, g: 0, args: ['-cpu', 'host,ap=on,apqci=on,apft=on', '-device', DEVICE], libvirt: false, autostart: false, uid: 0},
      {k: 'mdev-assign', h: 0, u: 0, unassign: false, adapter: ['5'], domain: ['0x47'], control: [], uid: 0},
      {k: 'guest-exec', g: 0, cmd: ['chzcrypt', '-d', '05.00ff'], uid: 0},
    ]
    await runHistory({presets: ['vfio-ap-doc'], ops})
    const lab = await Lab.create(['vfio-ap-doc'])
    for (const op of ops.slice(0, -1)) await lab.step(op)
    const g = lab.world.hosts[0].guests[0]
    expect(g.runtime.domain).toBe(0x47)
    const r = await lab.step(ops[ops.length - 1])
    expect(r).toEqual({outcome: 'refused', atomic: true, guest: 'g0', said: 'chzcrypt: Error - cryptographic device card05/05.00ff does not exist.\n'})
  })
})
