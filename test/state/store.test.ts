import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {StateError} from '../../src/core/errors.js'
import {startGuest} from '../../src/core/guest.js'
import type {Adapter, Guest, World} from '../../src/core/model.js'
import {Mask} from '../../src/core/mask.js'
import {modprobe} from '../../src/core/modules.js'
import {create, change, remove} from '../../src/cli/mdev.js'
import {mdevctlOnHost} from '../../src/cli/mdevctl.js'
import {start, stop} from '../../src/cli/guest.js'
import {LARGE} from '../../src/state/cache.js'
import {bodyHash, textHash} from '../../src/state/hash.js'
import {endGuestsOfDeadProcesses, load, mutate, newWorld, parse, replace, serialize, statePath} from '../../src/state/store.js'
import {PRESETS} from '../../src/core/presets.js'
import {readWorld, worldToData} from '../../src/state/schema.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {echo} from '../../src/sysfs/shell.js'
import {maxWorldForMdevs} from '../helpers.js'

const made: string[] = []
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'aplab-state-'))
  made.push(d)
  return d
}
afterAll(() => {
  for (const d of made) rmSync(d, {recursive: true, force: true})
})

async function stateError(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (e instanceof StateError) return e.message
    throw e
  }
  return 'no error'
}

describe('state file location', () => {
  it('--state, then $APLAB_STATE, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(statePath('/x/s.yaml', {APLAB_STATE: '/y'})).toBe('/x/s.yaml')
    expect(statePath(undefined, {APLAB_STATE: '/y/s.yaml'})).toBe('/y/s.yaml')
    expect(statePath(undefined, {XDG_STATE_HOME: '/xdg'})).toBe('/xdg/aplab/state.yaml')
    expect(statePath(undefined, {HOME: '/home/u'})).toBe('/home/u/.local/state/aplab/state.yaml')
  })
})

describe('loading', () => {
  it('a missing file is a fresh default host and is not created by reading', async () => {
    const f = join(tmp(), 'state.yaml')
    const w = await load(f)
    expect(w.hosts[0].lpar.adapters).toHaveLength(6)
    expect(existsSync(f)).toBe(false)
  })
  it('serialize and parse round-trip every preset', async () => {
    for (const p of ['default', 'vfio-ap-doc', 'ibm-doc', 'max', 'se-guest']) {
      const w = newWorld(p)
      const t = await serialize(w)
      expect(await serialize(await parse(t, 'x'))).toBe(t)
    }
  })
  it('the max preset stays small', async () => {
    expect((await serialize(newWorld('max'))).length).toBeLessThan(40000)
  })
  it('a YAML syntax error names the file and the position', async () => {
    expect(await stateError(parse('version: 1\nhosts: [\n', '/s.yaml'))).toMatch(/^\/s\.yaml: line \d+, column \d+: /)
  })
  it('an empty file is an error, not a default host', async () => {
    expect(await stateError(parse('', '/s.yaml'))).toBe('/s.yaml: the file is empty')
  })
  it('hand-edited mistakes name the field', async () => {
    const good = await serialize(newWorld())
    const cases: Array<[string, string, RegExp]> = [
      ['type: CEX8C', 'type: CEX9C', /hosts\[0\]\.lpar\.adapters\[0\]\.type: 'CEX9C' is not a Crypto Express type/],
      ['ap_domain: 4', 'ap_domain: many', /hosts\[0\]\.runtime\.ap_domain: expected a whole number, found 'many'/],
      ['usage_domains: 0x04-0x07', 'usage_domains: 0x07-0x04', /hosts\[0\]\.lpar\.usage_domains: range '0x07-0x04' is reversed/],
      ['version: 1', 'version: 9', /version: version 9 was written by a newer aplab/],
      ['current: host0', 'current: nosuch', /current: no host is named 'nosuch'/],
      ['config_time: 30', 'config_tme: 30', /hosts\[0\]\.runtime\.config_tme: unknown field/],
      // A boot time past year 9999 has no date for dmesg -T to print.
      [/boot_time: \d+/.exec(good)![0], 'boot_time: 9007199254740991', /hosts\[0\]\.runtime\.boot_time: .*9007199254740991/],
    ]
    for (const [from, to, re] of cases) {
      expect(good.includes(from), from).toBe(true)
      expect(await stateError(parse(good.replace(from, to), '/s.yaml'))).toMatch(re)
    }
  })
})

