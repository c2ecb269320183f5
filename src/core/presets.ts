// Ready-made hosts for `aplab init --preset NAME`. Each one is an LPAR
// configuration plus the host's persistent files; the runtime state comes
// from booting it.

import {UsageError} from './errors.js'
import {makeHost} from './host.js'
import {newAdapter} from './lpar.js'
import {Mask} from './mask.js'
import type {Adapter, Host, Lpar, Mode, Persistent, QueueHw} from './model.js'
import {queueName} from './model.js'

export interface Preset {
  name: string
  summary: string
  build(hostName: string): Host
}

const BASE_CMDLINE = 'root=/dev/disk/by-path/ccw-0.0.5c00-part1 rd.dasd=0.0.5c00 cio_ignore=all,!condev crashkernel=196M'
const VFIO_AP_CONF = {'/etc/modules-load.d/vfio_ap.conf': 'vfio_ap\n'}

function lpar(adapters: Adapter[], usage: Mask, control: Mask, extra: Partial<Lpar> = {}): Lpar {
  return {
    qci: true,
    features: ['APSC', 'APXA', 'QACT', 'RC8A'],
    na: 255,
    nd: 84,
    airq: true,
    adapters,
    usage,
    control,
    queues: {},
    ...extra,
  }
}

function persistent(cmdline: string, files: Record<string, string> = {}): Persistent {
  return {cmdline, files: {...files}}
}

/** A deterministic 64-bit hex verification pattern for a made-up master key. */
function mkvp(seed: number, digits = 16): string {
  let x = BigInt(seed) * 0x9e3779b97f4a7c15n + 0x632be59bd9b4e019n
  let out = ''
  while (out.length < digits) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn
    out += x.toString(16).padStart(16, '0')
  }
  return '0x' + out.slice(0, digits)
}

/** Master keys set on every CCA and EP11 queue of the given adapters and domains. */
function masterKeys(adapters: Adapter[], domains: number[]): Record<string, QueueHw> {
  const q: Record<string, QueueHw> = {}
  for (const a of adapters)
    for (const d of domains) {
      const seed = a.id * 256 + d
      if (a.mode === 'cca') q[queueName(a.id, d)] = {mk: {aes: mkvp(seed), apka: mkvp(seed + 7)}}
      if (a.mode === 'ep11') q[queueName(a.id, d)] = {wk: mkvp(seed, 64)}
    }
  return q
}

const DEFAULT: Preset = {
  name: 'default',
  summary: 'z16 LPAR: six adapters (CEX8C, CEX8P, CEX8A, CEX7C, CEX7P, CEX7A), usage and control domains 0x04-0x07',
  build(name) {
    const adapters = [
      newAdapter(0x00, 8, 'cca', {serial: '93AAKC41'}),
      newAdapter(0x01, 8, 'ep11', {serial: '93AAKE52PX8R0013', ep11: {api: 6, fw: '8.1', opModes: 'FIPS2021'}}),
      newAdapter(0x02, 8, 'accel'),
      newAdapter(0x03, 7, 'cca', {serial: '93AAJR17'}),
      newAdapter(0x04, 7, 'ep11', {serial: '93AAJT09PX7R0026', ep11: {api: 6, fw: '7.23', opModes: 'FIPS2021'}}),
      newAdapter(0x05, 7, 'accel'),
    ]
    const doms = Mask.range(0x04, 0x07)
    const l = lpar(adapters, doms, doms, {queues: masterKeys(adapters, doms.bits())})
    return makeHost(name, l, persistent(BASE_CMDLINE))
  },
}

const VFIO_AP_DOC: Preset = {
  name: 'vfio-ap-doc',
  summary: "the kernel's vfio-ap documentation: adapters 05 CEX5C and 06 CEX5A, usage domains 0x04, 0x47, 0xab, 0xff; vfio_ap loaded",
  build(name) {
    const adapters = [newAdapter(0x05, 5, 'cca', {serial: '93AAGC23'}), newAdapter(0x06, 5, 'accel')]
    const doms = Mask.of([0x04, 0x47, 0xab, 0xff])
    const l = lpar(adapters, doms, doms, {features: ['APSC', 'APXA', 'QACT'], nd: 255})
    return makeHost(name, l, persistent(BASE_CMDLINE, VFIO_AP_CONF))
  },
}

const IBM_DOC: Preset = {
  name: 'ibm-doc',
  summary: "the IBM guide's example: adapters 00 CEX7A and 0a CEX7P, domains 0x01, 0x02, 0x04, 0x1b, all eight queues freed for vfio_ap (ap.apmask=0x0), vfio_ap loaded",
  build(name) {
    const adapters = [newAdapter(0x00, 7, 'accel'), newAdapter(0x0a, 7, 'ep11', {serial: '93AAHW61PX7R0040'})]
    const doms = Mask.of([0x01, 0x02, 0x04, 0x1b])
    const l = lpar(adapters, doms, doms)
    return makeHost(name, l, persistent(`${BASE_CMDLINE} ap.apmask=0x0`, VFIO_AP_CONF))
  },
}

const MODES: Mode[] = ['cca', 'accel', 'ep11']

const MAX: Preset = {
  name: 'max',
  summary: 'for scale: 256 adapters (CEX8 and CEX7 in all three modes) x 256 usage and control domains',
  build(name) {
    const adapters: Adapter[] = []
    for (let id = 0; id < 256; id++) {
      const mode = MODES[id % 3]
      const gen = id % 2 ? 7 : 8
      const serial = mode === 'accel' ? undefined : `93AA${id.toString(36).toUpperCase().padStart(4, '0')}` + (mode === 'ep11' ? 'PXMR0000' : '')
      adapters.push(newAdapter(id, gen, mode, serial ? {serial} : {}))
    }
    const doms = Mask.full()
    return makeHost(name, lpar(adapters, doms, doms, {nd: 255}), persistent(BASE_CMDLINE))
  },
}

const SE_GUEST: Preset = {
  name: 'se-guest',
  summary: 'a Secure Execution guest with AP pass-through (APSB): one CEX8P, domains 0x41-0x44 in the four SE bind states',
  build(name) {
    const adapters = [newAdapter(0x03, 8, 'ep11', {serial: '93AAMB20PX8R0051'})]
    const doms = Mask.range(0x41, 0x44)
    const l = lpar(adapters, doms, doms, {features: ['APSC', 'APXA', 'QACT', 'RC8A', 'APSB'], nd: 254, airq: false})
    const bs = [0x0000, 0x4000, 0x8000, 0xc000]
    for (let i = 0; i < 4; i++) l.queues[queueName(0x03, 0x41 + i)] = {functions: (0x06800000 | bs[i]) >>> 0, wk: mkvp(0x341 + i, 64)}
    l.queues[queueName(0x03, 0x41)].assoc = 5
    return makeHost(name, l, persistent('root=/dev/vda1 ap.poll_thread=1'))
  },
}

export const PRESETS: Preset[] = [DEFAULT, VFIO_AP_DOC, IBM_DOC, MAX, SE_GUEST]

export function preset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name)
  if (!p) throw new UsageError(`unknown preset '${name}'; known presets: ${PRESETS.map((x) => x.name).join(', ')}`)
  return p
}
