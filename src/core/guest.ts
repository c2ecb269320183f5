// KVM guests of a host: starting and stopping them with a vfio-ap device,
// what their AP bus sees (derived from the mdev's shadow APCB and their CPU
// features), hot plug through QEMU's monitor, and live migration between
// hosts. QEMU's and libvirt's exact texts live with the command layer; the
// core says which refusal it is.

import {ApBus} from './apbus.js'
import {KERN_WARNING, klog} from './dmesg.js'
import {AplabError} from './errors.js'
import {boot} from './host.js'
import {Mask} from './mask.js'
import {type ApFeature, type Guest, type GuestDevice, type Host, type Lpar, type Mdev, type QueueHw, type World, queueName} from './model.js'
import {attachedGuest, findMdev} from './vfio.js'

export {attachedGuest}

/** Why QEMU (or libvirt) refuses; the command layer words it as the real tool does. */
export type GuestRefusalKind =
  /** -device vfio-ap with ap=off, or a second vfio-ap device: the ap-bus is missing or full. */
  | 'no-ap-bus'
  /** The sysfsdev names no mdev of this host. */
  | 'no-such-device'
  /** The mdev is open in another guest. */
  | 'device-busy'
  /** device_del of an id the guest does not have. */
  | 'no-such-id'
  /** Migration with a vfio-ap device attached. */
  | 'not-migratable'

export class GuestRefusal extends AplabError {
  constructor(
    readonly kind: GuestRefusalKind,
    readonly detail: {sysfsdev?: string; id?: string; uuid?: string; holder?: string; managed?: Guest['managed']} = {},
  ) {
    super(kind)
  }
}

/** What the host's KVM offers a guest's `host` CPU model. */
export function hostCpuFacts(host: Host): Record<ApFeature, boolean> {
  return {ap: true, apqci: host.lpar.qci, apft: true, apqi: host.lpar.airq}
}

export function findGuest(world: World, name: string): {host: Host; guest: Guest} | undefined {
  for (const host of world.hosts) {
    const guest = host.guests.find((g) => g.name === name)
    if (guest) return {host, guest}
  }
  return undefined
}

export interface Apcb {
  apm: Mask
  aqm: Mask
  adm: Mask
}

const EMPTY: Apcb = {apm: Mask.empty(), aqm: Mask.empty(), adm: Mask.empty()}

/**
 * The guest's APCB (its CRYCB masks): while it has the mdev open, the
 * mdev's shadow, which vfio_ap keeps in the CRYCB on every change; empty
 * otherwise.
 */
export function guestApcb(host: Host, g: Guest): Apcb {
  if (!g.running || !g.device || !g.features.ap) return EMPTY
  const m = findMdev(host, g.device.uuid)
  if (!m || attachedGuest(host, m.uuid) !== g) return EMPTY
  return {apm: m.shadow.apm, aqm: m.shadow.aqm, adm: m.shadow.adm}
}

/**
 * The AP configuration the guest's kernel finds: the host's adapters of its
 * APCB, of their real type and mode; QCI only with apqci (else the limits
 * are 63/15 and TAPQ finds only what lies below them); no adapter types
 * without apft (so no devices); AP interrupts only with apqi.
 */
export function guestLpar(host: Host, g: Guest): Lpar {
  const apcb = guestApcb(host, g)
  const f = g.features
  // Copies, never the host's objects: nothing the guest's kernel does can
  // reach the host's configuration or another guest's.
  const adapters = host.lpar.adapters
    .filter((a) => apcb.apm.has(a.id))
    .map((a) => ({...a, ...(a.ep11 && {ep11: {...a.ep11}}), ...(!f.apft && {rawType: 0})}))
  const queues: Lpar['queues'] = {}
  const copy = (name: string, q: QueueHw | undefined): void => {
    if (q) queues[name] = {...q, ...(q.mk && {mk: {...q.mk}})}
  }
  // Whichever is fewer: the APCB's queues, or the queues with firmware state.
  const hw = host.lpar.queues
  const names = Object.keys(hw)
  if (apcb.apm.count() * apcb.aqm.count() < names.length) {
    for (const a of apcb.apm.bits()) for (const d of apcb.aqm.bits()) copy(queueName(a, d), hw[queueName(a, d)])
  } else {
    for (const name of names)
      if (apcb.apm.has(parseInt(name.slice(0, 2), 16)) && apcb.aqm.has(parseInt(name.slice(3), 16))) copy(name, hw[name])
  }
  const qci = f.apqci && host.lpar.qci
  return {
    qci,
    features: host.lpar.features.filter((x) => x !== 'APSB'),
    na: host.lpar.na,
    nd: host.lpar.nd,
    airq: f.apqi && host.lpar.airq,
    adapters,
    usage: apcb.aqm,
    control: apcb.adm,
    queues,
    apReconfig: false,
  }
}