describe('changing the state', () => {
  it('a refused write leaves the file byte-identical', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    const before = readFileSync(f)
    const r = await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '0X5\n'))
    expect(r.code).toBe(1)
    expect(readFileSync(f).equals(before)).toBe(true)
  })
  it('a corrupt file is never overwritten', async () => {
    const f = join(tmp(), 'state.yaml')
    writeFileSync(f, 'version: 1\ncurrent: [\n')
    expect(await stateError(mutate(f, () => undefined))).toMatch(/line/)
    expect(readFileSync(f, 'utf8')).toBe('version: 1\ncurrent: [\n')
  })
  it('a refused text never reaches the cache: .nan (null in JSON) is refused on every read, and never overwritten', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => void (w.hosts[0].runtime.configTime = 60))
    const bad = readFileSync(f, 'utf8').replace('config_time: 60', 'config_time: .nan')
    writeFileSync(f, bad)
    for (let i = 0; i < 3; i++) expect(await stateError(load(f))).toMatch(/config_time: expected a whole number/)
    expect(await stateError(mutate(f, (w) => void w.hosts[0].runtime.scans++))).toMatch(/config_time/)
    expect(readFileSync(f, 'utf8')).toBe(bad)
  })
  it('a change that would break a rule between objects is not saved (the next load would refuse it)', async () => {
    const f = join(tmp(), 'state.yaml')
    const U = '11111111-1111-4111-8111-111111111111'
    await mutate(f, (w) => {
      modprobe(w.hosts[0], 'vfio_ap', false)
      hostVfs(w.hosts[0]).write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
    })
    const text = readFileSync(f, 'utf8')
    // A fault of aplab's own: a second mdev with the same UUID pushed behind the kernel's back.
    const msg = await stateError(mutate(f, (w) => void w.hosts[0].runtime.mdevs.push({...w.hosts[0].runtime.mdevs[0], group: 7})))
    expect(msg).toMatch(new RegExp(`^${f}: not saved: the change would break a rule of the kernel \\(hosts\\[0\\]\\.runtime\\.mdevs\\[1\\]`))
    expect(readFileSync(f, 'utf8')).toBe(text)
  })
  it('a change of one mdev among many that breaks a rule with an unchanged one is not saved either (only the changed ones are asked first)', async () => {
    const f = join(tmp(), 'state.yaml')
    const u = (i: number) => `22222222-2222-4222-8222-${String(i).padStart(12, '0')}`
    await mutate(f, (w) => {
      const h = w.hosts[0]
      modprobe(h, 'vfio_ap', false)
      hostVfs(h).write('/sys/bus/ap/apmask', '0x' + '0'.repeat(64))
      hostVfs(h).write('/sys/bus/ap/aqmask', '0x' + '0'.repeat(64))
      for (let i = 0; i < 20; i++) {
        create(h, u(i))
        change(h, u(i), {adapter: [String(i % 4)], domain: [String(4 + (i >> 2))]}, false)
      }
    })
    const text = readFileSync(f, 'utf8')
    const cases: Array<[string, (w: World) => void, RegExp]> = [
      // An APQN of mdev 5 (adapter 1, domain 5) given to mdev 9 in place, behind the kernel's back.
      ['in place', (w) => void (w.hosts[0].runtime.mdevs[9].aqm = Mask.of([5])), /mdevs\[9\]: mdev 22222222-2222-4222-8222-000000000009: APQN 01\.0005 is also assigned to mdev 22222222-2222-4222-8222-000000000005/],
      ['added', (w) => void w.hosts[0].runtime.mdevs.push({...w.hosts[0].runtime.mdevs[3], uuid: u(99), group: 99}), /mdevs\[20\]: mdev 22222222-2222-4222-8222-000000000099: APQN 03\.0004 is also assigned/],
      ['a group', (w) => void (w.hosts[0].runtime.mdevs[2].group = w.hosts[0].runtime.mdevs[12].group), /IOMMU group/],
      ['a shadow', (w) => void (w.hosts[0].runtime.mdevs[4].shadow = {apm: Mask.of([3]), aqm: Mask.empty(), adm: Mask.empty()}), /mdevs\[4\]\.guest_matrix: .*has adapter 0x03, which is not among the mdev's adapters/],
      // An unchanged mdev listed once more: the second is a change.
      ['listed twice', (w) => void w.hosts[0].runtime.mdevs.push(w.hosts[0].runtime.mdevs[3]), /mdevs\[20\]\.uuid: mdev 22222222-2222-4222-8222-000000000003 is listed twice/],
    ]
    for (const [what, edit, message] of cases) {
      expect(await stateError(mutate(f, edit)), what).toMatch(message)
      expect(readFileSync(f, 'utf8'), what).toBe(text)
    }
    // One removed, one changed within the rules: saved.
    await mutate(f, (w) => {
      const list = w.hosts[0].runtime.mdevs
      list.splice(7, 1)
      list[0].aqm = list[0].aqm.with(0x40)
    })
    expect((await load(f)).hosts[0].runtime.mdevs.map((m) => m.uuid)).toHaveLength(19)
  })

  it('a change of mdevs no running guest has open is asked only the rules of the mdevs; anything else beside it, every rule', async () => {
    const f = join(tmp(), 'state.yaml')
    const large = await largeWorld()
    // A cache past LARGE: its guests are read only when a command uses them.
    large.hosts[0].persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(20000)
    await replace(f, large, false)
    // APQN fe.00fe reserved for the host's drivers (no mdev has it).
    const reserved = {a: 0xfe, d: 0xfe}
    await mutate(f, (w) => void Object.assign(w.hosts[0].runtime, {apmask: w.hosts[0].runtime.apmask.with(0xfe), aqmask: w.hosts[0].runtime.aqmask.with(0xfe)}))
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250001))
    const text = readFileSync(f, 'utf8')
    const fresh = (w: World, uuid: string, a: number, d: number) => {
      const m = w.hosts[0].runtime.mdevs[0]
      w.hosts[0].runtime.mdevs.push({...m, uuid, apm: Mask.of([a]), aqm: Mask.of([d]), adm: Mask.empty(), shadow: {apm: Mask.empty(), aqm: Mask.empty(), adm: Mask.empty()}, group: 500})
    }
    const V = '44444444-4444-4444-8444-444444444444'
    const cases: Array<[string, (w: World) => void, RegExp]> = [
      // An APQN of mdev 3 (adapter 3, domain 0): the mdevs' rules still see it.
      ['an APQN taken', (w) => fresh(w, V, 3, 0), /mdevs\[40\]: mdev 44444444-4444-4444-8444-444444444444: APQN 03\.0000 is also assigned to mdev/],
      // A guest's rule broken beside a new mdev: every rule is asked.
      ['a guest beside', (w) => (fresh(w, V, 0xf0, 0xf0), void (w.hosts[0].guests[0].device!.uuid = '55555555-5555-4555-8555-555555555555')), /guests\[0\]\.device\.uuid: guest 'guest0' runs with mdev 55555555-5555-4555-8555-555555555555/],
      // The host's masks changed beside it: an mdev's APQN reserved for the host's drivers.
      ['a mask beside', (w) => (fresh(w, V, 0xf0, 0xf0), void Object.assign(w.hosts[0].runtime, {apmask: Mask.of([0xf0]), aqmask: Mask.of([0xf0])})), /mdevs\[40\]: mdev 44444444-4444-4444-8444-444444444444: APQN f0\.00f0 is reserved for the host's drivers/],
      // The UUID of one read, a new object: not new.
      ['a UUID again', (w) => fresh(w, w.hosts[0].runtime.mdevs[7].uuid, 0xf1, 0xf1), /is listed twice/],
      // The host as read, and a new mdev alone with an APQN it reserves for its drivers: only the
      // new ones are asked the rules against the host, and this one breaks one.
      ['an APQN of the host', (w) => fresh(w, V, reserved.a, reserved.d), /mdevs\[40\]: mdev 44444444-4444-4444-8444-444444444444: APQN .* is reserved for the host's drivers/],
      // Two new ones, the second's shadow outside its matrix.
      ['a shadow', (w) => {
        fresh(w, V, 0xf0, 0xf0)
        fresh(w, '66666666-6666-4666-8666-666666666666', 0xf2, 0xf2)
        w.hosts[0].runtime.mdevs[41].group = 501
        w.hosts[0].runtime.mdevs[41].shadow = {apm: Mask.of([0xf3]), aqm: Mask.empty(), adm: Mask.empty()}
      }, /mdevs\[41\]\.guest_matrix: .*has adapter 0xf3, which is not among the mdev's adapters/],
      // The mdev a running guest has open, gone behind the kernel's back (removing it unplugs it first).
      ['an open mdev gone', (w) => void w.hosts[0].runtime.mdevs.splice(w.hosts[0].runtime.mdevs.findIndex((m) => m.uuid === w.hosts[0].guests[2].device!.uuid), 1), /guests\[2\]\.device\.uuid: guest 'guest2' runs with mdev [0-9a-f-]+, which host 'host0' does not have/],
      // The same without reading the guests: their data is asked for the UUID.
      ['an open mdev gone, the guests not read', (w) => void w.hosts[0].runtime.mdevs.splice(w.hosts[0].runtime.mdevs.findIndex((m) => m.uuid === uuid(2)), 1), /guests\[2\]\.device\.uuid: guest 'guest2' runs with mdev b16b0000-0000-4000-8000-000000000002, which host 'host0' does not have/],
      // One no guest has open, given an APQN of another in place.
      ['an mdev changed', (w) => void Object.assign(w.hosts[0].runtime.mdevs[25], {apm: Mask.of([3]), aqm: Mask.of([0])}), /mdevs\[25\]: mdev [0-9a-f-]+: APQN 03\.0000 is also assigned to mdev/],
      // One gone and one changed, and the host's masks beside them.
      ['a mask beside a removal', (w) => (w.hosts[0].runtime.mdevs.splice(30, 1), void Object.assign(w.hosts[0].runtime, {apmask: Mask.of([0x27]), aqmask: Mask.of([0x04])})), /APQN 27\.0004 is reserved for the host's drivers/],
    ]
    for (const [what, edit, message] of cases) {
      expect(await stateError(mutate(f, edit)), what).toMatch(message)
      expect(readFileSync(f, 'utf8'), what).toBe(text)
    }
    // A new mdev within the rules: saved, and the guests' kernels are as they were.
    const guests = JSON.stringify((await load(f)).hosts[0].guests.map((g) => g.runtime))
    await mutate(f, (w) => fresh(w, V, 0xf0, 0xf0))
    const w = await load(f)
    expect(w.hosts[0].runtime.mdevs.map((m) => m.uuid)).toContain(V)
    expect(JSON.stringify(w.hosts[0].guests.map((g) => g.runtime))).toBe(guests)
    // One no guest has open removed and another changed within the rules: saved, the guests as they were.
    const gone = w.hosts[0].runtime.mdevs[30].uuid
    await mutate(f, (w) => (w.hosts[0].runtime.mdevs.splice(30, 1), void (w.hosts[0].runtime.mdevs[31].adm = w.hosts[0].runtime.mdevs[31].adm.with(0x50))))
    const after = await load(f)
    expect(after.hosts[0].runtime.mdevs.map((m) => m.uuid)).not.toContain(gone)
    expect(after.hosts[0].runtime.mdevs[31].adm.has(0x50)).toBe(true)
    expect(JSON.stringify(after.hosts[0].guests.map((g) => g.runtime))).toBe(guests)
    expect(await serialize(after)).toBe(readFileSync(f, 'utf8'))
  })

  it('what a change unplugs from a running guest is forgotten before the state is written', async () => {
    const f = join(tmp(), 'state.yaml')
    const U = '11111111-1111-4111-8111-111111111111'
    const M = `/sys/devices/vfio_ap/matrix/${U}`
    await mutate(f, (w) => {
      const h = w.hosts[0]
      const v = hostVfs(h)
      v.write('/sys/bus/ap/apmask', '-0,-1\n')
      v.write('/sys/bus/ap/aqmask', '-6\n')
      modprobe(h, 'vfio_ap', false)
      v.write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
      v.write(`${M}/assign_adapter`, '0\n')
      v.write(`${M}/assign_adapter`, '1\n')
      v.write(`${M}/assign_domain`, '6\n')
      const all = {ap: true, apqci: true, apft: true, apqi: true}
      const g = startGuest(w, h, {name: 'g', managed: 'qemu', autostart: false, args: [], cpuModel: 'host', features: all, devices: [{id: 'd', sysfsdev: M, uuid: U}]})
      g.runtime.offline.push('card01', '01.0006', '00.0006')
    })
    await mutate(f, (w) => hostVfs(w.hosts[0]).write(`${M}/unassign_adapter`, '1\n'))
    expect((await load(f)).hosts[0].guests[0].runtime.offline).toEqual(['00.0006'])
  })
  it('a vfio-ap device started without id= is stored without one and read back', async () => {
    const f = join(tmp(), 'state.yaml')
    const U = '11111111-1111-4111-8111-111111111111'
    await mutate(f, (w) => {
      const h = w.hosts[0]
      modprobe(h, 'vfio_ap', false)
      hostVfs(h).write('/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/create', U)
      const all = {ap: true, apqci: true, apft: true, apqi: true}
      startGuest(w, h, {name: 'g', managed: 'qemu', autostart: false, args: [], cpuModel: 'host', features: all, devices: [{id: '', sysfsdev: `/sys/bus/mdev/devices/${U}`, uuid: U}]})
    })
    expect(readFileSync(f, 'utf8')).toMatch(/\n +device:\n +uuid: 1{8}-/)
    expect((await load(f)).hosts[0].guests[0].device).toEqual({id: '', uuid: U, sysfsdev: `/sys/bus/mdev/devices/${U}`})
  })
  it('the CCW blacklist is stored only when writes changed it from what booting gives', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    expect(readFileSync(f, 'utf8')).not.toContain('cio_ignore:')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/proc/cio_ignore', 'free 0.0.1234\n'))
    expect(readFileSync(f, 'utf8')).toContain('cio_ignore:\n        - 0.0.0000-0.0.1233\n        - 0.0.1235-0.0.5bff\n')
    expect(hostVfs((await load(f)).hosts[0]).read('/proc/cio_ignore')).toMatch(/^0\.0\.0000-0\.0\.1233\n0\.0\.1235-0\.0\.5bff\n/)
  })
  it('a change that changes nothing does not create the file', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, () => undefined)
    expect(existsSync(f)).toBe(false)
  })
})

