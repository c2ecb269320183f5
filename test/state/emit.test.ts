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
import {modprobe} from '../../src/core/modules.js'
import {PRESETS} from '../../src/core/presets.js'
import {emitYaml} from '../../src/state/emit.js'
import {worldToData} from '../../src/state/schema.js'
import {newWorld} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'

const yaml = (data: unknown): string => YAML.stringify(data, {lineWidth: 0})

describe('emitYaml', () => {
  it.each(PRESETS.map((p) => p.name))('writes preset %s as yaml does', (name) => {
    const data = worldToData(newWorld(name))
    expect(emitYaml(data, YAML)).toBe(yaml(data))
  })

  it('writes a max host with defined and started mdevs and running guests as yaml does', async () => {
    const world = newWorld('max')
    const host = world.hosts[0]
    modprobe(host, 'vfio_ap', false, 0)
    hostVfs(host, 0).write('/sys/bus/ap/apmask', '0x' + '0'.repeat(64) + '\n')
    hostVfs(host, 0).write('/sys/bus/ap/aqmask', '0x' + '0'.repeat(64) + '\n')
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

  // Strings made of what makes yaml quote, escape, fold or block a scalar.
  const awkward = fc.string({unit: fc.constantFrom(...'aZ09_./-: #\n\t\'"{}[],&*!|>%@`?~\\\x07é-'.split(''), 'true', 'null', '0x1f', '1e5', '---', '...', ' '), maxLength: 12})
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

  it('gives up on what it does not write itself', () => {
    expect(emitYaml({a: 1.5}, YAML)).toBeNull()
    expect(emitYaml({a: undefined}, YAML)).toBeNull()
    expect(emitYaml({['k'.repeat(1100)]: 1}, YAML)).toBeNull()
    expect(emitYaml([1], YAML)).toBeNull()
  })
})
