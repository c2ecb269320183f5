// Hand edits of the state file between commands, as a careless script or a
// hostile user makes them: some break the schema, some only the rules the
// kernel keeps across objects (an APQN in two mdevs, an mdev holding an APQN
// reserved for the host, a guest matrix outside the matrix, two running
// guests on one mdev, a guest on a missing mdev), and some are harmless.

import YAML from 'yaml'

import {formatRanges, parseRanges} from '../../src/core/mask.js'

export type Corruption =
  | {kind: 'share'; h: number; from: number; to: number}
  | {kind: 'reserved'; h: number; m: number}
  | {kind: 'shadow'; h: number; m: number; adapter: number}
  | {kind: 'two-guests'; h: number; a: number; b: number}
  | {kind: 'missing-mdev'; h: number; g: number}
  /** The host's masks take back everything, under the guests' feet. */
  | {kind: 'steal'; h: number}
  /** An adapter a guest matrix holds leaves the LPAR, without the kernel hearing of it. */
  | {kind: 'unplug'; h: number; m: number}
  | {kind: 'schema'; h: number; what: 'yaml' | 'version' | 'bad-range' | 'bad-uuid' | 'dup-guest' | 'dup-host' | 'proto' | 'aliases'}
  | {kind: 'benign'; h: number; configTime: number}

/** The kinds the loader must refuse because they break a rule across objects (not the schema). */
export const CROSS_OBJECT: ReadonlyArray<Corruption['kind']> = ['share', 'reserved', 'shadow', 'two-guests', 'missing-mdev', 'steal', 'unplug']

type MdevData = {uuid: string; adapters: string; domains: string; control_domains: string; guest_matrix: {adapters: string; domains: string; control_domains: string}; iommu_group: number}
type GuestData = {name: string; running: boolean; cpu: Record<string, unknown>; device?: {id?: string; uuid: string; sysfsdev: string}; runtime: unknown}
type HostData = {name: string; lpar: {adapters: Array<{id: string}>; usage_domains: string}; runtime: {apmask: string; aqmask: string; config_time: number; mdevs: MdevData[]}; guests?: GuestData[]}
type Data = {version: number; current: string; hosts: HostData[]}

const text = (d: unknown): string => '# aplab state, edited by hand\n' + YAML.stringify(d, {lineWidth: 0})
const add = (ranges: string, bit: number): string => formatRanges(parseRanges(ranges).with(bit))
const sysfsdev = (uuid: string): string => `/sys/bus/mdev/devices/${uuid}`
const NEW_UUID = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'

