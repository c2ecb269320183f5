// The rules the kernel keeps between objects (core/invariants.ts): every
// preset and fixture keeps them; a hand edit that breaks one is refused by
// load, naming the file and the objects; an imported tree that breaks one
// is refused, naming its file.

import {cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import fc from 'fast-check'
import {afterAll, describe, expect, it} from 'vitest'

import {setClock} from '../../src/core/clock.js'
import {StateError, UsageError} from '../../src/core/errors.js'
import {UNRULED, worldProblems} from '../../src/core/invariants.js'
import {Mask} from '../../src/core/mask.js'
import type {Mdev, World} from '../../src/core/model.js'
import {PRESETS} from '../../src/core/presets.js'
import {readWorld, worldToData} from '../../src/state/schema.js'
import {load, newWorld, parse} from '../../src/state/store.js'
import {exportHost} from '../../src/sysfs/export.js'
import {importHost} from '../../src/sysfs/import.js'
import {create, change} from '../../src/cli/mdev.js'
import {FIXTURES, maxWorldForMdevs} from '../helpers.js'
import {EDITS, TWO_GUESTS, U1, U2, edited, twoGuests} from '../invariant-edits.js'
import {LIBVIRT_DOMAINS, LIBVIRT_EDITS, libvirtDomains} from '../libvirt/edits.js'

setClock(() => Date.UTC(2026, 11, 2, 9, 0, 0))

const dirs: string[] = []
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'aplab-invariants-'))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})

/** The fixture's world, read field by field but not checked, to break by hand. */
async function raw(): Promise<World> {
  const YAML = await import('yaml')
  return readWorld(YAML.parse(twoGuests()))
}

const show = (w: World): string[] => worldProblems(w).map((p) => `${p.where}: ${p.message}`)

describe('what keeps the rules', () => {
  it.each(PRESETS.map((p) => p.name))('aplab init --preset %s', (name) => {
    expect(worldProblems(newWorld(name))).toEqual([])
  })

  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')))('test/fixtures/%s', async (f) => {
    const w = await parse(readFileSync(join(FIXTURES, f), 'utf8'), f)
    expect(worldProblems(w)).toEqual([])
  })

  it('the fixture the hand edits start from has mdevs, shadows and running guests', async () => {
    const w = await raw()
    const h = w.hosts[0]
    expect(h.runtime.mdevs.map((m) => m.shadow.apm.bits())).toEqual([[5, 6], [5]])
    expect(h.guests.map((g) => [g.name, g.running, g.device?.uuid])).toEqual([
      ['ga', true, U1],
      ['gb', true, U2],
    ])
  })
})

/**
 * A state file of `text` is refused by load with the file and the rule named,
 * the problem is also the first worldProblems finds on the world as read, and
 * the file is left as it was.
 */
async function refusedOnLoad(text: string, e: {where: string; message: string}): Promise<void> {
  const file = join(tmp(), 'state.yaml')
  writeFileSync(file, text)
  const err = await load(file).catch((x: unknown) => x)
  expect(err).toBeInstanceOf(StateError)
  expect((err as StateError).message).toBe(`${file}: ${e.where}: ${e.message}`)
  const YAML = await import('yaml')
  expect(worldProblems(readWorld(YAML.parse(text)))[0]).toEqual({where: e.where, message: e.message})
  expect(readFileSync(file, 'utf8')).toBe(text)
}

describe('a hand edit that breaks a rule is refused by load', () => {
  it.each(EDITS)('$rule', async (e) => refusedOnLoad(edited(e), e))

  it('the unedited fixture loads', async () => {
    expect((await parse(twoGuests(), TWO_GUESTS)).hosts[0].guests).toHaveLength(2)
  })
})

