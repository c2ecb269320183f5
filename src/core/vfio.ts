// The vfio_ap driver: its mediated devices (mdevs), the rules for assigning
// adapters and domains to them, the shadow APCB a guest gets (filtering),
// and how binding changes and mask changes affect them.

import {ApBus, type BusHooks, type QueueDriver, loadModule, unloadModule} from './apbus.js'
import {KERN_INFO, KERN_NOTICE, KERN_WARNING, klog} from './dmesg.js'
import {KernelError} from './errors.js'
import {Mask, kstrtoul, parseHexMask} from './mask.js'
import {type Guest, type Host, type Mdev, hex2, hex4} from './model.js'

export const MDEV_TYPE = 'vfio_ap-passthrough'
export const MDEV_TYPE_NAME = 'VFIO AP Passthrough Device'
export const MAX_INSTANCES = 256 * 256

export type MatrixPart = 'adapter' | 'domain' | 'control_domain'

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The AP bus of a host, with vfio_ap's hooks wired in. */
export function hostBus(host: Host): ApBus {
  // The mdev holding each APQN, made at the first status asked of this bus
  // (lszcrypt asks it of every queue): a bus lives for one file system
  // operation or until a write through the view, and a new list of mdevs
  // (a create or remove) makes it again.
  let held: {list: Mdev[]; length: number; at: Map<number, Mdev>} | undefined
  const holder = (apid: number, apqi: number): Mdev | undefined => {
    const list = host.runtime.mdevs
    if (!held || held.list !== list || held.length !== list.length) held = {list, length: list.length, at: apqnIndex(list)}
    return held.at.get(apid * 0x10000 + apqi)
  }
  const hooks: BusHooks = {
    status: (apid, apqi) => statusOf(host, holder(apid, apqi), apid, apqi),
    canReserve: (apm, aqm) => checkNotInUse(host, apm, aqm),
    bindingChanged: (apid, apqi, was, now) => bindingChanged(host, apid, apqi, was, now),
  }
  return new ApBus(host.lpar, host.runtime, hooks)
}

const prefix = (uuid: string) => `vfio_ap_mdev ${uuid}: `

const apqn = (a: number, d: number) => `${hex2(a)}.${hex4(d)}`

/** Where each mdev of a list is, by UUID, for the lists looked up in (a sysfs walk asks once per path). */
const positions = new WeakMap<Mdev[], Map<string, number>>()

export function findMdev(host: Host, uuid: string): Mdev | undefined {
  const list = host.runtime.mdevs
  const u = uuid.toLowerCase()
  let at = positions.get(list)
  let i = at?.get(u)
  // The list may have changed in place since the index was made: a hit is
  // checked, and a miss or a stale hit makes the index again.
  if (i !== undefined && list[i]?.uuid === u) return list[i]
  if (at === undefined || i !== undefined || at.size !== list.length) {
    at = new Map()
    for (let k = 0; k < list.length; k++) at.set(list[k].uuid, k)
    positions.set(list, at)
    i = at.get(u)
    return i === undefined ? undefined : list[i]
  }
  return list.find((m) => m.uuid === u)
}

/** The mdev assigned each APQN (apid * 0x10000 + apqi); the first in the list when two share one. */
function apqnIndex(list: Mdev[]): Map<number, Mdev> {
  const at = new Map<number, Mdev>()
  for (const m of list) {
    const ds = m.aqm.bits()
    for (const a of m.apm.bits()) for (const d of ds) if (!at.has(a * 0x10000 + d)) at.set(a * 0x10000 + d, m)
  }
  return at
}

export function availableInstances(host: Host): number {
  return MAX_INSTANCES - host.runtime.mdevs.length
}

/** The running guest that has the mdev open (its KVM is set on the mdev). */
export function attachedGuest(host: Host, uuid: string): Guest | undefined {
  return host.guests.find((g) => g.running && g.features.ap && g.device?.uuid === uuid)
}

/** `status` of a queue bound to vfio_ap, given the mdev it is assigned to: `in use` when a guest has it in its APCB. */
function statusOf(host: Host, m: Mdev | undefined, apid: number, apqi: number): 'in use' | 'assigned' | 'unassigned' {
  if (!m) return 'unassigned'
  if (attachedGuest(host, m.uuid) && m.shadow.apm.has(apid) && m.shadow.aqm.has(apqi)) return 'in use'
  return 'assigned'
}

// --- create / remove ----------------------------------------------------------

