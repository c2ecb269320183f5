// The state's YAML writer against yaml's own: byte for byte the text of
// YAML.stringify(data, {lineWidth: 0}) for every preset, for a host with many
// mdevs (definitions, guests), and for random data with awkward strings; and
// where it cannot say, it says so (null) instead of writing something else.
import fc from 'fast-check'
import YAML from 'yaml'
import {describe, expect, it} from 'vitest'

import {create, change} from '../../src/cli/mdev.js'
import {mdevctlOnHost} from '../../src/cli/mdevctl.js'
import {start} from '../../src/cli/guest.js'
import {PRESETS} from '../../src/core/presets.js'
import {type Spans, emitState, emitYaml} from '../../src/state/emit.js'
import {readSpanText, spanText} from '../../src/state/spans.js'
import {worldToData} from '../../src/state/schema.js'
import {newWorld} from '../../src/state/store.js'
import {maxWorldForMdevs} from '../helpers.js'

const yaml = (data: unknown): string => YAML.stringify(data, {lineWidth: 0})

/** Strings made of what makes yaml quote, escape, fold or block a scalar. */
function awkwardLeaf(): fc.Arbitrary<string> {
  return fc.string({unit: fc.constantFrom(...'aZ09_./-: #\n\t\'"{}[],&*!|>%@`?~\\\x07é-=+'.split(''), 'true', 'null', '0x1f', '1e5', '---', '...', ' ', '8.1', '00.0004', '0x00-0xfd,0xff', '0o17', '.5', 'e3'), maxLength: 12})
}

describe('emitYaml', () => {
  it.each(PRESETS.map((p) => p.name))('writes preset %s as yaml does', (name) => {
    const data = worldToData(newWorld(name))
    expect(emitYaml(data, YAML)).toBe(yaml(data))
  })

  it('writes a max host with defined and started mdevs and running guests as yaml does', async () => {
    const {world, host} = maxWorldForMdevs()
    for (let i = 0; i < 40; i++) {
      const uuid = create(host, `b16b0000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`)
      change(host, uuid, {adapter: [String(i % 256)], domain: [String(i >> 3)], 'control-domain': [String(i >> 3)]}, false)
      expect((await mdevctlOnHost(host, ['define', '-u', uuid, ...(i % 2 ? ['--auto'] : [])])).code).toBe(0)
      if (i < 8) start(world, host, `guest${i}`, ['-cpu', 'host,ap=on', '-device', `vfio-ap,sysfsdev=/sys/bus/mdev/devices/${uuid},id=vfio${i}`], {libvirt: false, autostart: false, uid: 0})
    }
    const data = worldToData(world)
    const text = emitYaml(data, YAML)
    expect(text).not.toBeNull()
    expect(text).toBe(yaml(data))
  })

  const awkward = awkwardLeaf()
  const scalar = fc.oneof({arbitrary: awkward, weight: 8}, {arbitrary: fc.integer(), weight: 3}, fc.boolean(), fc.constant(null), fc.double(), fc.constant(-0))
  const data = fc.letrec((tie) => ({
    node: fc.oneof({depthSize: 'small'}, scalar, tie('list'), tie('map')),
    list: fc.array(tie('node'), {maxLength: 4}),
    map: fc.dictionary(awkward, tie('node'), {maxKeys: 4}),
  })).map.filter((m) => Object.keys(m).length > 0)

  it('writes random data as yaml does, or gives up', () => {
    let written = 0
    fc.assert(
      fc.property(data, (d) => {
        const text = emitYaml(d, YAML)
        if (text === null) return
        written++
        expect(text).toBe(yaml(d))
      }),
      {numRuns: 2000},
    )
    // Not a test that passes by always giving up.
    expect(written).toBeGreaterThan(400)
  })

  it('writes an empty string (a cleared mask) itself, as yaml does', () => {
    const refuse = {
      stringify: () => {
        throw new Error('yaml was asked')
      },
    } as unknown as typeof YAML
    const d = {apmask: '', list: ['', 'a'], inner: {aqmask: ''}}
    expect(emitYaml(d, refuse)).toBe(yaml(d))
  })

  it('writes the masks a mask write leaves (ranges and lists) itself, as yaml does', () => {
    const refuse = {
      stringify: () => {
        throw new Error('yaml was asked')
      },
    } as unknown as typeof YAML
    const d = worldToData(newWorld()) as {hosts: Array<{runtime: Record<string, unknown>; lpar: Record<string, unknown>}>}
    d.hosts[0].runtime.aqmask = '0x00-0xfd,0xff'
    d.hosts[0].runtime.apmask = '0x00-0x04,0x07-0xff'
    d.hosts[0].lpar.usage_domains = '0x04-0x07,0x10'
    const text = emitYaml(d, refuse)
    expect(text).toBe(yaml(d))
    expect(text).toContain('\n      aqmask: 0x00-0xfd,0xff\n')
    // What modprobe and the kernel leave: a file under /etc, kernel log records.
    const etc = {files: {'/etc/modules-load.d/vfio_ap.conf': 'vfio_ap\n', '/etc/udev/rules.d/x.rules': 'KERNEL=="a", RUN+="b"\nc\n'}, dmesg: ['<6>0 vfio_ap matrix: MDEV: Registered', "<4>5 it's", '<6>7 a #b', 'true', '~'], argv: ['-device', '{"driver":"virtio-balloon-ccw","id":"balloon0"}', '{a\\b"}']}
    expect(emitYaml(etc, refuse)).toBe(yaml(etc))
    // A comma makes no number: still quoted where the rest reads as one.
    expect(emitYaml({a: '5,6', b: '0x1f', c: '1,', d: '8.1'}, refuse)).toBe(yaml({a: '5,6', b: '0x1f', c: '1,', d: '8.1'}))
  })

  it('gives up on what it does not write itself', () => {
    expect(emitYaml({a: 1.5}, YAML)).toBeNull()
    expect(emitYaml({a: undefined}, YAML)).toBeNull()
    expect(emitYaml({['k'.repeat(1100)]: 1}, YAML)).toBeNull()
    expect(emitYaml([1], YAML)).toBeNull()
  })
})