describe("the rules an mdev's masks keep against the host's alone", () => {
  // worldProblems asks them of each mdev only when the union of all the mdevs' masks breaks
  // one; an entry of runtime.unbound outside every shadow changes no verdict but makes it ask
  // each: both ways must find the same.
  it('find what asking each mdev finds, on random masks', async () => {
    const base = await raw()
    const masks = fc.uniqueArray(fc.oneof(fc.integer({min: 0, max: 16}), fc.constantFrom(0x40, 0x5f, 0xab, 0xfe)), {maxLength: 4}).map((b) => Mask.of(b))
    const field = fc.constantFrom('apm', 'aqm', 'adm', 'shadow.apm', 'shadow.aqm', 'shadow.adm', 'apmask', 'aqmask', 'usage', 'control')
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({max: 1}), field, masks), {maxLength: 4}), fc.boolean(), (edits, unload) => {
        const w = structuredClone(base)
        // structuredClone keeps no classes: the masks again as masks.
        const h = w.hosts[0]
        const b = base.hosts[0]
        h.lpar = {...h.lpar, usage: b.lpar.usage, control: b.lpar.control}
        h.runtime.apmask = b.runtime.apmask
        h.runtime.aqmask = b.runtime.aqmask
        h.runtime.mdevs = b.runtime.mdevs.map((m) => ({...m, shadow: {...m.shadow}}))
        h.guests = b.guests
        for (const [i, f, m] of edits) {
          const d = h.runtime.mdevs[i]
          if (f === 'apmask' || f === 'aqmask') h.runtime[f] = m
          else if (f === 'usage' || f === 'control') h.lpar[f] = m
          else if (f.startsWith('shadow.')) d.shadow[f.slice(7) as 'apm'] = m
          else d[f as 'apm'] = m
        }
        if (unload) h.runtime.modules = h.runtime.modules.filter((x) => x !== 'vfio_ap')
        const asked = show(w)
        // The mdevs of the fixture (which keeps every rule) unchanged: told so, the same problems.
        if (edits.every(([, f]) => ['apmask', 'aqmask', 'usage', 'control'].includes(f)))
          expect(worldProblems(w, () => true).map((p) => `${p.where}: ${p.message}`)).toEqual(asked)
        h.runtime.unbound = [...h.runtime.unbound, 'ff.00ff']
        expect(show(w)).toEqual(asked)
      }),
      {numRuns: 300},
    )
  })

  // A mutation of a big host changes an mdev or two among many: worldProblems is told which
  // are unchanged since a state that kept every rule (state/data.ts keptMdevs) and asks the
  // rules between mdevs of the changed ones only, unless one of them may break one.
  it('with the unchanged mdevs named, find what asking every mdev finds', () => {
    const {world: base, host: b} = maxWorldForMdevs()
    for (let i = 0; i < 8; i++) {
      const uuid = create(b, `b16b0000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`)
      change(b, uuid, {adapter: [String(i)], domain: [String(i)], 'control-domain': [String(i)]}, false)
    }
    expect(show(base)).toEqual([])
    const masks = fc.uniqueArray(fc.integer({min: 0, max: 9}), {maxLength: 3}).map((bits) => Mask.of(bits))
    const edit = fc.oneof(
      fc.record({i: fc.nat({max: 7}), field: fc.constantFrom('apm', 'aqm', 'adm', 'shadow.apm', 'shadow.aqm', 'shadow.adm'), mask: masks}),
      fc.record({i: fc.nat({max: 7}), field: fc.constantFrom('uuid', 'group'), from: fc.nat({max: 7})}),
    )
    fc.assert(
      fc.property(fc.array(edit, {maxLength: 3}), fc.option(fc.tuple(masks, masks)), (edits, added) => {
        const w = structuredClone(base)
        const h = w.hosts[0]
        // structuredClone keeps no classes: the host's masks and mdevs again as they were.
        h.lpar = b.lpar
        h.runtime = {...h.runtime, apmask: b.runtime.apmask, aqmask: b.runtime.aqmask, mdevs: b.runtime.mdevs.map((m) => ({...m, shadow: {...m.shadow}}))}
        h.guests = b.guests
        const changed = new Set<Mdev>()
        for (const e of edits) {
          const d = h.runtime.mdevs[e.i]
          changed.add(d)
          if ('mask' in e) {
            if (e.field.startsWith('shadow.')) d.shadow[e.field.slice(7) as 'apm'] = e.mask
            else d[e.field as 'apm'] = e.mask
          } else if (e.field === 'uuid') d.uuid = h.runtime.mdevs[e.from].uuid
          else d.group = h.runtime.mdevs[e.from].group
        }
        if (added) {
          const m: Mdev = {uuid: 'b16b0000-0000-4000-8000-0000000000ff', apm: added[0], aqm: added[1], adm: Mask.empty(), shadow: {apm: Mask.empty(), aqm: Mask.empty(), adm: Mask.empty()}, group: 1000}
          h.runtime.mdevs.push(m)
          changed.add(m)
        }
        expect(worldProblems(w, () => ({changed})).map((p) => `${p.where}: ${p.message}`)).toEqual(show(w))
      }),
      {numRuns: 300},
    )
  })
})