export function guestBus(host: Host, g: Guest): ApBus {
  const bus = new ApBus(guestLpar(host, g), g.runtime)
  // The guest kernel picks a default domain at every bus scan until it has one.
  if (g.runtime.domain < 0) g.runtime.domain = bus.selectDomain()
  return bus
}

/**
 * Devices that left a running guest's AP bus (hot unplug, a mask or
 * configuration change on the host) are gone from its kernel, and so are
 * their records: one that comes back is new, online and bound. The store
 * runs this after every change, before it writes the state. Whether it
 * changed any guest's kernel.
 */
export function settleGuests(world: World): boolean {
  // The change reached the guest's kernel as an AP configuration change: its bus scans, and
  // picks a default domain if it has none yet (guestBus), as it would without a command run in it.
  // A kernel with a default domain and no records of devices has nothing to settle: its bus
  // (the guest's view of its host, the dearest part) is not made.
  let changed = false
  for (const h of world.hosts)
    for (const g of h.guests) {
      // A paused guest's kernel runs nothing: it sees the change when it runs again (contGuest).
      if (!cpusRun(g)) continue
      const rt = g.runtime
      if (rt.domain >= 0 && rt.offline.length === 0 && rt.unbound.length === 0 && Object.keys(rt.counters).length === 0) continue
      const domain = rt.domain
      if (guestBus(h, g).forgetGone() || rt.domain !== domain) changed = true
    }
  return changed
}

/** QEMU's RunState of a guest (qapi/run-state.json): only the states aplab models. */
export type RunState = 'running' | 'prelaunch' | 'paused'

/** The run state of a running guest's QEMU. */
export const runState = (g: Guest): RunState => g.runState ?? 'running'

/** runstate_is_running(): the guest runs and its CPUs do. */
export const cpusRun = (g: Guest): boolean => g.running && g.runState === undefined

/**
 * vm_stop(RUN_STATE_PAUSED) (system/cpus.c do_vm_stop): a guest whose CPUs
 * run is paused; in any other state nothing happens. Whether it changed
 * (QEMU then sends STOP).
 */
export function pauseGuest(g: Guest): boolean {
  if (!cpusRun(g)) return false
  g.runState = 'paused'
  return true
}

/**
 * vm_start() (system/cpus.c vm_prepare_start): the CPUs run. From prelaunch
 * the guest's kernel boots now (the vfio-ap device was open from the start,
 * so it finds its APCB set); from paused the kernel goes on and sees what
 * changed meanwhile. A guest that runs already is left alone. Whether it
 * changed (QEMU then sends RESUME).
 */
export function contGuest(host: Host, g: Guest): boolean {
  if (!g.running || g.runState === undefined) return false
  const was = g.runState
  delete g.runState
  if (was === 'prelaunch') bootGuest(host, g)
  else guestBus(host, g).forgetGone()
  return true
}

const GUEST_CMDLINE = 'root=/dev/vda1 console=ttysclp0'
const NO_AP = 'ap: The hardware system does not support AP instructions'

/** The guest's kernel boots (start, reset, reboot): a fresh AP bus of its own. */
export function bootGuest(host: Host, g: Guest): void {
  g.runtime = boot(guestLpar(host, g), {cmdline: GUEST_CMDLINE, files: {}})
  if (!g.features.ap) {
    g.runtime.dmesg = []
    klog(g.runtime, KERN_WARNING, NO_AP)
  }
}

export interface GuestStart {
  name: string
  managed: Guest['managed']
  autostart: boolean
  args: string[]
  cpuModel: string
  features: Record<ApFeature, boolean>
  /** The vfio-ap devices of the command line, in order. */
  devices: Array<{id: string; sysfsdev: string; uuid: string | null}>
  /** -S: the guest is created and its devices realized, but its CPUs wait for `cont` (prelaunch). */
  freeze?: boolean
}