/** Writing a UUID to `create`: exactly 36 characters and an optional newline. */
export function createMdev(host: Host, buf: string): Mdev {
  const text = buf.endsWith('\n') ? buf.slice(0, -1) : buf
  if (text.length !== 36 || !UUID_RE.test(text)) throw new KernelError('EINVAL')
  const uuid = text.toLowerCase()
  if (findMdev(host, uuid)) throw new KernelError('EEXIST')
  if (availableInstances(host) <= 0) throw new KernelError('EUSERS')
  const used = new Set<number>()
  for (const m of host.runtime.mdevs) used.add(m.group)
  let group = 0
  while (used.has(group)) group++
  const m: Mdev = {uuid, apm: Mask.empty(), aqm: Mask.empty(), adm: Mask.empty(), shadow: {apm: Mask.empty(), aqm: Mask.empty(), adm: Mask.empty()}, group}
  host.runtime.mdevs.push(m)
  // The index of the list (findMdev) gains the new one, rather than being made again at the next lookup.
  const at = positions.get(host.runtime.mdevs)
  if (at && at.size === host.runtime.mdevs.length - 1) at.set(uuid, host.runtime.mdevs.length - 1)
  return m
}

/** Writing to `remove`: a number; 0 does nothing, anything else removes the device. */
export function writeRemove(host: Host, uuid: string, buf: string): void {
  // remove_store answers every kstrtoul failure, ERANGE included, with EINVAL.
  let v: bigint
  try {
    v = kstrtoul(buf)
  } catch {
    throw new KernelError('EINVAL')
  }
  if (v === 0n) return
  removeMdev(host, uuid)
}

/**
 * Remove an mdev. When a running guest has it open (current kernels), vfio
 * asks the user to release it: vfio_ap clears the guest's APCB, QEMU answers
 * with an unplug of its vfio-ap device, and the remove completes.
 */
export function removeMdev(host: Host, uuid: string): void {
  const g = attachedGuest(host, uuid)
  if (g) {
    klog(host.runtime, KERN_NOTICE, `${prefix(uuid)}Relaying device request to user (#0)`)
    g.device = null
  }
  // In place: the list stays the one the state was read with, so a write tells the others unchanged.
  const list = host.runtime.mdevs
  const i = list.findIndex((m) => m.uuid === uuid)
  if (i >= 0) list.splice(i, 1)
}

// --- assignment -----------------------------------------------------------------

function maxFor(bus: ApBus, part: MatrixPart): number {
  return part === 'adapter' ? bus.maxAdapterId : bus.maxDomainId
}

/** Parse an assign_* / unassign_* write: kstrtoul, then ENODEV above the maximum. */
function parseId(bus: ApBus, part: MatrixPart, buf: string): number {
  const v = kstrtoul(buf)
  if (v > BigInt(maxFor(bus, part))) throw new KernelError('ENODEV')
  return Number(v)
}

/** matrix_dev's mdev_list as the kernel walks it: a new mdev is added at its head, so newest first. */
const mdevList = (host: Host): Mdev[] => [...host.runtime.mdevs].reverse()

/**
 * The validation every assignment runs on the whole matrix: no APQN may be
 * reserved for the host's default drivers (EADDRNOTAVAIL), none may be
 * assigned to another mdev (EADDRINUSE, with one log line per shared APQN).
 */
function validateMatrix(host: Host, bus: ApBus, m: Mdev, apm: Mask, aqm: Mask): void {
  for (const a of apm.bits()) for (const d of aqm.bits()) if (bus.reservedForHost(a, d)) throw new KernelError('EADDRNOTAVAIL')
  for (const other of mdevList(host)) {
    if (other === m || !apm.intersects(other.apm) || !aqm.intersects(other.aqm)) continue
    const sa = apm.and(other.apm).bits()
    const sd = aqm.and(other.aqm).bits()
    if (sa.length === 0 || sd.length === 0) continue
    for (const a of sa)
      for (const d of sd) klog(host.runtime, KERN_WARNING, `${prefix(m.uuid)}Userspace may not assign queue ${apqn(a, d)} to mdev: already assigned to ${other.uuid}`)
    throw new KernelError('EADDRINUSE')
  }
}

export function assign(host: Host, m: Mdev, part: MatrixPart, buf: string): void {
  const bus = hostBus(host)
  const id = parseId(bus, part, buf)
  if (part === 'control_domain') {
    if (m.adm.has(id)) return
    m.adm = m.adm.with(id)
    filterCdoms(host, m)
    return
  }
  const key = part === 'adapter' ? 'apm' : 'aqm'
  if (m[key].has(id)) return
  const next = m[key].with(id)
  validateMatrix(host, bus, m, key === 'apm' ? next : m.apm, key === 'aqm' ? next : m.aqm)
  m[key] = next
  filterMatrix(host, bus, m)
}

export function unassign(host: Host, m: Mdev, part: MatrixPart, buf: string): void {
  const bus = hostBus(host)
  const id = parseId(bus, part, buf)
  const key = part === 'adapter' ? 'apm' : part === 'domain' ? 'aqm' : 'adm'
  if (!m[key].has(id)) return
  m[key] = m[key].without(id)
  // Hot unplug: what the guest had goes; the rest of the shadow is not refiltered.
  m.shadow[key] = m.shadow[key].without(id)
}