describe('odd places and odd texts', () => {
  it('two paths to one file share one lock; /proc is no place for a state; aliases are named errors', async () => {
    const d = tmp()
    const f = join(d, 'real.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    symlinkSync(f, join(d, 'link.yaml'))
    await mutate(join(d, 'link.yaml'), () => {
      expect(existsSync(`${f}.lock`)).toBe(true)
    })
    expect(await stateError(mutate('/proc/aplab-x/s.yaml', () => undefined))).toMatch(/cannot live under \/proc/)
    writeFileSync(f, 'x: &a [1]\ncurrent: *nope\n')
    expect(await stateError(load(f))).toMatch(/^.*real\.yaml: Unresolved alias/)
  })
})

describe('the parse cache beside the state file', () => {
  const cache = (f: string) => join(dirname(f), `.${basename(f)}.cache`)
  it('is written with the state and used only for the very same text', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    // The cache holds a hash of the text, not the text: the data, and where the text's entries
    // are (the spans, which the next write copies from) and its lists in the data (the parts).
    const sha = (t: string) => textHash(t)
    const c = JSON.parse(readFileSync(cache(f), 'utf8'))
    expect(Object.keys(c).sort()).toEqual(['body', 'build', 'data', 'hash', 'parts', 'schema', 'size', 'spans'])
    expect(c.hash).toBe(sha(readFileSync(f, 'utf8')))
    expect(readFileSync(cache(f), 'utf8')).not.toContain('# aplab state')
    // What the cache gives is what parsing the YAML gives.
    const viaCache = await serialize(await load(f))
    expect(viaCache).toBe(await serialize(await parse(readFileSync(f, 'utf8'), f)))
    expect(viaCache).toBe(readFileSync(f, 'utf8'))
    // A cache that lies about another text is ignored: the hand edit is what counts.
    writeFileSync(f, readFileSync(f, 'utf8').replace('ap_domain: 4', 'ap_domain: 5'))
    expect((await load(f)).hosts[0].runtime.domain).toBe(5)
    expect(JSON.parse(readFileSync(cache(f), 'utf8')).hash).toBe(sha(readFileSync(f, 'utf8')))
    expect(JSON.parse(readFileSync(cache(f), 'utf8')).data.hosts[0].runtime.ap_domain).toBe(5)
  })
  it("is checked against the kernel's rules again unless this very build wrote it; a hand edit never goes through it", async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    // The cache a read writes (a write's has the text's spans too).
    rmSync(cache(f))
    await load(f)
    const written = JSON.parse(readFileSync(cache(f), 'utf8'))
    expect(typeof written.build).toBe('string')
    // The same text, and data that breaks a rule between objects (no host of that name), with
    // the hash of all after the head as an aplab writes it: believed from this build, which
    // checked what it wrote...
    const data = {...written.data, current: 'nohost'}
    const forge = (build: unknown, body = (rest: string) => bodyHash(Buffer.from(rest))) => {
      const rest = JSON.stringify(data) + '}'
      const head = JSON.stringify({schema: written.schema, build, hash: written.hash, body: body(rest), size: JSON.stringify(data).length, data: null}).slice(0, -5)
      writeFileSync(cache(f), head + rest)
    }
    forge(written.build)
    expect((await load(f)).current).toBe('nohost')
    // ...but only while that hash is right (else it is a hand on the cache: no cache).
    forge(written.build, () => written.body)
    expect((await load(f)).current).toBe('host0')
    forge(written.build, () => '')
    expect((await load(f)).current).toBe('host0')
    // ...checked as the YAML would be from another build (an older or a newer aplab): data
    // that fails is no cache (the YAML is read, and says what is wrong if anything), and replaced.
    for (const other of ['another build', undefined]) {
      forge(other)
      expect((await load(f)).current).toBe('host0')
      expect(JSON.parse(readFileSync(cache(f), 'utf8'))).toEqual(written)
    }
    writeFileSync(cache(f), JSON.stringify({...written, build: 'another build'}))
    expect((await load(f)).current).toBe('host0')
    expect(JSON.parse(readFileSync(cache(f), 'utf8'))).toEqual(written)
    // A hand edit of the text is parsed and checked, whatever the cache says.
    forge(written.build)
    writeFileSync(f, readFileSync(f, 'utf8').replace('current: host0', 'current: nohost'))
    expect(await stateError(load(f))).toBe(`${f}: current: no host is named 'nohost'`)
  })
  it("a large state's cache is used only while all after its head is what this build wrote", async () => {
    const f = join(tmp(), 'state.yaml')
    const world = await largeWorld()
    world.hosts[0].persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(5000)
    await replace(f, world, false)
    const text = readFileSync(cache(f), 'utf8')
    expect(JSON.parse(text).body).toMatch(/^[0-9a-f]{32}$/)
    // A hand on the cache that still reads, as long as what it replaces: no cache, the YAML is read.
    writeFileSync(cache(f), text.replace('"poll_timeout":250000', '"poll_timeout":250001'))
    expect((await load(f)).hosts[0].runtime.pollTimeout).toBe(250000)
    // Read as this build wrote it again (the YAML was read, and the cache written anew).
    expect(readFileSync(cache(f), 'utf8')).not.toContain('250001')
  })
  it("a large cache's spans that are not what this build writes (a hand that kept its hash right) cost a write its copying, never the write", async () => {
    const f = join(tmp(), 'state.yaml')
    await replace(f, await largeWorld(), false)
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250001))
    const text = readFileSync(cache(f), 'utf8')
    const state = readFileSync(f, 'utf8')
    const base = await parse(state, f)
    const head = JSON.parse(text.slice(0, text.indexOf(',"data":')) + '}')
    expect(text).toContain(',"spans":{')
    const reseal = (body: string) => {
      const rest = body.slice(body.indexOf(',"data":') + 8)
      writeFileSync(cache(f), body.replace(`"body":"${head.body}"`, `"body":"${bodyHash(Buffer.from(rest))}"`))
    }
    const spans = text.slice(text.indexOf(',"spans":') + 9, text.lastIndexOf(',"parts":'))
    // Every collection's offsets out of order, past the text or not numbers: each is read when a
    // write first copies from it, and is then none (what it would have copied is written anew).
    const every = (f: (v: string) => string) => {
      const all = JSON.parse(spans) as Record<string, string>
      return JSON.stringify(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, f(v)])))
    }
    for (const bad of [
      '{]',
      '{"x":[1]}',
      '{"[\\"hosts\\"]":[5,3]}',
      '{"[\\"hosts\\"]":[0,99999999]}',
      '{"[\\"hosts\\"]":"5,3"}',
      '{"[\\"hosts\\"]":7}',
      '[]',
      // Offsets from the base reversed, past the text, not numbers; a base past the text; no base.
      every((v) => v.replace(/;(.*)$/, (_, r: string) => ';' + r.split(',').reverse().join(','))),
      every((v) => (v === '' ? v : v + ',99999999,99999999')),
      every((v) => v.replace(/\d/g, 'x')),
      every((v) => v.replace(/^\d+;/, '99999999;')),
      every((v) => v.replace(/^\d+;/, '')),
    ]) {
      // The text the cache was made for, and the cache with these spans.
      writeFileSync(f, state)
      reseal(text.replace(`,"spans":${spans},"parts":`, `,"spans":${bad},"parts":`))
      const t = 250002 + bad.length
      await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = t))
      const written = readFileSync(f, 'utf8')
      rmSync(cache(f))
      const w = await load(f)
      expect(w.hosts[0].runtime.pollTimeout, bad).toBe(t)
      expect(written, bad).toBe(await serialize(w))
      // What a whole write of the state with that change gives.
      base.hosts[0].runtime.pollTimeout = t
      expect(written, bad).toBe(await serialize(base))
    }
    // A key between the spans and the parts (an older or newer tail): read whole, as before.
    reseal(text.replace(',"parts":', ',"x":1,"parts":'))
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250100))
    expect((await load(f)).hosts[0].runtime.pollTimeout).toBe(250100)
  })
  it("data of this build's that is not what it writes (a hand on the cache) is no cache", async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    const written = JSON.parse(readFileSync(cache(f), 'utf8'))
    const data = structuredClone(written.data)
    data.hosts[0].runtime.mdevs = [{uuid: 5}]
    // As this build would have written it (its data's size given), and as another would.
    for (const size of [JSON.stringify(data).length, written.size]) {
      writeFileSync(cache(f), JSON.stringify({...written, size, data}))
      const w = await load(f)
      expect(w.hosts[0].runtime.mdevs).toEqual([])
      expect(w.hosts[0].runtime.apmask.has(1)).toBe(false)
    }
  })
  it('a hand on a small cache, even one that keeps its length, is no cache: the YAML is what counts', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    const text = readFileSync(cache(f), 'utf8')
    expect(Buffer.byteLength(text)).toBeLessThan(LARGE)
    const head = JSON.parse(text)
    const timeout = `"poll_timeout":${head.data.hosts[0].runtime.poll_timeout}`
    expect(timeout).toBe('"poll_timeout":250000')
    const edits = [
      // A value of the same length, of a type no YAML would give, and one that still reads.
      (t: string) => t.replace(timeout, '"poll_timeout":"2500"'),
      (t: string) => t.replace(timeout, '"poll_timeout":250001'),
      // The same, as another build's (its data is checked, never compared with the YAML).
      (t: string) => t.replace(timeout, '"poll_timeout":250001').replace(/"build":"[^"]*"/, '"build":"another build"'),
      // Reformatted (no longer this build's form), with the same edit.
      (t: string) => JSON.stringify(JSON.parse(t.replace(timeout, '"poll_timeout":250001')), null, 1),
    ]
    for (const edit of edits) {
      const edited = edit(text)
      expect(edited).not.toBe(text)
      writeFileSync(cache(f), edited)
      expect((await load(f)).hosts[0].runtime.pollTimeout).toBe(250000)
      // A change then writes what the YAML said, and a cache of it.
      writeFileSync(cache(f), edited)
      await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '+1\n'))
      expect(readFileSync(cache(f), 'utf8')).not.toMatch(/"poll_timeout":("2500"|250001)/)
      expect((await load(f)).hosts[0].runtime.pollTimeout).toBe(250000)
      await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    }
  })
  it('a broken cache is no cache, and a hand edit with a mistake is still reported', async () => {
    const f = join(tmp(), 'state.yaml')
    await mutate(f, (w) => echo(hostVfs(w.hosts[0]), '/sys/bus/ap/apmask', '-1\n'))
    writeFileSync(cache(f), '{not json')
    expect((await load(f)).hosts[0].runtime.apmask.has(1)).toBe(false)
    writeFileSync(f, readFileSync(f, 'utf8').replace('ap_domain: 4', 'ap_domain: many'))
    expect(await stateError(load(f))).toMatch(/ap_domain/)
  })
})

