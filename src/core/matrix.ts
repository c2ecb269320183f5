// The AP queues of a host as the table operators draw: adapters by domains,
// with each APQN's fate at every filter level (the IBM guide's "matrices as
// a succession of filters"): the LPAR's configuration, the host's masks, the
// mdevs' matrices and the running guests' APCBs. Pure: it reads a Host.

import {type QueueDriver} from './apbus.js'
import {UsageError} from './errors.js'
import {guestApcb} from './guest.js'
import {typeName} from './lpar.js'
import {Mask} from './mask.js'
import type {Host} from './model.js'
import {attachedGuest, hostBus} from './vfio.js'

export interface MatrixAdapter {
  id: number
  /** CEX5C and the like; null for an ID outside the LPAR's configuration. */
  type: string | null
  /** In the LPAR's AP configuration (QCI's APM). */
  inConfig: boolean
  /** SCLP-configured (false after chzcrypt --config-off); null outside the configuration. */
  configured: boolean | null
  /** Set in apmask: reserved for the host's zcrypt drivers (with aqmask). */
  apmask: boolean
}

export interface MatrixDomain {
  id: number
  /** A usage domain of the LPAR (QCI's AQM). */
  usage: boolean
  /** A control domain of the LPAR (QCI's ADM). */
  control: boolean
  /** Set in aqmask. */
  aqmask: boolean
}

export interface MatrixQueue {
  adapter: number
  domain: number
  /** Adapter and domain are both in the LPAR's configuration. */
  inConfig: boolean
  /** The queue device exists on the host's AP bus. */
  exists: boolean
  /** apmask and aqmask reserve it for the host (else it is free for vfio_ap). */
  reserved: boolean
  driver: QueueDriver | null
  /** The mdev it is assigned to (adapter and domain assigned). */
  mdev: string | null
  /** The running guest whose APCB has it (after vfio_ap's filtering). */
  guest: string | null
}

export interface MatrixMdev {
  uuid: string
  /** The letter that stands for it in the drawing: a-z, then '#'. */
  letter: string
  adapters: number[]
  domains: number[]
  controlDomains: number[]
  /** The shadow APCB (guest_matrix). */
  guestMatrix: {adapters: number[]; domains: number[]; controlDomains: number[]}
  /** The running guest that has it open. */
  guest: string | null
}

export interface MatrixGuest {
  name: string
  running: boolean
  mdev: string | null
  /** Its APCB (empty unless it runs with the mdev open). */
  adapters: number[]
  domains: number[]
  controlDomains: number[]
}

export interface MatrixView {
  host: string
  /** The highest adapter and domain numbers the LPAR allows (QCI Na, Nd). */
  maxAdapter: number
  maxDomain: number
  vfioLoaded: boolean
  /** What the drawing is narrowed to. */
  focus: {mdev: string | null; guest: string | null}
  /** The rows and columns shown, ascending. */
  adapters: MatrixAdapter[]
  domains: MatrixDomain[]
  /** One per adapter x domain shown, adapters outer. */
  queues: MatrixQueue[]
  mdevs: MatrixMdev[]
  guests: MatrixGuest[]
}

export interface MatrixOptions {
  adapters?: Mask
  domains?: Mask
  mdev?: string
  guest?: string
}

const letterOf = (i: number): string => (i < 26 ? String.fromCharCode(0x61 + i) : '#')

/**
 * The matrix of a host. The rows and columns are the named ones (--adapters,
 * --domains), else those of the mdev or guest in focus, else every adapter
 * and domain that is configured, masked for the host or assigned somewhere.
 */