// --- ap_config ------------------------------------------------------------------

/** All-or-nothing replacement of the three masks (`apm,aqm,adm`). */
export function writeApConfig(host: Host, m: Mdev, buf: string): void {
  const fields = buf.slice(0, 201).split(/[,\n]/)
  if (fields.length < 3) throw new KernelError('EINVAL')
  const [apm, aqm, adm] = fields.slice(0, 3).map((f) => parseHexMask(f))
  const bus = hostBus(host)
  validateMatrix(host, bus, m, apm, aqm)
  const over = (mask: Mask, max: number) => mask.bits().some((b) => b > max)
  if (over(apm, bus.maxAdapterId) || over(aqm, bus.maxDomainId) || over(adm, bus.maxDomainId)) throw new KernelError('ENODEV')
  // Hot unplug what was removed, then take the new matrix and filter it.
  m.shadow = {apm: m.shadow.apm.and(apm), aqm: m.shadow.aqm.and(aqm), adm: m.shadow.adm.and(adm)}
  m.apm = apm
  m.aqm = aqm
  m.adm = adm
  filterMatrix(host, bus, m)
  filterCdoms(host, m)
}

// --- filtering --------------------------------------------------------------------

/**
 * The shadow APCB: the assigned adapters and domains the host has, less every
 * adapter with a queue (over those domains) not bound to vfio_ap. Domains are
 * never dropped for that; only whole adapters. Returns whether it changed.
 */
export function filterMatrix(host: Host, bus: ApBus, m: Mdev): boolean {
  const hostApm = bus.adapterMask() ?? Mask.empty()
  const hostAqm = bus.usageMask() ?? Mask.empty()
  let apm = m.apm.and(hostApm)
  const aqm = m.aqm.and(hostAqm)
  for (const a of apm.bits())
    if (aqm.bits().some((d) => !bus.hasQueue(a, d) || bus.queueDriver(a, d) !== 'vfio_ap')) apm = apm.without(a)
  const changed = !apm.equals(m.shadow.apm) || !aqm.equals(m.shadow.aqm)
  m.shadow.apm = apm
  m.shadow.aqm = aqm
  return changed
}

export function filterCdoms(host: Host, m: Mdev): void {
  m.shadow.adm = m.adm.and(host.lpar.qci ? host.lpar.control : Mask.empty())
}

/** vfio_ap's probe and remove callbacks, as queues bind to it or leave it. */
function bindingChanged(host: Host, apid: number, apqi: number, was: QueueDriver | null, now: QueueDriver | null): void {
  for (const m of host.runtime.mdevs) {
    if (!m.apm.has(apid) || !m.aqm.has(apqi)) continue
    if (was === 'vfio_ap' && now !== 'vfio_ap') {
      // A queue in the shadow takes its whole adapter out of the guest.
      if (m.shadow.apm.has(apid) && m.shadow.aqm.has(apqi)) m.shadow.apm = m.shadow.apm.without(apid)
    } else if (now === 'vfio_ap') {
      filterMatrix(host, new ApBus(host.lpar, host.runtime), m)
    }
  }
}

/**
 * vfio_ap's in_use callback for a mask write: newly reserved APQNs must not
 * be assigned to an mdev. The first conflicting mdev logs each APQN; EBUSY.
 */
export function checkNotInUse(host: Host, apm: Mask, aqm: Mask): void {
  for (const m of mdevList(host)) {
    if (!apm.intersects(m.apm) || !aqm.intersects(m.aqm)) continue
    const sa = apm.and(m.apm).bits()
    const sd = aqm.and(m.aqm).bits()
    if (sa.length === 0 || sd.length === 0) continue
    for (const a of sa) for (const d of sd) klog(host.runtime, KERN_WARNING, `${prefix(m.uuid)}Can not reserve queue ${apqn(a, d)} for host driver: in use by mdev`)
    throw new KernelError('EBUSY')
  }
}

// --- the module -------------------------------------------------------------------

/** modprobe vfio_ap: needs AP configuration information (QCI); registers the matrix device. */
export function loadVfioAp(host: Host): void {
  if (host.runtime.modules.includes('vfio_ap')) return
  // Without QCI the matrix device has no configuration info: the limits are 63/15.
  loadModule(hostBus(host), 'vfio_ap')
  klog(host.runtime, KERN_INFO, 'vfio_ap matrix: MDEV: Registered')
}

/** modprobe -r vfio_ap: the mdevs go with the module. */
export function unloadVfioAp(host: Host): void {
  if (!host.runtime.modules.includes('vfio_ap')) return
  host.runtime.mdevs = []
  unloadModule(hostBus(host), 'vfio_ap')
  klog(host.runtime, KERN_INFO, 'vfio_ap matrix: MDEV: Unregistering')
}