const uuid = (i: number) => `b16b0000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`

/** A max host with 40 mdevs defined and started and 20 guests running. */
async function largeWorld() {
  const {world, host} = maxWorldForMdevs()
  for (let i = 0; i < 40; i++) {
    create(host, uuid(i))
    change(host, uuid(i), {adapter: [String(i)], domain: [String(i >> 3)], 'control-domain': [String(i >> 3)]}, false)
    expect((await mdevctlOnHost(host, ['define', '-u', uuid(i), '--auto'])).code).toBe(0)
    if (i < 20) start(world, host, `guest${i}`, ['-cpu', 'host,ap=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${uuid(i)},id=vfio${i}`], {libvirt: false, autostart: false, uid: 0})
  }
  return world
}

/** largeWorld with every optional field of the state set somewhere (guest kernels' records, processes, libvirt, firmware state). */
async function variedWorld() {
  const w = await largeWorld()
  const h = w.hosts[0]
  const [g0, g1] = h.guests
  Object.assign(g0.runtime, {offline: ['05.0004'], unbound: ['card05'], counters: {'05.0004': {requestq: 1, requests: 3}, card05: {requests: 2}}, dmesg: [{t: 5, level: 4, facility: 0, msg: 'a b  c'}, {t: 7, level: 5, facility: 3, msg: 'daemon <x>'}], cioIgnore: [[5, 9]]})
  g0.process = {pid: 5, start: '17', boot: 'b00t', host: 'there'}
  g0.runState = 'paused'
  g0.device = {...g0.device!, id: ''}
  Object.assign(g1, {running: false, autostart: true, managed: 'libvirt', features: {...g1.features, apqi: false}})
  Object.assign(h.lpar.adapters[0], {ep11: {api: 1, fw: '1.2', opModes: 'x'}, serial: 'S1', functions: 0x92800000, rawType: 15, depth: 4, maxMsgSize: 1024, configured: false, checkstopped: true})
  h.lpar.adapters[1].ep11 = {}
  h.lpar.queues['00.0001'] = {functions: 1, mk: {aes: '0x' + '1'.repeat(16), asym: '0x' + '2'.repeat(32)}, wk: '0x' + '3'.repeat(64), assoc: 3}
  h.lpar.queues['00.0002'] = {}
  h.runtime.cmdline = `${h.persistent.cmdline} quiet`
  h.runtime.counters = {card01: {requests: 9}}
  h.libvirt = {nextId: 3, domains: [{name: 'd', uuid: uuid(999), config: '<domain/>', autostart: false, live: {id: 2, xml: '<domain/>', seq: 1}, reason: 'booted'}]}
  return w
}

describe("the cache's own data", () => {
  it('is read as any data is, and written again as it was until it changes', async () => {
    const json = (w: World) => JSON.parse(JSON.stringify(worldToData(w)))
    for (const w of [...PRESETS.map((p) => newWorld(p.name)), await largeWorld(), await variedWorld()]) {
      // The data of a state read (its fields in the readers' order, as every write after a read has them).
      const data = json(readWorld(json(w)))
      // Its large lists not read yet are written as the very data they would be read from.
      const untouched = worldToData(readWorld(data, true, true)) as typeof data
      untouched.hosts.forEach((h: typeof data, i: number) => {
        const d = data.hosts[i]
        expect(h.persistent.files).toBe(d.persistent.files)
        if (d.runtime.mdevs.length > 0) expect(h.runtime.mdevs).toBe(d.runtime.mdevs)
        if (d.guests !== undefined) expect(h.guests).toBe(d.guests)
      })
      // Read and unchanged: the lists are still the very data read (whole, so the writer copies them whole).
      const read = readWorld(data, true, true)
      expect(read.hosts.every((h) => h.runtime.mdevs.length >= 0 && h.guests.length >= 0)).toBe(true)
      const again = worldToData(read) as typeof data
      read.hosts.forEach((h, i) => {
        expect(again.hosts[i].lpar.adapters).toBe(data.hosts[i].lpar.adapters)
        if (h.runtime.mdevs.length > 0) expect(again.hosts[i].runtime.mdevs).toBe(data.hosts[i].runtime.mdevs)
        if (h.guests.length > 0) expect(again.hosts[i].guests).toBe(data.hosts[i].guests)
      })
      const world = readWorld(data, true, true)
      expect(world).toStrictEqual(readWorld(data))
      expect(readWorld(data, true)).toStrictEqual(readWorld(data))
      expect(worldToData(world)).toEqual(data)
      for (const m of world.hosts[0].runtime.mdevs) {
        m.group += 1000
        m.shadow.adm = m.shadow.adm.with(200)
      }
      expect(worldToData(world)).toEqual(worldToData(readWorld(JSON.parse(JSON.stringify(worldToData(world))))))
      expect(JSON.stringify(worldToData(world)) === JSON.stringify(data)).toBe(world.hosts[0].runtime.mdevs.length === 0)
    }
  })
})

describe('guests whose process is gone', () => {
  it('are presented stopped when the state is read through its cache, and only they', async () => {
    const f = join(tmp(), 'state.yaml')
    const world = await largeWorld()
    world.hosts[0].guests[3].process = {pid: 2 ** 31 - 2, start: '1', host: hostname()}
    world.hosts[0].guests[4].process = {pid: process.pid, host: hostname()}
    // Large enough for the large hash.
    world.hosts[0].persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(5000)
    await replace(f, world, false)
    // The cache of a large state: the hash in its head is of all after the head (the large hash).
    const bytes = readFileSync(join(dirname(f), `.${basename(f)}.cache`))
    const c = JSON.parse(bytes.toString())
    const head = bytes.indexOf('"data":') + '"data":'.length
    expect(bytes.length - head).toBeGreaterThanOrEqual(LARGE)
    expect(c.body).toBe(bodyHash(bytes.subarray(head)))
    expect(c.body).toBe(textHash(bytes.subarray(head)))
    expect(c.body).toMatch(/^[0-9a-f]{32}$/)
    // It says where its data's large lists are (read when first used, written back as read).
    const json = bytes.subarray(head, head + c.size).toString()
    expect(c.parts.map((p: [unknown[], number, number]) => p[0])).toEqual([
      ['hosts', 0, 'persistent', 'files'],
      ['hosts', 0, 'runtime', 'mdevs'],
      ['hosts', 0, 'guests'],
    ])
    for (const [place, start, end] of c.parts as Array<[Array<string | number>, number, number]>)
      expect(JSON.parse(json.slice(start, end))).toEqual(place.reduce((o: unknown, k) => (o as Record<string | number, unknown>)[k], c.data))
    expect(await serialize(await load(f))).toBe(await serialize(await endGuestsOfDeadProcesses(await parse(readFileSync(f, 'utf8'), f))))
    const w = await load(f)
    expect(w.hosts[0].guests.map((g) => g.running)).toEqual(world.hosts[0].guests.map((_, j) => j !== 3))
    // Without a guest that has a process, the guests are not read to tell.
    const none = await largeWorld()
    await replace(f, none, true)
    expect((await load(f)).hosts[0].guests.every((g) => g.running && g.process === undefined)).toBe(true)
  })
})

describe("an adapter of the cache's own data", () => {
  const edits: Array<(a: Adapter) => void> = [
    (a) => (a.id = 200),
    (a) => (a.gen = a.gen === 7 ? 8 : 7),
    (a) => (a.mode = a.mode === 'cca' ? 'ep11' : 'cca'),
    (a) => (a.rawType = a.rawType === undefined ? 15 : undefined),
    (a) => (a.functions = a.functions === undefined ? 0x92800000 : undefined),
    (a) => a.functions !== undefined && (a.functions += 1),
    (a) => (a.depth = a.depth === 8 ? 4 : 8),
    (a) => (a.maxMsgSize = a.maxMsgSize === 12288 ? 4096 : 12288),
    (a) => (a.serial = a.serial === undefined ? 'S9' : undefined),
    (a) => (a.configured = !a.configured),
    (a) => (a.checkstopped = !a.checkstopped),
    (a) => (a.ep11 = a.ep11 === undefined ? {} : undefined),
    (a) => (a.ep11 = {...a.ep11, api: 7}),
    (a) => (a.ep11 = {...a.ep11, fw: '9.9'}),
    (a) => (a.ep11 = {...a.ep11, opModes: 'y'}),
  ]

  it('is written as the data it was read from while unchanged, and as a whole read gives it after any change', async () => {
    const w = readWorld(JSON.parse(JSON.stringify(worldToData(await variedWorld()))))
    const data = JSON.parse(JSON.stringify(worldToData(w)))
    const out = worldToData(readWorld(data, true, true)) as {hosts: Array<{lpar: {adapters: unknown[]}}>}
    out.hosts[0].lpar.adapters.forEach((a, i) => expect(a).toBe(data.hosts[0].lpar.adapters[i]))
    let changed = 0
    for (const [k, edit] of edits.entries())
      for (const i of [0, 1, 2]) {
        const lazy = readWorld(data, true, true)
        const eager = readWorld(JSON.parse(JSON.stringify(data)))
        edit(lazy.hosts[0].lpar.adapters[i])
        edit(eager.hosts[0].lpar.adapters[i])
        const got = JSON.stringify(worldToData(lazy))
        expect(got, `edit ${k} of adapter ${i}`).toBe(JSON.stringify(worldToData(eager)))
        if (got !== JSON.stringify(data)) changed++
      }
    expect(changed).toBeGreaterThan(2 * edits.length)
  })
})

describe("a guest of the cache's own data", () => {
  // Each edit of one guest (of its own fields, or of its kernel's).
  const edits: Array<(g: Guest) => void> = [
    (g) => (g.name += 'x'),
    (g) => (g.managed = g.managed === 'qemu' ? 'libvirt' : 'qemu'),
    (g) => (g.autostart = !g.autostart),
    (g) => (g.running = !g.running),
    (g) => g.args.push('-nographic'),
    (g) => (g.args[0] = '-smp'),
    (g) => (g.cpuModel = 'z16'),
    (g) => (g.features.apft = !g.features.apft),
    (g) => (g.device = null),
    (g) => (g.device = {id: g.device?.id ? '' : 'vfio9', uuid: uuid(7), sysfsdev: '/sys/bus/mdev/devices/x'}),
    (g) => g.device && (g.device.sysfsdev += '/'),
    (g) => (g.process = g.process ? undefined : {pid: 9, host: 'h'}),
    (g) => g.process && (g.process.pid += 1),
    (g) => (g.runtime.cmdline = 'root=/dev/vda2'),
    (g) => (g.runtime.apmask = g.runtime.apmask.with(3)),
    (g) => (g.runtime.aqmask = g.runtime.aqmask.without(0)),
    (g) => (g.runtime.domain = 7),
    (g) => (g.runtime.configTime = 60),
    (g) => (g.runtime.pollThread = !g.runtime.pollThread),
    (g) => (g.runtime.pollTimeout += 1),
    (g) => (g.runtime.useirq = !g.runtime.useirq),
    (g) => (g.runtime.scans += 1),
    (g) => (g.runtime.bootTime += 1),
    (g) => g.runtime.modules.push('vfio_ap'),
    (g) => g.runtime.offline.push('card00', '00.0000'),
    (g) => (g.runtime.offline = [...g.runtime.offline].reverse()),
    (g) => g.runtime.unbound.push('00.0001'),
    (g) => (g.runtime.counters['00.0003'] = {requests: 1}),
    (g) => Object.values(g.runtime.counters).forEach((c) => (c.requests = (c.requests ?? 0) + 1)),
    (g) => (g.runtime.counters = {}),
    (g) => (g.runtime.cioIgnore = [[1, 2]]),
    (g) => (g.runtime.cioIgnore = []),
    (g) => g.runtime.dmesg.push({t: 1.6, level: 6, facility: 0, msg: 'hello'}),
    (g) => g.runtime.dmesg.length > 0 && (g.runtime.dmesg[0].msg += '!'),
    (g) => g.runtime.dmesg.length > 0 && (g.runtime.dmesg[0].level = 3),
    (g) => g.runtime.dmesg.length > 0 && (g.runtime.dmesg[0].facility = 1),
    (g) => (g.runState = g.runState === undefined ? 'prelaunch' : undefined),
    (g) => g.runState && (g.runState = g.runState === 'paused' ? 'prelaunch' : 'paused'),
  ]

  it('is written as the data it was read from while unchanged, and as a whole read gives it after any change', async () => {
    // The data of a state read (its counters' fields in the reader's order, as every write has them).
    const w = readWorld(JSON.parse(JSON.stringify(worldToData(await variedWorld()))))
    const data = JSON.parse(JSON.stringify(worldToData(w)))
    const read = readWorld(data, true, true)
    const out = worldToData(read) as {hosts: Array<{guests: unknown[]}>}
    out.hosts[0].guests.forEach((g, j) => expect(g).toBe(data.hosts[0].guests[j]))
    let changed = 0
    for (const [k, edit] of edits.entries())
      for (const j of [0, 1, 2]) {
        const lazy = readWorld(data, true, true)
        const eager = readWorld(JSON.parse(JSON.stringify(data)))
        edit(lazy.hosts[0].guests[j])
        edit(eager.hosts[0].guests[j])
        const got = JSON.stringify(worldToData(lazy))
        expect(got, `edit ${k} of guest ${j}`).toBe(JSON.stringify(worldToData(eager)))
        if (got !== JSON.stringify(data)) changed++
      }
    // Not a test that passes because no edit changes anything (a stopped guest writes no process).
    expect(changed).toBeGreaterThan(2 * edits.length)
  })
})

describe('a large state written over the text before', () => {
  const cache = (f: string) => join(dirname(f), `.${basename(f)}.cache`)
  it('is what a whole write gives after every kind of change, and a change that breaks a rule is still refused', async () => {
    const f = join(tmp(), 'state.yaml')
    const world = await largeWorld()
    await replace(f, world, false)
    const whole = async () => {
      const text = readFileSync(f, 'utf8')
      expect(text).toBe(await serialize(await parse(text, f)))
      expect(await serialize(await load(f))).toBe(text)
    }
    expect(readFileSync(f, 'utf8').length).toBeGreaterThan(32 * 1024)
    expect(Object.keys(JSON.parse(readFileSync(cache(f), 'utf8')))).toContain('spans')
    const changes: Array<(w: typeof world) => unknown> = [
      (w) => hostVfs(w.hosts[0]).write('/sys/bus/ap/poll_timeout', '300000'),
      (w) => remove(w.hosts[0], uuid(30)),
      (w) => stop(w, 'guest3'),
      (w) => change(w.hosts[0], uuid(35), {domain: ['200']}, false),
      (w) => mdevctlOnHost(w.hosts[0], ['undefine', '-u', uuid(31)]),
      (w) => create(w.hosts[0], uuid(99)),
      (w) => void (w.current = w.hosts[0].name),
      (w) => hostVfs(w.hosts[0]).write('/sys/bus/ap/scans', '1'),
    ]
    for (const c of changes) {
      await mutate(f, c)
      await whole()
    }
    // What a change unplugs from a running guest is forgotten before the state is written.
    await mutate(f, (w) => void w.hosts[0].guests[0].runtime.offline.push('card00', '00.0000'))
    await whole()
    expect((await load(f)).hosts[0].guests[0].runtime.offline).toEqual(['00.0000', 'card00'])
    await mutate(f, (w) => change(w.hosts[0], uuid(0), {adapter: ['0']}, true))
    await whole()
    expect((await load(f)).hosts[0].guests[0].runtime.offline).toEqual([])
    // A change that breaks a rule between objects, beside one no rule reads: not saved.
    const text = readFileSync(f, 'utf8')
    const msg = await stateError(
      mutate(f, (w) => {
        w.hosts[0].runtime.pollTimeout = 1000
        w.hosts[0].runtime.mdevs.push({...w.hosts[0].runtime.mdevs[0], group: 7777})
      }),
    )
    expect(msg).toMatch(new RegExp(`^${f}: not saved: the change would break a rule of the kernel \\(hosts\\[0\\]\\.runtime\\.mdevs\\[\\d+\\]`))
    expect(readFileSync(f, 'utf8')).toBe(text)
    // The mdevs as read, unchanged, and a change of the host's that breaks a rule of theirs
    // (their APQNs reserved for the host's drivers): not saved either.
    const reserve = await stateError(
      mutate(f, (w) => {
        w.hosts[0].runtime.apmask = Mask.full()
        w.hosts[0].runtime.aqmask = Mask.full()
      }),
    )
    expect(reserve).toMatch(new RegExp(`^${f}: not saved: the change would break a rule of the kernel \\(hosts\\[0\\]\\.runtime\\.mdevs\\[\\d+\\]: mdev [0-9a-f-]+: APQN .* is reserved for the host's drivers by apmask and aqmask\\)$`))
    expect(readFileSync(f, 'utf8')).toBe(text)
  })
})

describe('a state with text beyond ASCII', () => {
  const cache = (f: string) => join(dirname(f), `.${basename(f)}.cache`)
  it('is written as UTF-8 piece by piece, copied from the text before and read back the same', async () => {
    const f = join(tmp(), 'state.yaml')
    const world = await largeWorld()
    const odd = 'caf\u00e9 \u20ac 5 \u{1f600} \u00fcber\n'
    world.hosts[0].persistent.files['/etc/aplab-test-odd'] = odd
    world.hosts[0].persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(20000)
    await replace(f, world, false)
    for (const t of [250001, 250002]) {
      await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = t))
      const bytes = readFileSync(f)
      const text = bytes.toString('utf8')
      expect(Buffer.from(text, 'utf8').equals(bytes)).toBe(true)
      expect(text).toBe(await serialize(await parse(text, f)))
      expect(await serialize(await load(f))).toBe(text)
      expect(JSON.parse(readFileSync(cache(f), 'utf8')).data.hosts[0].persistent.files['/etc/aplab-test-odd']).toBe(odd)
    }
    // A change of the file itself, and one after it.
    await mutate(f, (w) => void (w.hosts[0].persistent.files['/etc/aplab-test-odd'] = odd + '\u00e9\u00e9\n'))
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250003))
    rmSync(cache(f))
    const w = await load(f)
    expect(w.hosts[0].persistent.files['/etc/aplab-test-odd']).toBe(odd + '\u00e9\u00e9\n')
    expect(w.hosts[0].runtime.pollTimeout).toBe(250003)
    expect(await serialize(w)).toBe(readFileSync(f, 'utf8'))
  })
})