describe('emitState over the text written before', () => {
  // Data with collections large enough to have spans, multi-line strings among the scalars.
  const line = fc.string({unit: fc.constantFrom(...'ab: #{}-'.split('')), maxLength: 6})
  const leaf = fc.oneof(awkwardLeaf(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(line, {minLength: 2, maxLength: 4}).map((ls) => ls.join('\n')))
  const tree = fc.letrec((tie) => ({
    node: fc.oneof({depthSize: 'small', maxDepth: 3}, leaf, tie('list'), tie('map')),
    list: fc.array(tie('node'), {maxLength: 20}),
    map: fc.dictionary(fc.constantFrom(...'abcdefghijklmnopqrstuvw'.split('').map((c) => `k${c}`), 'x y', '0x1'), tie('node'), {maxKeys: 20}),
  })).map.filter((m) => Object.keys(m).length > 0)
  // Edits at random places: set, insert or delete an entry of a collection.
  const edits = fc.array(fc.record({at: fc.nat(), kind: fc.constantFrom('set', 'insert', 'delete'), pos: fc.nat(), value: fc.oneof(leaf, tree)}), {maxLength: 3})

  type Path = Array<string | number>
  const containers = (d: unknown, p: Path = [], out: Path[] = []): Path[] => {
    if (typeof d === 'object' && d !== null) {
      out.push(p)
      for (const [k, v] of Object.entries(d)) containers(v, [...p, Array.isArray(d) ? Number(k) : k], out)
    }
    return out
  }
  const at = (d: unknown, p: Path): unknown => p.reduce((x: any, k) => x?.[k], d)
  function edit(d: Record<string, unknown>, es: Array<{at: number; kind: string; pos: number; value: unknown}>): Record<string, unknown> {
    const c = structuredClone(d)
    for (const e of es) {
      const all = containers(c)
      const x = at(c, all[e.at % all.length]) as any
      const v = structuredClone(e.value)
      if (Array.isArray(x)) {
        const i = e.pos % (x.length + 1)
        if (e.kind === 'insert' || x.length === 0) x.splice(i, 0, v)
        else if (e.kind === 'delete') x.splice(i % x.length, 1)
        else x[i % x.length] = v
      } else {
        const ks = Object.keys(x)
        if (e.kind === 'delete' && ks.length > 1) delete x[ks[e.pos % ks.length]]
        else x[e.kind === 'insert' || ks.length === 0 ? `n${e.pos}` : ks[e.pos % ks.length]] = v
      }
    }
    return c
  }
  const readBack = (x: unknown): unknown => JSON.parse(JSON.stringify(x))
  // Spans as a cache holds them (state/spans.ts), and as lists to compare.
  const asCached = (s: Spans): Spans => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'string' ? v : spanText(v)]))
  const lists = (s: Spans) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'string' ? readSpanText(v) : v]))

  it('writes what a whole write gives, and says truly what changed', () => {
    let copied = 0
    fc.assert(
      fc.property(tree, edits, edits, (d1, e12, e23) => {
        const first = emitState(d1, YAML, '# h\n')
        if (first === null) return
        let prev = {data: readBack(d1), text: first.text, spans: asCached(first.spans)}
        for (const d of [edit(d1, e12), edit(edit(d1, e12), e23)]) {
          const whole = emitState(d, YAML, '# h\n')
          const over = emitState(d, YAML, '# h\n', prev)
          expect(over?.text).toBe(whole?.text)
          if (over === null || whole === null) return
          expect(lists(over.spans)).toEqual(lists(whole.spans))
          if (over.text.length > 200 && over.changed.length < Object.keys(over.spans).length) copied++
          // Every difference lies inside a changed entry that is not open (the
          // outermost ones: their places are the same in both, through open collections).
          if (over.open) {
            const [a, b] = [structuredClone(prev.data) as any, structuredClone(d) as any]
            const shut = over.changed.filter((c) => !c.open)
            const inShut = (p: Path) => shut.some((c) => c.path.length < p.length && c.path.every((k, i) => p[i] === k))
            for (const c of shut.filter((c) => !inShut(c.path))) {
              for (const o of [a, b]) {
                const parent = at(o, c.path.slice(0, -1)) as any
                if (parent && Object.hasOwn(parent, c.path.at(-1)!)) parent[c.path.at(-1)!] = '(changed)'
              }
            }
            expect(b).toEqual(a)
          }
          prev = {data: readBack(d), text: over.text, spans: asCached(over.spans)}
        }
      }),
      {numRuns: 600},
    )
    expect(copied).toBeGreaterThan(20)
  })
})