describe('every problem is listed', () => {
  it('the names of hosts and guests, and the current host', async () => {
    const w = await raw()
    const h2 = (await raw()).hosts[0]
    h2.guests = h2.guests.slice(0, 1).map((g) => ({...g, running: false, device: null}))
    w.hosts.push(h2)
    w.current = 'nosuch'
    expect(show(w)).toEqual([
      "hosts[1].name: host 'h0' is listed twice",
      "current: no host is named 'nosuch'",
      "hosts[1].guests[0].name: guest 'ga' is on host 'h0' already",
    ])
  })

  it('several problems of one host, in order: LPAR, mdevs, guests', async () => {
    const w = await raw()
    const h = w.hosts[0]
    h.lpar.adapters.push({...h.lpar.adapters[1], id: 0x0a})
    h.lpar.na = 8
    h.runtime.mdevs[1].aqm = h.runtime.mdevs[1].aqm.with(0x04)
    h.runtime.mdevs[1].shadow.adm = Mask.of([0x04])
    h.guests[1].device = {...h.guests[1].device!, uuid: U1}
    h.guests[0].runtime.mdevs = [(await raw()).hosts[0].runtime.mdevs[0]]
    expect(show(w)).toEqual([
      'hosts[0].lpar.adapters: adapter 0x0a is above the highest adapter id 8 (ap_max_adapter_id)',
      `hosts[0].runtime.mdevs[1]: mdev ${U2}: APQN 05.0004 is also assigned to mdev ${U1} (hosts[0].runtime.mdevs[0])`,
      `hosts[0].runtime.mdevs[1].guest_matrix: mdev ${U2}: guest_matrix has control domain 0x0004, which is not among the mdev's control domains`,
      "hosts[0].guests[0].runtime.mdevs: guest 'ga': a guest's kernel has no vfio_ap mediated devices in aplab",
      `hosts[0].guests[1].device.uuid: guest 'gb' has mdev ${U1} open, and so does guest 'ga' (hosts[0].guests[0])`,
    ])
  })

  it('a stopped guest keeps its device without holding the mdev', async () => {
    const w = await raw()
    const [ga, gb] = w.hosts[0].guests
    gb.running = false
    gb.device = {...gb.device!, uuid: ga.device!.uuid}
    expect(show(w)).toEqual([])
    gb.device = {...gb.device, uuid: '33333333-3333-4333-8333-333333333333'}
    expect(show(w)).toEqual([])
  })
})