describe('mdevs as read for another host', () => {
  it('are not taken as kept: swapped between hosts, they are asked every rule against their new host', async () => {
    const f = join(tmp(), 'state.yaml')
    const u = (h: number, i: number) => `${h}${h}${h}${h}${h}${h}${h}${h}-0000-4000-8000-${String(i).padStart(12, '0')}`
    const [h0, h1] = [maxWorldForMdevs().host, maxWorldForMdevs().host]
    h1.name = 'host1'
    for (let i = 0; i < 20; i++) {
      create(h0, u(1, i))
      change(h0, u(1, i), {adapter: [String(i)], domain: ['0']}, false)
      create(h1, u(2, i))
      change(h1, u(2, i), {adapter: [String(20 + i)], domain: ['1']}, false)
    }
    // Host 0 reserves APQN 14.0001 (host 1's first mdev's) for its drivers.
    h0.runtime.apmask = h0.runtime.apmask.with(20)
    h0.runtime.aqmask = h0.runtime.aqmask.with(1)
    h0.persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(20000)
    await replace(f, {current: 'host0', hosts: [h0, h1]}, false)
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250001))
    const text = readFileSync(f, 'utf8')
    const swap = (w: World) => {
      const a = w.hosts[0].runtime.mdevs
      w.hosts[0].runtime.mdevs = w.hosts[1].runtime.mdevs
      w.hosts[1].runtime.mdevs = a
    }
    expect(await stateError(mutate(f, swap))).toMatch(/hosts\[0\]\.runtime\.mdevs\[0\]: mdev 22222222-0000-4000-8000-000000000000: APQN 14\.0001 is reserved for the host's drivers/)
    expect(readFileSync(f, 'utf8')).toBe(text)
    // The runtimes swapped whole (each with the masks its mdevs keep the rules with, on two
    // LPARs alike): asked every rule, and saved as a whole write gives it.
    await mutate(f, (w) => void ([w.hosts[0].runtime, w.hosts[1].runtime] = [w.hosts[1].runtime, w.hosts[0].runtime]))
    const swapped = readFileSync(f, 'utf8')
    expect(swapped).not.toBe(text)
    expect(await serialize(await parse(swapped, f))).toBe(swapped)
    expect((await load(f)).hosts[0].runtime.mdevs[0].uuid).toBe(u(2, 0))
  })
})