/** The edited file's text, or null when the state has nothing this edit applies to. */
export function corrupt(c: Corruption, data: unknown, original: string): string | null {
  const d = structuredClone(data) as Data
  const host = d.hosts[c.h % d.hosts.length]
  const mdevs = host.runtime.mdevs
  const guests = (host.guests ??= [])
  switch (c.kind) {
    case 'share': {
      if (mdevs.length === 0) return null
      // With one mdev, a second one is written in beside it.
      if (mdevs.length === 1) mdevs.push({...structuredClone(mdevs[0]), uuid: NEW_UUID, iommu_group: mdevs[0].iommu_group + 1})
      const from = mdevs[c.from % mdevs.length]
      let to = mdevs[c.to % mdevs.length]
      if (to === from) to = mdevs[(mdevs.indexOf(from) + 1) % mdevs.length]
      if (parseRanges(from.adapters).isEmpty() || parseRanges(from.domains).isEmpty()) return null
      to.adapters = formatRanges(parseRanges(to.adapters).or(parseRanges(from.adapters)))
      to.domains = formatRanges(parseRanges(to.domains).or(parseRanges(from.domains)))
      return text(d)
    }
    case 'reserved': {
      if (mdevs.length === 0) return null
      const m = mdevs[c.m % mdevs.length]
      const a = parseRanges(host.runtime.apmask).bits()[0]
      const q = parseRanges(host.runtime.aqmask).bits()[0]
      if (a === undefined || q === undefined) return null
      m.adapters = add(m.adapters, a)
      m.domains = add(m.domains, q)
      return text(d)
    }
    case 'shadow': {
      if (mdevs.length === 0) return null
      const m = mdevs[c.m % mdevs.length]
      if (parseRanges(m.adapters).has(c.adapter)) return null
      m.guest_matrix.adapters = add(m.guest_matrix.adapters, c.adapter)
      if (parseRanges(m.guest_matrix.domains).isEmpty()) m.guest_matrix.domains = add(m.guest_matrix.domains, parseRanges(host.lpar.usage_domains).bits()[0] ?? 0)
      return text(d)
    }
    case 'two-guests': {
      const holder = guests.find((g) => g.device)
      if (!holder) return null
      // With one guest, a second one is written in beside it.
      if (guests.length === 1) guests.push({...structuredClone(holder), name: 'edited'})
      const pick = guests[c.a % guests.length]
      const a = pick.device ? pick : holder
      let b = guests[c.b % guests.length]
      if (b === a) b = guests[(guests.indexOf(a) + 1) % guests.length]
      b.running = true
      b.cpu.ap = true
      b.device = {id: 'vfio1', uuid: a.device!.uuid, sysfsdev: a.device!.sysfsdev}
      a.running = true
      a.cpu.ap = true
      return text(d)
    }
    case 'missing-mdev': {
      if (guests.length === 0) guests.push({name: 'edited', running: true, cpu: {model: 'host', ap: true, apqci: true, apft: true}, runtime: {...structuredClone(host.runtime), mdevs: [], dmesg: []}} as GuestData)
      const g = guests[c.g % guests.length]
      const uuid = '99999999-9999-4999-8999-999999999999'
      g.running = true
      g.cpu.ap = true
      g.device = {id: 'vfio0', uuid, sysfsdev: sysfsdev(uuid)}
      return text(d)
    }
    case 'steal':
      // Only an mdev with an APQN (an adapter and a domain) makes this an edit the loader must refuse.
      if (mdevs.every((m) => parseRanges(m.adapters).isEmpty() || parseRanges(m.domains).isEmpty())) return null
      host.runtime.apmask = '0x00-0xff'
      host.runtime.aqmask = '0x00-0xff'
      return text(d)
    case 'unplug': {
      const held = mdevs.filter((m) => !parseRanges(m.guest_matrix.adapters).isEmpty())
      if (held.length === 0) return null
      const a = parseRanges(held[c.m % held.length].guest_matrix.adapters).bits()[0]
      host.lpar.adapters = host.lpar.adapters.filter((x) => parseInt(x.id, 16) !== a)
      return text(d)
    }
    case 'schema':
      switch (c.what) {
        case 'yaml':
          return original + 'hosts: [\n'
        case 'version':
          d.version = 99
          return text(d)
        case 'bad-range':
          host.lpar.usage_domains = '0x07-0x04'
          return text(d)
        case 'bad-uuid':
          if (mdevs.length === 0) return null
          mdevs[0].uuid = mdevs[0].uuid.slice(0, -1) + 'X'
          return text(d)
        case 'dup-guest': {
          const other = d.hosts.find((h) => h !== host)
          if (!other || guests.length === 0) return null
          other.guests = [...(other.guests ?? []), structuredClone(guests[0])]
          return text(d)
        }
        case 'dup-host':
          d.hosts.push(structuredClone(host))
          return text(d)
        case 'proto':
          return original + '__proto__:\n  polluted: true\n'
        case 'aliases': {
          // A billion laughs: ten times ten ... of one alias.
          let bomb = 'x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n'
          for (let i = 1; i < 9; i++) bomb += `x${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`
          return original + bomb
        }
      }
      return null
    case 'benign':
      host.runtime.config_time = c.configTime
      return text(d)
  }
}
