// libvirt's QEMU driver on an emulated host: the domains of Host.libvirt
// and the guests (QEMU processes) behind them. Starting a domain runs the
// command line libvirt generates through aplab's QEMU model and the guest
// core, so every QEMU and kernel rule applies; libvirt's own checks (the
// hostdev rules, the mdev and who holds it) come first, as in libvirt.

import {createRequire} from 'node:module'

import {AplabError} from '../core/errors.js'
import {GuestRefusal, checkStart, contGuest, cpusRun, deviceDel, findGuest, hostCpuFacts, migrateGuest, pauseGuest, resetGuest, startGuest, stopGuest} from '../core/guest.js'
import {now} from '../core/clock.js'
import type {Guest, Host, Libvirt, LibvirtDomain, World} from '../core/model.js'
import {parseQemuArgs} from '../core/qemu/cmdline.js'
import {createDevices, mdevUuidFromSysfsdev, type QemuDevice} from '../core/qemu/devices.js'
import {plugDevice, refusalMessage} from '../core/qemu/monitor.js'
import {libvirtMdevInUse, libvirtMdevNotFound, libvirtMigrationBlocked} from '../core/qemu/libvirt.js'
import {libvirtQmpError, QemuError, startupDeviceError} from '../core/qemu/texts.js'
import {attachedGuest, findMdev} from '../core/vfio.js'
import {type DomainDef, type HostdevDef, formatDomain, mdevSysfsPath, parseDeviceXml, parseDomainXml, qemuCommandLine, readStored, validateHostdevs} from './domain.js'
import {VirError} from './errors.js'

export function libvirtOf(host: Host): Libvirt {
  host.libvirt ??= {domains: [], nextId: 1}
  return host.libvirt
}

/**
 * A stable UUID for a domain libvirt did not define (a guest started with
 * `aplab guest start --libvirt`). Node's crypto module is loaded here, when
 * such a domain is met, not with the driver: loading it cost a virsh call
 * 2.5 ms, most of what its commands do.
 */