export function hostMatrix(host: Host, o: MatrixOptions = {}): MatrixView {
  const bus = hostBus(host)
  const rt = host.runtime
  const lpar = host.lpar
  // Lettered in the order they were created.
  const mdevs: MatrixMdev[] = rt.mdevs.map((m, i) => ({
      uuid: m.uuid,
      letter: letterOf(i),
      adapters: m.apm.bits(),
      domains: m.aqm.bits(),
      controlDomains: m.adm.bits(),
      guestMatrix: {adapters: m.shadow.apm.bits(), domains: m.shadow.aqm.bits(), controlDomains: m.shadow.adm.bits()},
      guest: attachedGuest(host, m.uuid)?.name ?? null,
    }))
  const guests: MatrixGuest[] = host.guests.map((g) => {
    const apcb = guestApcb(host, g)
    return {name: g.name, running: g.running, mdev: g.device?.uuid ?? null, adapters: apcb.apm.bits(), domains: apcb.aqm.bits(), controlDomains: apcb.adm.bits()}
  })

  let focusMdev: MatrixMdev | undefined
  let focusGuest: MatrixGuest | undefined
  if (o.guest !== undefined) {
    focusGuest = guests.find((g) => g.name === o.guest)
    if (!focusGuest) throw new UsageError(`no guest named '${o.guest}' on host ${host.name}`)
    focusMdev = mdevs.find((m) => m.uuid === focusGuest!.mdev)
  }
  if (o.mdev !== undefined) {
    focusMdev = mdevs.find((m) => m.uuid === o.mdev!.toLowerCase())
    if (!focusMdev) throw new UsageError(`no mdev ${o.mdev} on host ${host.name}`)
  }

  const configAdapters = Mask.of(lpar.adapters.map((a) => a.id))
  let adapterSet: Mask
  let domainSet: Mask
  if (focusMdev || focusGuest) {
    const a = [...(focusMdev?.adapters ?? []), ...(focusMdev?.guestMatrix.adapters ?? []), ...(focusGuest?.adapters ?? [])]
    const d = [...(focusMdev?.domains ?? []), ...(focusMdev?.controlDomains ?? []), ...(focusMdev?.guestMatrix.domains ?? []), ...(focusGuest?.domains ?? [])]
    adapterSet = Mask.of(a)
    domainSet = Mask.of(d)
  } else {
    adapterSet = configAdapters
    domainSet = lpar.usage.or(lpar.control)
    for (const m of rt.mdevs) {
      adapterSet = adapterSet.or(m.apm)
      domainSet = domainSet.or(m.aqm).or(m.adm)
    }
  }
  if (o.adapters) adapterSet = o.adapters
  if (o.domains) domainSet = o.domains

  const adapters: MatrixAdapter[] = adapterSet.bits().map((id) => {
    const a = bus.adapter(id)
    return {
      id,
      type: a ? typeName(a) : null,
      inConfig: a !== undefined,
      configured: a ? a.configured : null,
      apmask: rt.apmask.has(id),
    }
  })
  const domains: MatrixDomain[] = domainSet.bits().map((id) => ({id, usage: lpar.usage.has(id), control: lpar.control.has(id), aqmask: rt.aqmask.has(id)}))

  const byMdev = rt.mdevs.map((m) => ({m, guest: attachedGuest(host, m.uuid)?.name ?? null}))
  const apcbs = guests.filter((g) => g.adapters.length > 0).map((g) => ({name: g.name, apm: Mask.of(g.adapters), aqm: Mask.of(g.domains)}))
  const queues: MatrixQueue[] = []
  for (const a of adapters)
    for (const d of domains) {
      const exists = bus.hasQueue(a.id, d.id)
      const owner = byMdev.find((x) => x.m.apm.has(a.id) && x.m.aqm.has(d.id))
      queues.push({
        adapter: a.id,
        domain: d.id,
        inConfig: a.inConfig && d.usage,
        exists,
        reserved: bus.reservedForHost(a.id, d.id),
        driver: exists ? bus.queueDriver(a.id, d.id) : null,
        mdev: owner?.m.uuid ?? null,
        guest: apcbs.find((g) => g.apm.has(a.id) && g.aqm.has(d.id))?.name ?? null,
      })
    }
  return {
    host: host.name,
    maxAdapter: bus.maxAdapterId,
    maxDomain: bus.maxDomainId,
    vfioLoaded: bus.vfioLoaded,
    focus: {mdev: focusMdev?.uuid ?? null, guest: focusGuest?.name ?? null},
    adapters,
    domains,
    queues,
    mdevs,
    guests,
  }
}

/** The queue of the view at (adapter, domain), by index. */
export function queueAt(v: MatrixView, ai: number, di: number): MatrixQueue {
  return v.queues[ai * v.domains.length + di]
}