describe('what filtering can give (guest_matrix)', () => {
  it('without QCI vfio_ap gives guests nothing', async () => {
    const w = await raw()
    const h = w.hosts[0]
    h.lpar.qci = false
    // Without QCI the highest domain id is 15 (so 0xab, 0x47 and 0xff are out of reach).
    h.runtime.mdevs = h.runtime.mdevs.slice(0, 1)
    h.runtime.mdevs[0].aqm = h.runtime.mdevs[0].shadow.aqm = Mask.of([4])
    h.guests = h.guests.slice(0, 1)
    expect(show(w)).toEqual([
      `hosts[0].runtime.mdevs[0].guest_matrix: mdev ${U1}: guest_matrix has adapter 0x05, which is not in the LPAR's configuration (the LPAR has no QCI, so vfio_ap gives guests nothing)`,
    ])
  })

  it('an adapter without a card device (a type older than CEX4)', async () => {
    const w = await raw()
    w.hosts[0].lpar.adapters[1].rawType = 9
    expect(show(w)).toEqual([`hosts[0].runtime.mdevs[0].guest_matrix: mdev ${U1}: guest_matrix has adapter 0x06, which has no card device (its queues do not exist)`])
  })

  it('the shadow within the matrix, and no queue of it reserved for the host', async () => {
    const w = await raw()
    const rt = w.hosts[0].runtime
    const m = rt.mdevs[1]
    // An unassign takes the adapter out of the shadow too; a shadow that kept it is wrong.
    m.apm = Mask.empty()
    m.shadow.apm = Mask.of([5])
    expect(show(w)[0]).toBe(`hosts[0].runtime.mdevs[1].guest_matrix: mdev ${U2}: guest_matrix has adapter 0x05, which is not among the mdev's adapters`)
    m.apm = Mask.of([5])
    m.aqm = Mask.of([0x47])
    rt.apmask = rt.apmask.with(5)
    rt.aqmask = rt.aqmask.with(0xff)
    expect(show(w)).toEqual([`hosts[0].runtime.mdevs[1].guest_matrix: mdev ${U2}: guest_matrix has domain 0x00ff, which is not among the mdev's domains`])
    m.aqm = Mask.of([0x47, 0xff])
    expect(show(w)).toEqual([
      `hosts[0].runtime.mdevs[1]: mdev ${U2}: APQN 05.00ff is reserved for the host's drivers by apmask and aqmask`,
      `hosts[0].runtime.mdevs[1].guest_matrix: mdev ${U2}: guest_matrix has queue 05.00ff, which is reserved for the host's drivers by apmask and aqmask`,
    ])
  })
})

describe('aplab import', () => {
  /** The fixture's host exported as a tree. */
  async function tree(): Promise<string> {
    const root = join(tmp(), 'root')
    exportHost((await parse(twoGuests(), TWO_GUESTS)).hosts[0], root, false)
    return root
  }
  const MATRIX = 'sys/devices/vfio_ap/matrix'

  it('a tree exported from a sound host imports as the same mdevs', async () => {
    const h = importHost(await tree(), 'copy')
    const orig = (await parse(twoGuests(), TWO_GUESTS)).hosts[0]
    expect(h.runtime.mdevs.map((m) => [m.uuid, m.apm.bits(), m.aqm.bits(), m.shadow.apm.bits(), m.shadow.aqm.bits(), m.group])).toEqual(
      orig.runtime.mdevs.map((m) => [m.uuid, m.apm.bits(), m.aqm.bits(), m.shadow.apm.bits(), m.shadow.aqm.bits(), m.group]),
    )
  })

  const refused = (root: string): string => {
    try {
      importHost(root, 'copy')
    } catch (e) {
      if (e instanceof UsageError) return e.message
      throw e
    }
    return 'imported'
  }

  it('two mdevs sharing a queue: the mdev directory is named', async () => {
    const root = await tree()
    // U2's matrix grows by domain 0x04, which U1 has with adapter 05.
    writeFileSync(join(root, MATRIX, U2, 'ap_config'), apConfig([5], [4, 0x47, 0xff], []))
    expect(refused(root)).toBe(`${join(root, MATRIX, U2)}: mdev ${U2}: APQN 05.0004 is also assigned to mdev ${U1} (${join(root, MATRIX, U1)})`)
  })

  it('a guest_matrix beyond the matrix: the guest_matrix file is named', async () => {
    const root = await tree()
    writeFileSync(join(root, MATRIX, U2, 'guest_matrix'), '05.0047\n05.00ff\n06.0047\n06.00ff\n')
    expect(refused(root)).toBe(`${join(root, MATRIX, U2, 'guest_matrix')}: mdev ${U2}: guest_matrix has adapter 0x06, which is not among the mdev's adapters`)
  })

  it('mdevs without the vfio_ap driver: the matrix directory is named', async () => {
    const root = await tree()
    rmSync(join(root, 'sys/bus/ap/drivers/vfio_ap'), {recursive: true})
    expect(refused(root)).toBe(`${join(root, MATRIX)}: mediated devices exist only while vfio_ap is loaded, and it is not (runtime.modules)`)
  })

  it('an mdev holding a queue the masks reserve for the host', async () => {
    const root = await tree()
    writeFileSync(join(root, 'sys/bus/ap/apmask'), `0x${'f'.repeat(64)}\n`)
    writeFileSync(join(root, 'sys/bus/ap/aqmask'), `0x${'f'.repeat(64)}\n`)
    expect(refused(root)).toBe(`${join(root, MATRIX, U1)}: mdev ${U1}: APQN 05.0004 is reserved for the host's drivers by apmask and aqmask`)
  })

  it('mdevs without iommu_group links get groups of their own', async () => {
    const root = await tree()
    rmSync(join(root, MATRIX, U1, 'iommu_group'))
    const h = importHost(root, 'copy')
    expect(h.runtime.mdevs.map((m) => m.group)).toEqual([0, 1])
    const again = join(tmp(), 'again')
    cpSync(root, again, {recursive: true, verbatimSymlinks: true})
    rmSync(join(again, MATRIX, U2, 'iommu_group'))
    expect(importHost(again, 'copy').runtime.mdevs.map((m) => m.group)).toEqual([0, 1])
  })
})