describe('new mdevs after those of a large state', () => {
  const cache = (f: string) => join(dirname(f), `.${basename(f)}.cache`)
  it('leave in the cache the JSON a whole write gives, made from the one read, with where each entry ends', async () => {
    const f = join(tmp(), 'state.yaml')
    const world = await largeWorld()
    world.hosts[0].persistent.files['/etc/aplab-test-padding'] = 'pad '.repeat(20000)
    await replace(f, world, false)
    await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250001))
    const ok = async (what: string) => {
      const c = JSON.parse(readFileSync(cache(f), 'utf8'))
      expect(JSON.stringify(c.data), what).toBe(JSON.stringify(worldToData(await parse(readFileSync(f, 'utf8'), f))))
      // The large lists are where the cache says, so that the next read finds them.
      const json = JSON.stringify(c.data)
      for (const [place, start, end, ends] of c.parts as Array<[Array<string | number>, number, number, string?]>) {
        let v: unknown = c.data
        for (const k of place) v = (v as Record<string, unknown>)[k]
        expect(json.slice(start, end), what).toBe(JSON.stringify(v))
        // A sequence's entries each end where the cache says.
        if (!Array.isArray(v)) continue
        const at = ends === '' ? [] : ends!.split(',').map(Number)
        expect(at.map((e, k) => JSON.parse(json.slice(start + (k === 0 ? 1 : at[k - 1] + 1), start + e))), what).toEqual(v)
      }
      expect(await serialize(await load(f)), what).toBe(readFileSync(f, 'utf8'))
    }
    await ok('as replaced')
    expect(readFileSync(cache(f), 'utf8').length).toBeGreaterThan(LARGE)
    await mutate(f, (w) => create(w.hosts[0], uuid(90)))
    await ok('one')
    await mutate(f, (w) => (create(w.hosts[0], uuid(91)), create(w.hosts[0], uuid(92))))
    await ok('two at once')
    await mutate(f, (w) => create(w.hosts[0], uuid(93)))
    await ok('one more')
    // One removed and one added.
    await mutate(f, (w) => (remove(w.hosts[0], uuid(90)), create(w.hosts[0], uuid(94))))
    await ok('one gone')
    expect((await load(f)).hosts[0].runtime.mdevs.map((m) => m.uuid).slice(-4)).toEqual([uuid(91), uuid(92), uuid(93), uuid(94)])
    // Changed among the others, gone from among them, in another order, and the guests.
    const others: Array<[string, (w: World) => unknown]> = [
      ['assigned', (w) => change(w.hosts[0], uuid(35), {domain: ['200']}, false)],
      ['removed', (w) => remove(w.hosts[0], uuid(31))],
      ['the first and the last removed', (w) => (remove(w.hosts[0], w.hosts[0].runtime.mdevs[0].uuid), remove(w.hosts[0], uuid(94)))],
      ['reversed', (w) => void w.hosts[0].runtime.mdevs.reverse()],
      ['two moved', (w) => void w.hosts[0].runtime.mdevs.push(...w.hosts[0].runtime.mdevs.splice(3, 2))],
      ['a guest stopped', (w) => stop(w, 'guest3')],
      ['the first guest stopped', (w) => stop(w, 'guest0')],
    ]
    for (const [what, c] of others) {
      await mutate(f, c)
      await ok(what)
    }
    // The mdevs' ends not fitting their list (a hand that sealed the cache again): the list is made whole.
    const reseal = (text: string) => {
      const head = JSON.parse(text.slice(0, text.indexOf(',"data":')) + '}')
      const rest = text.slice(text.indexOf(',"data":') + 8)
      writeFileSync(cache(f), text.replace(`"body":"${head.body}"`, `"body":"${bodyHash(Buffer.from(rest))}"`))
    }
    const good = readFileSync(cache(f), 'utf8')
    const goodState = readFileSync(f, 'utf8')
    const partsAt = good.lastIndexOf(',"parts":')
    const table = JSON.parse(good.slice(partsAt + 9, -1)) as Array<[unknown, number, number, string?]>
    for (const [k, garble] of [(e: string) => e.replace(/\d+$/, (n) => String(+n - 1)), (e: string) => e.replace(/^\d+/, (n) => String(+n + 1)), () => 'x', (e: string) => e + ',9'].entries()) {
      writeFileSync(f, goodState)
      reseal(good.slice(0, partsAt + 9) + JSON.stringify(table.map((p) => (JSON.stringify(p[0]).endsWith('"mdevs"]') ? [p[0], p[1], p[2], garble(p[3]!)] : p))) + '}')
      await mutate(f, (w) => change(w.hosts[0], uuid(36), {domain: [String(201 + k)]}, false))
      await ok(`garbled ${k}`)
    }
    // An end moved onto a comma inside an entry (its count and its `,` kept): none either.
    {
      writeFileSync(f, goodState)
      const data = good.slice(good.indexOf(',"data":') + 8)
      const mdevs = table.find((p) => JSON.stringify(p[0]).endsWith('"mdevs"]'))!
      const json = data.slice(mdevs[1], mdevs[2])
      const at = mdevs[3]!.split(',').map(Number)
      at[at.length - 3] = json.indexOf(',', at[at.length - 4] + 2)
      reseal(good.slice(0, partsAt + 9) + JSON.stringify(table.map((p) => (p === mdevs ? [p[0], p[1], p[2], at.join(',')] : p))) + '}')
      await mutate(f, (w) => remove(w.hosts[0], w.hosts[0].runtime.mdevs.at(-1)!.uuid))
      await ok('an end inside an entry')
    }
    // A list that is not JSON in a cache sealed again by a hand: named, never a stack trace.
    const sealed = readFileSync(cache(f), 'utf8')
    const broken = sealed.replace(`{"uuid":"${uuid(93)}"`, `{"uuid"!"${uuid(93)}"`)
    expect(broken).not.toBe(sealed)
    const rest = broken.slice(broken.indexOf(',"data":') + 8)
    const body = JSON.parse(sealed.slice(0, sealed.indexOf(',"data":')) + '}').body
    writeFileSync(cache(f), broken.replace(`"body":"${body}"`, `"body":"${bodyHash(Buffer.from(rest))}"`))
    const w = await load(f)
    expect(await stateError((async () => w.hosts[0].runtime.mdevs.length)())).toBe(`${cache(f)}: "mdevs" is not JSON: not what aplab wrote (remove the file)`)
    // Parts that name a place this build keeps no list at: no cache (the YAML is read).
    {
      rmSync(cache(f))
      await mutate(f, (w) => void (w.hosts[0].runtime.pollTimeout = 250777))
      const state = readFileSync(f, 'utf8')
      const sealed = readFileSync(cache(f), 'utf8')
      const at = sealed.lastIndexOf(',"parts":')
      const parts = JSON.parse(sealed.slice(at + 9, -1)) as Array<[Array<string | number>, number, number, string?]>
      const c = JSON.parse(sealed)
      const json = JSON.stringify(c.data)
      const name = json.indexOf('"name":"host0"') + 7
      reseal(sealed.slice(0, at + 9) + JSON.stringify([...parts, [['hosts', 0, 'name'], name, name + 7]]) + '}')
      expect((await load(f)).hosts[0].name).toBe('host0')
      expect(await serialize(await load(f))).toBe(state)
    }
  })
})

describe('concurrent writers', () => {
  it('40 processes changing the state at once lose no update', async () => {
    const dir = tmp()
    const f = join(dir, 'state.yaml')
    const root = join(import.meta.dirname, '..', '..')
    execFileSync(process.execPath, [join(root, 'bin/aplab.js'), 'init'], {env: {...process.env, APLAB_STATE: f}})
    // Each writer bumps the scan counter of the bus once: `echo 1 > /sys/bus/ap/scans`.
    const runs = Array.from(
      {length: 40},
      () =>
        new Promise<number>((resolve) => {
          const p = spawn(process.execPath, [join(root, 'bin/aplab.js'), 'sysfs', 'write', '/sys/bus/ap/scans', '1'], {
            env: {...process.env, APLAB_STATE: f},
            stdio: 'ignore',
          })
          p.on('exit', (code) => resolve(code ?? -1))
        }),
    )
    expect(await Promise.all(runs)).toEqual(Array(40).fill(0))
    const w = await load(f)
    expect(w.hosts[0].runtime.scans).toBe(41)
  })
})