/** QEMU's realize of a vfio-ap device: the ap-bus, the mdev, and that no other guest has it open. */
function realize(host: Host, g: Pick<Guest, 'name' | 'features'>, dev: {id: string; sysfsdev: string; uuid: string | null}, taken: number): GuestDevice {
  if (!g.features.ap || taken > 0) throw new GuestRefusal('no-ap-bus', {sysfsdev: dev.sysfsdev})
  const m: Mdev | undefined = dev.uuid ? findMdev(host, dev.uuid) : undefined
  if (!m || !host.runtime.modules.includes('vfio_ap')) throw new GuestRefusal('no-such-device', {sysfsdev: dev.sysfsdev})
  const holder = attachedGuest(host, m.uuid)
  if (holder && holder.name !== g.name) throw new GuestRefusal('device-busy', {sysfsdev: dev.sysfsdev, uuid: m.uuid, holder: holder.name})
  return {id: dev.id, uuid: m.uuid, sysfsdev: dev.sysfsdev}
}

/**
 * What starting would refuse, without starting: a name taken elsewhere, or
 * a device QEMU cannot realize (GuestRefusal). The device the guest gets.
 */
export function checkStart(world: World, host: Host, s: GuestStart): GuestDevice | null {
  const found = findGuest(world, s.name)
  if (found && (found.host !== host || found.guest.running))
    throw new AplabError(
      found.guest.running
        ? `guest '${s.name}' is running already on host '${found.host.name}'`
        : `guest '${s.name}' is defined on host '${found.host.name}' (a guest name is unique across the hosts)`,
    )
  let device: GuestDevice | null = null
  s.devices.forEach((d, i) => {
    device = realize(host, s, d, i)
  })
  return device
}

/**
 * Start a guest (a new one, or a stopped one again with new arguments): the
 * vfio-ap device is opened before the guest's kernel runs, so it boots with
 * the APCB already set. With -S (freeze) the machine and its devices are
 * there but the CPUs wait: the kernel boots at the first `cont`.
 */
export function startGuest(world: World, host: Host, s: GuestStart): Guest {
  const device = checkStart(world, host, s)
  const found = findGuest(world, s.name)
  const g: Guest = {
    name: s.name,
    managed: s.managed,
    autostart: s.autostart,
    running: true,
    args: [...s.args],
    cpuModel: s.cpuModel,
    features: {...s.features},
    device,
    runtime: found?.guest.runtime ?? boot({...host.lpar, adapters: []}, {cmdline: '', files: {}}),
  }
  if (found) host.guests[host.guests.indexOf(found.guest)] = g
  else host.guests.push(g)
  if (s.freeze) g.runState = 'prelaunch'
  else bootGuest(host, g)
  return g
}

/** The QEMU process ends: the device is closed (APCB cleared, queues reset); the definition stays. */
export function stopGuest(g: Guest): void {
  g.running = false
  delete g.runState
}

/**
 * system_reset: the guest reboots; the vfio-ap device is reset but keeps its
 * APCB. A guest whose CPUs do not run is left in prelaunch, without a kernel
 * (system/runstate.c main_loop_should_exit: a reset outside the running
 * state ends in RUN_STATE_PRELAUNCH).
 */
export function resetGuest(host: Host, g: Guest): void {
  if (g.runState !== undefined) g.runState = 'prelaunch'
  else bootGuest(host, g)
}

/** (qemu) device_add vfio-ap,sysfsdev=...,id=...: the guest sees the queues at its next scan (at once with 6.15+ and QEMU 10.1). */
export function deviceAdd(host: Host, g: Guest, dev: {id: string; sysfsdev: string; uuid: string | null}): void {
  g.device = realize(host, g, dev, g.device ? 1 : 0)
}

/** (qemu) device_del ID: the device is unplugged and closed. */
export function deviceDel(g: Guest, id: string): void {
  if (!g.device || g.device.id !== id || id === '') throw new GuestRefusal('no-such-id', {id})
  g.device = null
}

/**
 * Live migration to another host of the same state. A guest with a vfio-ap
 * device cannot move (the device is not migratable); after device_del it
 * can, and on the target an mdev of that host can be attached.
 */
export function migrateGuest(world: World, name: string, to: string): {from: Host; to: Host; guest: Guest} {
  const found = findGuest(world, name)
  if (!found) throw new AplabError(`no guest named '${name}'`)
  const target = world.hosts.find((h) => h.name === to)
  if (!target) throw new AplabError(`no host named '${to}' (hosts: ${world.hosts.map((h) => h.name).join(', ')})`)
  const {host, guest} = found
  if (!guest.running) throw new AplabError(`guest '${name}' is not running`)
  if (target === host) throw new AplabError(`guest '${name}' runs on host '${to}' already`)
  if (guest.device) throw new GuestRefusal('not-migratable', {id: guest.device.id, managed: guest.managed})
  host.guests.splice(host.guests.indexOf(guest), 1)
  target.guests.push(guest)
  return {from: host, to: target, guest}
}