/** The text of ap_config: three 0x + 64 hex masks, bit 0 leftmost. */
function apConfig(apm: number[], aqm: number[], adm: number[]): string {
  return [apm, aqm, adm].map((b) => Mask.of(b).toString()).join(',') + '\n'
}

describe('libvirt: a hand edit of the domains that breaks a rule is refused by load', () => {
  it('the unedited fixture loads, a domain running and one defined', async () => {
    const w = await parse(libvirtDomains(), LIBVIRT_DOMAINS)
    expect(w.hosts[0].libvirt?.domains.map((d) => [d.name, d.live?.id ?? null, d.config !== null])).toEqual([
      ['guest1', 1, true],
      ['guest2', null, true],
    ])
    expect(worldProblems(w)).toEqual([])
  })

  it.each(LIBVIRT_EDITS)('$rule', async (e) => refusedOnLoad(e.edit(libvirtDomains()), e))

  it('two running domains with one id', async () => {
    const w = await parse(libvirtDomains(), LIBVIRT_DOMAINS)
    const h = w.hosts[0]
    h.guests.push({...structuredClone(h.guests[0]), name: 'guest2', device: null})
    h.libvirt!.domains[1].live = {id: 1, xml: h.libvirt!.domains[1].config!}
    expect(show(w)).toEqual(["hosts[0].libvirt.domains[1].live.id: domain 'guest2' runs with id 1, and so does domain 'guest1' (hosts[0].libvirt.domains[0])"])
  })

  it('a live definition whose QEMU process ended outside libvirt is kept (virsh settles it)', async () => {
    const w = await parse(libvirtDomains(), LIBVIRT_DOMAINS)
    w.hosts[0].guests[0].running = false
    expect(worldProblems(w)).toEqual([])
  })
})

describe('fields no rule reads (UNRULED: a change of only these is written unchecked)', () => {
  it.each(EDITS)('$rule: the same problems whatever they hold', async (e) => {
    const YAML = await import('yaml')
    const w = readWorld(YAML.parse(edited(e)))
    const before = show(w)
    expect(before.length).toBeGreaterThan(0)
    for (const h of w.hosts) {
      Object.assign(h.runtime, {configTime: 120, pollThread: !h.runtime.pollThread, pollTimeout: 1, scans: h.runtime.scans + 7, bootTime: 1})
      h.runtime.counters = {'05.0004': {requests: 3}, card05: {requests: 9}}
      h.runtime.dmesg = [...h.runtime.dmesg, {t: 5, level: 3, facility: 0, msg: 'x'}]
      h.persistent = {cmdline: 'ap.apmask=0xffff', files: {'/etc/mdevctl.d/matrix/x': '{}'}}
    }
    expect(show(w)).toEqual(before)
  })
  it('names fields of the state file', () => {
    const host = worldToData(newWorld('default')).hosts as Array<Record<string, Record<string, unknown>>>
    for (const f of UNRULED.host) expect(Object.keys(host[0])).toContain(f)
    for (const f of UNRULED.runtime) expect(Object.keys(host[0].runtime)).toContain(f)
  })

})
