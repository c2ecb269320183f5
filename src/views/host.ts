// `aplab host show`: one host at a glance, as text or JSON. IDs as every
// view writes them: adapters 0x05, domains 0x0004.

import {typeName} from '../core/lpar.js'
import type {Mask} from '../core/mask.js'
import type {Host} from '../core/model.js'
import {hostBus} from '../core/vfio.js'
import {adapterId, domainId} from '../core/model.js'

export interface HostInfo {
  name: string
  current: boolean
  adapters: Array<{id: string; type: string; configured: boolean; checkstopped: boolean}>
  usage_domains: string[]
  control_domains: string[]
  qci: boolean
  features: string[]
  max_adapter: string
  max_domain: string
  apmask: string
  aqmask: string
  default_domain: string | null
  modules: string[]
  mdevs: string[]
  guests: Array<{name: string; state: 'running' | 'paused' | 'shut off'}>
  cmdline: string
  next_cmdline: string
}

/** Bits as ranges of hex IDs: 0x0004-0x0007,0x00ab. */
function ranges(m: Mask, id: (n: number) => string): string {
  const bits = m.bits()
  const parts: string[] = []
  for (let i = 0; i < bits.length; ) {
    let j = i
    while (j + 1 < bits.length && bits[j + 1] === bits[j] + 1) j++
    parts.push(i === j ? id(bits[i]) : `${id(bits[i])}-${id(bits[j])}`)
    i = j + 1
  }
  return parts.join(',') || '-'
}

export function hostInfo(host: Host, current: boolean): HostInfo {
  const bus = hostBus(host)
  const rt = host.runtime
  return {
    name: host.name,
    current,
    adapters: [...host.lpar.adapters].sort((a, b) => a.id - b.id).map((a) => ({id: adapterId(a.id), type: typeName(a), configured: a.configured, checkstopped: a.checkstopped})),
    usage_domains: host.lpar.usage.bits().map(domainId),
    control_domains: host.lpar.control.bits().map(domainId),
    qci: host.lpar.qci,
    features: bus.features() === '-' ? [] : bus.features().split(' '),
    max_adapter: adapterId(bus.maxAdapterId),
    max_domain: domainId(bus.maxDomainId),
    apmask: ranges(rt.apmask, adapterId),
    aqmask: ranges(rt.aqmask, domainId),
    default_domain: rt.domain >= 0 ? domainId(rt.domain) : null,
    modules: [...rt.modules],
    mdevs: rt.mdevs.map((m) => m.uuid),
    guests: host.guests.map((g) => ({name: g.name, state: !g.running ? 'shut off' : g.runState ? 'paused' : 'running'})),
    cmdline: rt.cmdline,
    next_cmdline: host.persistent.cmdline,
  }
}

export function hostShow(h: HostInfo): string {
  const list = (xs: string[]): string => xs.join(',') || '-'
  return (
    [
      `name:            ${h.name}${h.current ? ' (current)' : ''}`,
      `adapters:        ${h.adapters.map((a) => `${a.id.slice(2)} ${a.type}${a.configured ? '' : ' (deconfigured)'}${a.checkstopped ? ' (checkstopped)' : ''}`).join(', ') || '-'}`,
      `usage domains:   ${list(h.usage_domains)}`,
      `control domains: ${list(h.control_domains)}`,
      `qci:             ${h.qci ? `${h.features.join(' ') || '-'} (adapters up to ${h.max_adapter}, domains up to ${h.max_domain})` : 'not supported'}`,
      `apmask:          ${h.apmask}`,
      `aqmask:          ${h.aqmask}`,
      `default domain:  ${h.default_domain ?? '-'}`,
      `modules:         ${list(h.modules)}`,
      `mdevs:           ${h.mdevs.join(' ') || '-'}`,
      `guests:          ${h.guests.map((g) => `${g.name} (${g.state})`).join(', ') || '-'}`,
      `cmdline:         ${h.cmdline}`,
      ...(h.next_cmdline !== h.cmdline ? [`next boot:       ${h.next_cmdline}`] : []),
    ].join('\n') + '\n'
  )
}
