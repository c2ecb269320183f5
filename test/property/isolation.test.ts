// The isolation invariant as a property (issue 9 §2): random histories over
// one to three hosts, run in-process through the commands' own code and
// checked after every step (history.ts). A failure prints the seed and the
// history cut down to the steps that matter; add it to regressions.test.ts.
// APLAB_PROPERTY_RUNS and APLAB_PROPERTY_SEED change the runs and the seed;
// `npm run soak` runs 10,000.

import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {isolationProblems} from './check.js'
import {minimize, newStats, report, runHistory} from './history.js'
import {Lab, type Op, UUIDS} from './lab.js'
import {history} from './ops.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const RUNS = Number(process.env.APLAB_PROPERTY_RUNS ?? 200)
const SEED = process.env.APLAB_PROPERTY_SEED === undefined ? undefined : Number(process.env.APLAB_PROPERTY_SEED)

describe('isolation holds over random histories', () => {
  it(`every step of ${RUNS} histories keeps it`, {timeout: Math.max(60_000, RUNS * 600)}, async () => {
    const stats = newStats()
    const r = await fc.check(
      // A tenth of the histories check the round trip through the YAML text after every step, not
      // only after hand edits and at the end (it is the slow part); the soak can do it for all.
      fc.asyncProperty(history(), (h) => runHistory(h, stats, {yamlEveryStep: JSON.stringify(h).length % 10 === 0})),
      {numRuns: RUNS, ...(SEED === undefined ? {} : {seed: SEED})},
    )
    if (r.failed) {
      const m = await minimize(r.counterexample![0], {yamlEveryStep: true})
      throw new Error(report(r.seed, m.history, m.failure))
    }
    if (process.env.APLAB_PROPERTY_STATS) console.log(JSON.stringify(stats, null, 1))
    // The histories reach what the invariant is about: guests holding queues, commands run in
    // them, hand edits the loader refuses. A generator that stopped doing so would test nothing.
    if (RUNS >= 100) {
      expect(stats.maxGuestApqns).toBeGreaterThanOrEqual(2)
      expect(stats.byKind['guest-exec']?.ok ?? 0).toBeGreaterThan(0)
      expect(stats.byKind['migrate']?.ok ?? 0).toBeGreaterThan(0)
      expect(stats.editsRefused).toBeGreaterThan(0)
      expect(stats.outcomes.refused).toBeGreaterThan(0)
    }
  })
})

describe('the checks find what they look for', () => {
  const U = UUIDS[0]
  const setup: Op[] = [
    {k: 'sysfs', h: 0, path: '/sys/bus/ap/apmask', text: '-5,-6', uid: 0},
    {k: 'sysfs', h: 0, path: '/sys/bus/ap/aqmask', text: '-4,-0x47', uid: 0},
    {k: 'mdev-create', h: 0, u: 0, uid: 0},
    {k: 'mdev-assign', h: 0, u: 0, unassign: false, adapter: ['5', '6'], domain: ['4', '0x47'], control: [], uid: 0},
    {k: 'guest-start', h: 0, g: 0, args: ['-cpu', 'host,ap=on,apqci=on,apft=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${U},id=vfio0`], libvirt: false, autostart: false, uid: 0},
  ]
  const guestWithQueues = async (): Promise<Lab> => {
    const lab = await Lab.create(['vfio-ap-doc'])
    for (const op of setup) expect((await lab.step(op)).outcome).toBe('ok')
    expect(isolationProblems(lab.world)).toEqual([])
    return lab
  }

  it('an APQN in two guests (through two mdevs), and one mdev open in two guests', async () => {
    const lab = await guestWithQueues()
    const host = lab.world.hosts[0]
    // Masks are immutable values: copies share them.
    host.runtime.mdevs.push({...host.runtime.mdevs[0], uuid: UUIDS[1], group: 1})
    const g0 = host.guests[0]
    host.guests.push({...g0, name: 'twin', device: {...g0.device!, uuid: UUIDS[1]}})
    expect(isolationProblems(lab.world)).toEqual([
      'host host0: 05.0004 is in the APCBs of guests g0 and twin',
      'host host0: 05.0047 is in the APCBs of guests g0 and twin',
      'host host0: 06.0004 is in the APCBs of guests g0 and twin',
      'host host0: 06.0047 is in the APCBs of guests g0 and twin',
      `host host0: 05.0004 is assigned to mdevs ${U} and ${UUIDS[1]}`,
    ])
    host.guests[1].device!.uuid = U
    host.runtime.mdevs.pop()
    expect(isolationProblems(lab.world)).toEqual([`host host0: mdev ${U} is open in guests g0 and twin`])
  })

  it("a guest's APQN taken back by the host's masks, or gone from the LPAR", async () => {
    const lab = await guestWithQueues()
    const host = lab.world.hosts[0]
    host.runtime.apmask = host.runtime.apmask.with(5)
    host.runtime.aqmask = host.runtime.aqmask.with(4)
    host.lpar.adapters = host.lpar.adapters.filter((a) => a.id !== 6)
    expect(isolationProblems(lab.world)).toEqual([
      'host host0: 05.0004 of guest g0 is reserved for the host (apmask & aqmask)',
      'host host0: 05.0004 of guest g0 is bound to cex4queue, not vfio_ap',
      "host host0: 06.0004 of guest g0 is not in the LPAR's configuration",
      "host host0: 06.0047 of guest g0 is not in the LPAR's configuration",
    ])
  })

  it('an APQN in two mdevs', async () => {
    const lab = await guestWithQueues()
    const host = lab.world.hosts[0]
    const m = host.runtime.mdevs[0]
    host.runtime.mdevs.push({...m, uuid: UUIDS[1], group: 1})
    expect(isolationProblems(lab.world)).toEqual([`host host0: 05.0004 is assigned to mdevs ${U} and ${UUIDS[1]}`])
  })
})