export function nameUuid(host: string, name: string): string {
  const {createHash} = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  const h = createHash('sha1').update(`aplab:${host}:${name}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The QEMU process of a domain, when it runs. */
export function guestOf(host: Host, name: string): Guest | undefined {
  return host.guests.find((g) => g.name === name && g.managed === 'libvirt' && g.running)
}

export const isActive = (host: Host, d: LibvirtDomain): boolean => guestOf(host, d.name) !== undefined

/** virDomainState as virsh words it: a domain whose QEMU's CPUs do not run (prelaunch or paused) is paused. */
export function stateOf(host: Host, d: LibvirtDomain): 'running' | 'paused' | 'shut off' {
  const g = guestOf(host, d.name)
  return !g ? 'shut off' : cpusRun(g) ? 'running' : 'paused'
}

/**
 * libvirt's handling of QEMU's STOP and RESUME events for a change it did not
 * ask for (the monitor's stop or cont, through qemu-monitor-command or from
 * outside libvirt): qemuProcessHandleStop pauses the domain with reason
 * unknown, qemuProcessHandleResume runs it with reason unpaused.
 */
export function libvirtSaw(host: Host, g: Guest, event: string): void {
  if (g.managed !== 'libvirt') return
  const d = host.libvirt?.domains.find((x) => x.name === g.name && x.live)
  if (!d) return
  if (event === 'STOP') d.reason = 'unknown'
  else if (event === 'RESUME') d.reason = 'unpaused'
}

/**
 * The CPU time (ns) of an active domain's QEMU process, as virDomainGetInfo
 * reports it. aplab runs no vCPUs, so it is a model of an idle guest: 0.1 s
 * of QEMU's own start-up while its CPUs have not run (-S, prelaunch), then
 * 1.5 s of each vCPU to boot its kernel and 0.5 % of each vCPU since
 * (virsh(1)).
 */
export function cpuTime(host: Host, d: LibvirtDomain): number {
  const g = guestOf(host, d.name)
  if (!g) return 0
  if (g.runState === 'prelaunch') return 100_000_000
  const up = Math.max(0, now() - g.runtime.bootTime) / 1000
  return Math.round(liveDef(host, d).vcpus * (1.5 + 0.005 * up) * 1e9)
}

/**
 * The domain a guest started with `aplab guest start --libvirt` is: libvirt's
 * view of a QEMU command line (`virsh domxml-from-native`), persistent, so a
 * stopped guest stays defined as it stays in `aplab guest list`.
 */
export function adoptGuest(host: Host, g: Guest): LibvirtDomain {
  const lv = libvirtOf(host)
  const existing = lv.domains.find((d) => d.name === g.name)
  if (existing) {
    // Started again outside virsh (aplab guest start NAME): running with the definition it had.
    if (g.running && !existing.live && existing.config !== null) {
      const id = lv.nextId++
      existing.live = {id, xml: formatDomain(readStored(existing.config), {id})}
      existing.reason = cpusRun(g) ? 'booted' : 'user'
    }
    return existing
  }
  const feats = (Object.entries(g.features) as Array<[string, boolean]>).map(([name, on]) => ({policy: on ? ('require' as const) : ('disable' as const), name}))
  const def: DomainDef = {
    type: 'kvm',
    name: g.name,
    uuid: nameUuid(host.name, g.name),
    memory: 131072,
    currentMemory: 131072,
    vcpus: 1,
    machine: 's390-ccw-virtio-10.1',
    cpu: g.cpuModel === 'host' ? {mode: 'host-passthrough', features: feats} : {mode: 'custom', model: g.cpuModel, features: feats},
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onCrash: 'destroy',
    hostdevs: g.device ? [{uuid: g.device.uuid, managed: false, ...(g.device.id ? {alias: g.device.id} : {})}] : [],
    otherDevices: [],
  }
  const d: LibvirtDomain = {
    name: g.name,
    uuid: def.uuid,
    config: formatDomain({...def, hostdevs: def.hostdevs.map(({uuid, managed}) => ({uuid, managed}))}, null),
    autostart: g.autostart,
    live: g.running ? {id: lv.nextId++, xml: formatDomain(def, {id: 0})} : null,
    reason: !g.running ? 'unknown' : cpusRun(g) ? 'booted' : 'user',
  }
  lv.domains.push(d)
  return d
}

/** The host's domains with what happened to their guests outside libvirt settled. */
export function domains(host: Host): LibvirtDomain[] {
  const lv = libvirtOf(host)
  for (const g of host.guests) if (g.managed === 'libvirt' && g.running && !lv.domains.some((d) => d.name === g.name)) adoptGuest(host, g)
  lv.domains = lv.domains.filter((d) => {
    if (isActive(host, d)) return true
    if (d.live) {
      d.live = null
      // Its QEMU ended outside libvirt: whatever it was doing, it shut down.
      if (['booted', 'migrated', 'unpaused', 'user', 'unknown'].includes(d.reason)) d.reason = 'shutdown'
    }
    return d.config !== null
  })
  return lv.domains
}

/** virsh's lookup: by id, then uuid, then name (virshLookupDomainBy); the error is the name lookup's. */
export function lookup(host: Host, arg: string): LibvirtDomain {
  const all = domains(host)
  const byId = /^\d+$/.test(arg) ? all.find((d) => d.live && isActive(host, d) && d.live.id === Number(arg)) : undefined
  const byUuid = arg.length === 36 ? all.find((d) => d.uuid === arg.toLowerCase()) : undefined
  const found = byId ?? byUuid ?? all.find((d) => d.name === arg)
  if (!found) throw new VirError('NO_DOMAIN', `no domain with matching name '${arg}'`)
  return found
}

/** The definition a running domain has now: the one it started with, its hostdev as the guest has it. */
export function liveDef(host: Host, d: LibvirtDomain): DomainDef {
  const def = readStored(d.live!.xml)
  const g = guestOf(host, d.name)!
  const was = new Map(def.hostdevs.map((h) => [h.uuid, h]))
  def.hostdevs = g.device ? [{uuid: g.device.uuid, managed: was.get(g.device.uuid)?.managed ?? false, ...(g.device.id ? {alias: g.device.id} : {})}] : []
  return def
}

export const configDef = (d: LibvirtDomain): DomainDef => readStored(d.config!)

export function dumpXml(host: Host, d: LibvirtDomain, inactive: boolean): string {
  if (isActive(host, d) && !inactive) return formatDomain(liveDef(host, d), {id: d.live!.id})
  return d.config !== null ? d.config : formatDomain(liveDef(host, d), null)
}

// ---------------------------------------------------------------------------
// define / undefine / autostart

export function define(world: World, host: Host, xml: string, newUuid: () => string): LibvirtDomain {
  const def = parseDomainXml(xml, {newUuid})
  const all = domains(host)
  const sameName = all.find((d) => d.name === def.name)
  if (sameName && sameName.uuid !== def.uuid) throw new VirError('OPERATION_FAILED', `domain '${def.name}' already exists with uuid ${sameName.uuid}`)
  const sameUuid = all.find((d) => d.uuid === def.uuid)
  if (sameUuid && sameUuid.name !== def.name) throw new VirError('OPERATION_FAILED', `domain '${sameUuid.name}' is already defined with uuid ${def.uuid}`)
  const elsewhere = findGuest(world, def.name)
  if (elsewhere && elsewhere.host !== host)
    throw new VirError('OPERATION_FAILED', `domain '${def.name}' already exists on host '${elsewhere.host.name}' (aplab guest names are unique across the hosts)`)
  const text = formatDomain(def, null)
  if (sameName) {
    sameName.config = text
    return sameName
  }
  const d: LibvirtDomain = {name: def.name, uuid: def.uuid, config: text, autostart: false, live: null, reason: 'unknown'}
  libvirtOf(host).domains.push(d)
  return d
}

export function undefine(host: Host, d: LibvirtDomain): void {
  if (d.config === null) throw new VirError('OPERATION_INVALID', 'cannot undefine transient domain')
  d.config = null
  d.autostart = false
  const g = host.guests.find((x) => x.name === d.name)
  if (g) g.autostart = false
  if (!isActive(host, d)) {
    const lv = libvirtOf(host)
    lv.domains = lv.domains.filter((x) => x !== d)
    if (g && g.managed === 'libvirt') host.guests.splice(host.guests.indexOf(g), 1)
  }
}

export function setAutostart(host: Host, d: LibvirtDomain, on: boolean): void {
  if (d.config === null) throw new VirError('OPERATION_INVALID', 'cannot set autostart for transient domain')
  d.autostart = on
  const g = host.guests.find((x) => x.name === d.name && x.managed === 'libvirt')
  if (g) g.autostart = on
}

// ---------------------------------------------------------------------------
// start / destroy / shutdown / reboot

/** QEMU's log lines as libvirt quotes them: error_report() lines carry -msg timestamp=on's stamp. */
function qemuLog(lines: readonly string[]): string {
  const iso = new Date(now()).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
  return lines.map((l) => (l.startsWith('qemu-system-s390x:') ? `${iso} ${l}` : l)).join('\n')
}

/** qemuProcessReportLogError: QEMU exited while libvirt waited for its monitor. */
const qemuDied = (name: string, lines: readonly string[]): VirError =>
  new VirError('INTERNAL_ERROR', `QEMU unexpectedly closed the monitor (vm='${name}'): ${qemuLog(lines)}`)

/** virMediatedDeviceListMarkDevices / virMediatedDeviceNew: the mdev exists, and no other domain holds it. */
function prepareMdev(host: Host, name: string, uuid: string): void {
  const m = host.runtime.modules.includes('vfio_ap') ? findMdev(host, uuid) : undefined
  if (!m) throw new VirError('DEVICE_MISSING', libvirtMdevNotFound(uuid).replace(/^device not found: /, ''))
  const holder = attachedGuest(host, m.uuid)
  if (holder && holder.managed === 'libvirt' && (holder.name !== name || holder.device?.uuid === m.uuid))
    throw new VirError('OPERATION_INVALID', libvirtMdevInUse(m.uuid, holder.name).replace(/^Requested operation is not valid: /, ''))
}

/**
 * virDomainCreateWithFlags: libvirt runs QEMU with -S and, unless asked to
 * leave it paused (VIR_DOMAIN_START_PAUSED), starts its CPUs once the
 * devices are in; paused, the domain's reason is user (qemuProcessStart).
 */
export function start(world: World, host: Host, d: LibvirtDomain, o: {paused?: boolean} = {}): void {
  if (d.config === null) throw new VirError('OPERATION_INVALID', 'domain is not persistent')
  const def = configDef(d)
  validateHostdevs(def.hostdevs)
  for (const h of def.hostdevs) prepareMdev(host, d.name, h.uuid)
  def.hostdevs.forEach((h, i) => (h.alias = `hostdev${i}`))
  const args = qemuCommandLine(def)
  let q: ReturnType<typeof parseQemuArgs>
  try {
    q = parseQemuArgs(args, hostCpuFacts(host))
  } catch (e) {
    if (e instanceof QemuError) throw qemuDied(d.name, [...e.before, ...e.lines])
    throw e
  }
  const warnings = q.warnings
  // qdev creates the devices in QEMU's order and stops at the first error.
  const {created, failed} = createDevices(q.devices, q.features.ap)
  if (failed) throw qemuDied(d.name, [...warnings, ...startupDeviceError(failed.dev, failed.msg, failed.hint)])
  const vfio = created.filter((c) => c.driver === 'vfio-ap')
  const spec = {
    name: d.name,
    managed: 'libvirt' as const,
    autostart: d.autostart,
    args,
    cpuModel: q.cpuModel,
    features: q.features,
    devices: vfio.map((c) => ({id: c.id ?? '', sysfsdev: c.props.sysfsdev ?? '', uuid: mdevUuidFromSysfsdev(c.props.sysfsdev ?? '')})),
    freeze: o.paused === true,
  }
  try {
    checkStart(world, host, spec)
  } catch (e) {
    if (e instanceof GuestRefusal) {
      const dev = vfio.find((c) => c.props.sysfsdev === e.detail.sysfsdev) ?? vfio[0]
      throw qemuDied(d.name, [...warnings, ...startupDeviceError(dev, refusalMessage(host, e))])
    }
    if (e instanceof AplabError) throw new VirError('OPERATION_INVALID', e.message)
    throw e
  }
  startGuest(world, host, spec)
  const lv = libvirtOf(host)
  const id = lv.nextId++
  d.live = {id, xml: formatDomain(def, {id})}
  d.reason = o.paused ? 'user' : 'booted'
}

function running(host: Host, d: LibvirtDomain): Guest {
  const g = guestOf(host, d.name)
  if (!g) throw new VirError('OPERATION_INVALID', 'domain is not running')
  return g
}

/** The QEMU process ends (destroy, or the guest powered off): a transient domain is gone with it. */
function stopped(host: Host, d: LibvirtDomain, g: Guest, reason: string): void {
  stopGuest(g)
  d.live = null
  d.reason = reason
  if (d.config === null) {
    const lv = libvirtOf(host)
    lv.domains = lv.domains.filter((x) => x !== d)
    host.guests.splice(host.guests.indexOf(g), 1)
  }
}

export function destroy(host: Host, d: LibvirtDomain): void {
  stopped(host, d, running(host, d), 'destroyed')
}

/** system_powerdown: the guest's Linux powers off at once (aplab's guests have nothing to flush). */
export function shutdown(host: Host, d: LibvirtDomain): void {
  stopped(host, d, running(host, d), 'shutdown')
}

export function reboot(host: Host, d: LibvirtDomain): void {
  resetGuest(host, running(host, d))
}

/**
 * qemuDomainSuspend: the CPUs of an active domain stop (reason user); a
 * domain paused already stays as it is, and the call succeeds.
 */
export function suspend(host: Host, d: LibvirtDomain): void {
  const g = running(host, d)
  if (pauseGuest(g)) d.reason = 'user'
}

/** qemuDomainResume: a paused domain's CPUs run (reason unpaused); a running one is left alone. */
export function resume(host: Host, d: LibvirtDomain): void {
  const g = running(host, d)
  if (contGuest(host, g)) d.reason = 'unpaused'
}

// ---------------------------------------------------------------------------
// attach-device / detach-device

export interface AffectFlags {
  live: boolean
  config: boolean
}

/** VIR_DOMAIN_AFFECT_CURRENT resolved, and the checks virDomainObjUpdateModificationImpact makes. */
export function impact(host: Host, d: LibvirtDomain, f: {live: boolean; config: boolean; persistent: boolean}): AffectFlags {
  const active = isActive(host, d)
  let live = f.live || (f.persistent && active)
  let config = f.config || f.persistent
  if (!live && !config) {
    live = active
    config = !active
  }
  if (live && !active) throw new VirError('OPERATION_INVALID', 'domain is not running')
  if (config && d.config === null) throw new VirError('OPERATION_INVALID', 'transient domains do not have any persistent config')
  return {live, config}
}

/** The lowest hostdevN alias the live definition does not use. */
function freeAlias(g: Guest): string {
  for (let n = 0; ; n++) if (g.device?.id !== `hostdev${n}`) return `hostdev${n}`
}

export function attachDevice(host: Host, d: LibvirtDomain, xml: string, flags: AffectFlags): void {
  const hd = parseDeviceXml(xml)
  let newConfig: DomainDef | null = null
  if (flags.config) {
    newConfig = configDef(d)
    if (newConfig.hostdevs.some((h) => h.uuid === hd.uuid)) throw new VirError('OPERATION_INVALID', 'device is already in the domain configuration')
    newConfig.hostdevs.push({uuid: hd.uuid, managed: hd.managed})
    validateHostdevs(newConfig.hostdevs)
  }
  if (flags.live) {
    const g = running(host, d)
    prepareMdev(host, d.name, hd.uuid)
    const alias = freeAlias(g)
    const sysfsdev = mdevSysfsPath(hd.uuid)
    const dev: QemuDevice = {driver: 'vfio-ap', id: alias, props: {sysfsdev}, json: true}
    // QEMU's device_add, as its monitor runs it (libvirt's QEMU has the group handed to it).
    const err = plugDevice(host, g, dev, 0)
    if (err) throw new VirError('INTERNAL_ERROR', libvirtQmpError('device_add', err.desc).replace(/^internal error: /, ''))
    if (d.live) {
      const def = readStored(d.live.xml)
      def.hostdevs = [{uuid: hd.uuid, managed: hd.managed, alias}]
      d.live.xml = formatDomain(def, {id: d.live.id})
    }
  }
  if (newConfig) d.config = formatDomain(newConfig, null)
}

export function detachDevice(host: Host, d: LibvirtDomain, xml: string, flags: AffectFlags): void {
  const hd = parseDeviceXml(xml)
  let newConfig: DomainDef | null = null
  if (flags.config) {
    newConfig = configDef(d)
    const i = newConfig.hostdevs.findIndex((h) => h.uuid === hd.uuid)
    if (i < 0) throw new VirError('DEVICE_MISSING', 'device not present in domain configuration')
    newConfig.hostdevs.splice(i, 1)
  }
  if (flags.live) {
    const g = running(host, d)
    if (!g.device || g.device.uuid !== hd.uuid) throw new VirError('DEVICE_MISSING', `mediated device '${hd.uuid}' not found`)
    if (g.device.id) deviceDel(g, g.device.id)
    else g.device = null
  }
  if (newConfig) d.config = formatDomain(newConfig, null)
}

// ---------------------------------------------------------------------------
// migrate

/**
 * `virsh migrate DOM qemu+ssh://HOST/system`: the domain moves to another
 * host of the state. QEMU 10.1 reports its blockers, so libvirt refuses a
 * domain with a vfio-ap device with QEMU's reason.
 */
export function migrate(world: World, host: Host, d: LibvirtDomain, target: Host, o: {persistent: boolean; undefineSource: boolean; suspend?: boolean}): void {
  const g = running(host, d)
  if (g.device) throw new VirError('OPERATION_INVALID', libvirtMigrationBlocked().replace(/^Requested operation is not valid: /, ''))
  const tdoms = domains(target)
  const clash = tdoms.find((x) => x.name === d.name || x.uuid === d.uuid)
  if (clash && clash.uuid !== d.uuid) throw new VirError('OPERATION_FAILED', `domain '${d.name}' already exists with uuid ${clash.uuid}`)
  if (clash && clash.name !== d.name) throw new VirError('OPERATION_FAILED', `domain '${clash.name}' is already defined with uuid ${d.uuid}`)
  const def = liveDef(host, d)
  // A paused domain migrates paused (virDomainMigrate adds VIR_MIGRATE_PAUSED), as --suspend asks.
  const paused = !cpusRun(g) || o.suspend === true
  migrateGuest(world, d.name, target.name)
  if (paused && cpusRun(g)) pauseGuest(g)
  const tl = libvirtOf(target)
  const id = tl.nextId++
  const inactive = formatDomain({...def, hostdevs: def.hostdevs.map(({uuid, managed}) => ({uuid, managed}))}, null)
  const config = o.persistent ? inactive : (clash?.config ?? null)
  const moved: LibvirtDomain = {name: d.name, uuid: d.uuid, config, autostart: clash?.autostart ?? false, live: {id, xml: formatDomain(def, {id})}, reason: paused ? 'user' : 'migrated'}
  if (clash) tl.domains[tl.domains.indexOf(clash)] = moved
  else tl.domains.push(moved)
  d.live = null
  d.reason = 'migrated'
  const lv = libvirtOf(host)
  if (d.config === null || o.undefineSource) lv.domains = lv.domains.filter((x) => x !== d)
}

// ---------------------------------------------------------------------------
// The host boots

/**
 * libvirtd at boot (after udev's mdevctl start-parent-mdevs): transient
 * domains died with the host, ids start at 1 again, and autostart domains
 * start. Returns the errors libvirtd logs for those that cannot start.
 */
export function bootDomains(world: World, host: Host): string {
  const lv = libvirtOf(host)
  // A guest the host started already (aplab's autostart of a libvirt guest
  // that had no domain here) keeps its domain running, with a new id.
  const up = lv.domains.filter((d) => d.live && isActive(host, d))
  lv.domains = lv.domains.filter((d) => d.config !== null || up.includes(d))
  lv.nextId = 1
  for (const d of lv.domains) {
    if (up.includes(d)) {
      const id = lv.nextId++
      d.live = {...d.live!, id, xml: formatDomain(readStored(d.live!.xml), {id})}
      continue
    }
    d.live = null
    d.reason = 'unknown'
  }
  let report = ''
  for (const d of lv.domains.filter((x) => x.autostart && !up.includes(x)))
    try {
      start(world, host, d)
    } catch (e) {
      if (!(e instanceof VirError)) throw e
      report += `libvirtd: internal error: Failed to autostart VM '${d.name}': ${e.message}\n`
    }
  return report
}

export type {HostdevDef}
