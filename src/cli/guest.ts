// `aplab guest ...`: guests started with QEMU's arguments, what runs inside
// them, the QEMU monitor's device_add/device_del, and migration. QEMU's
// and libvirt's texts come from core/qemu/ (the monitor's rules from core/qemu/monitor.ts).

import {ToolExit, UsageError} from '../core/errors.js'
import {
  GuestRefusal,
  checkStart,
  contGuest,
  findGuest,
  guestApcb,
  hostCpuFacts,
  migrateGuest,
  pauseGuest,
  resetGuest,
  runState,
  startGuest,
  stopGuest,
} from '../core/guest.js'
import {HOST_NAME_RE, type Guest, type Host, type World, hex2, hex4} from '../core/model.js'
import {attachedGuest, findMdev} from '../core/vfio.js'
import {adoptGuest, libvirtSaw} from '../libvirt/driver.js'
import type {GuestInfo} from '../views/guest.js'
import {mayClear} from '../tools/dmesg.js'
import {parseQemuArgs} from '../core/qemu/cmdline.js'
import {createDevices, mdevUuidFromSysfsdev as mdevUuid, type QemuDevice} from '../core/qemu/devices.js'
import {parseDeviceAdd} from '../core/qemu/hmp.js'
import {groupDenied, plugDevice, refusalMessage, unplugDevice} from '../core/qemu/monitor.js'
import {LIBVIRT_ONE_VFIO_AP, libvirtMdevInUse, libvirtMdevNotFound, libvirtMigrationBlocked, NON_MIGRATABLE, virshStartFailed} from '../core/qemu/libvirt.js'
import {hmpError, QemuError, startupDeviceError} from '../core/qemu/texts.js'

export interface StartOptions {
  libvirt: boolean
  autostart: boolean
  /** Who runs QEMU (the caller; root for the guests a host's boot starts). */
  uid?: number
}

/** The message for a refusal: at start with QEMU's `-device ...:` location, in the monitor with `Error: `. */
function refusalText(host: Host, e: GuestRefusal, at: QemuDevice | null): string {
  const msg = refusalMessage(host, e)
  return (at === null ? hmpError(msg) : startupDeviceError(at, msg)).map((l) => l + '\n').join('')
}

/** QEMU's stderr for a refusal of its own (options, CPU model), as a tool exit. */
function qemuExit(e: unknown): never {
  if (e instanceof QemuError) throw new ToolExit(e.stdout + e.stderr, e.exitCode)
  throw e
}

/** The emulated host is a KVM host and guests are KVM guests: without an accelerator given, KVM is used. */
export const withKvm = (args: string[]): string[] =>
  args.some((a, i) => /^--?(enable-kvm|accel)$/.test(a) || (/^--?(M|machine)$/.test(a) && /accel=/.test(args[i + 1] ?? ''))) ? args : ['-accel', 'kvm', ...args]

export function start(world: World, host: Host, name: string, qemuArgs: string[], o: StartOptions): string {
  if (!HOST_NAME_RE.test(name)) throw new UsageError(`'${name}' is not a valid guest name (letters, digits, '.', '_' and '-')`)
  const found = findGuest(world, name)
  const args = qemuArgs.length === 0 && found && !found.guest.running ? found.guest.args : qemuArgs
  let q: ReturnType<typeof parseQemuArgs>
  try {
    q = parseQemuArgs(withKvm(args), hostCpuFacts(host))
  } catch (e) {
    qemuExit(e)
  }
  if (q.earlyExit) throw new ToolExit('', q.earlyExit.exitCode)
  const warnings = q.warnings.map((l) => (l.endsWith('\n') ? l : l + '\n')).join('')
  const all = q.devices.filter((d) => d.driver === 'vfio-ap')
  if (o.libvirt) libvirtChecks(world, host, name, all)
  // QEMU creates and realizes one device after the other and stops at the first error:
  // the devices created before a creation error are realized first, and so may fail first.
  const {created, failed} = createDevices(q.devices, q.features.ap)
  const vfio = created.filter((d) => d.driver === 'vfio-ap')
  const devices = vfio.map((d, i) => ({
    id: d.id ?? (o.libvirt ? `hostdev${i}` : ''),
    sysfsdev: d.props.sysfsdev ?? '',
    uuid: mdevUuid(d.props.sysfsdev ?? ''),
  }))
  const spec = {name, managed: o.libvirt ? ('libvirt' as const) : ('qemu' as const), autostart: o.autostart, args, cpuModel: q.cpuModel, features: q.features, devices, freeze: q.freeze}
  // Only the first vfio-ap device can get as far as opening its group (a second finds the ap-bus full).
  const denied = q.features.ap && devices.length > 0 ? groupDenied(host, devices[0], o.uid ?? 0, o.libvirt) : null
  try {
    checkStart(world, host, spec)
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    if (denied) throw new ToolExit(warnings + startupDeviceError(vfio[0], denied).map((l) => l + '\n').join(''), 1)
    const i = devices.findIndex((d) => d.sysfsdev === e.detail.sysfsdev)
    throw new ToolExit(warnings + refusalText(host, e, vfio[Math.max(0, i)] ?? null), 1)
  }
  if (denied) throw new ToolExit(warnings + startupDeviceError(vfio[0], denied).map((l) => l + '\n').join(''), 1)
  if (failed) throw new ToolExit(warnings + startupDeviceError(failed.dev, failed.msg, failed.hint).map((l) => l + '\n').join(''), 1)
  const g = startGuest(world, host, spec)
  if (o.libvirt) adoptGuest(host, g)
  return warnings
}

/**
 * A guest whose CPUs run, for what runs inside it (aplab guest exec): a
 * paused guest runs nothing, and one in prelaunch has no kernel yet.
 */
export function executing(world: World, name: string): {host: Host; guest: Guest} {
  const f = running(world, name)
  const st = runState(f.guest)
  if (st === 'prelaunch')
    throw new UsageError(`guest '${name}' is paused (prelaunch): its CPUs have not run yet, so it has no kernel to run a command in (aplab guest resume ${name})`)
  if (st === 'paused') throw new UsageError(`guest '${name}' is paused: its CPUs run nothing, so no command runs in it (aplab guest resume ${name})`)
  return f
}

/** (qemu) stop: the guest's CPUs stop; its kernel is kept. Nothing happens to a guest that is paused already. */
export function pause(world: World, name: string): void {
  const {host, guest} = running(world, name)
  if (pauseGuest(guest)) libvirtSaw(host, guest, 'STOP')
}

/** (qemu) cont: the CPUs run (from prelaunch the kernel boots now). Nothing happens to a guest that runs. */
export function resume(world: World, name: string): void {
  const {host, guest} = running(world, name)
  if (contGuest(host, guest)) libvirtSaw(host, guest, 'RESUME')
}

/** What libvirt refuses before it runs QEMU for a domain: virsh start's report. */
function libvirtChecks(world: World, host: Host, name: string, vfio: readonly QemuDevice[]): void {
  const refuse = (msg: string): never => {
    throw new ToolExit(virshStartFailed(name, msg), 1)
  }
  if (vfio.length > 1) refuse(LIBVIRT_ONE_VFIO_AP)
  for (const d of vfio) {
    const uuid = mdevUuid(d.props.sysfsdev ?? '') ?? ''
    const m = findMdev(host, uuid)
    if (!m) refuse(libvirtMdevNotFound(uuid || (d.props.sysfsdev ?? '')))
    const holder = attachedGuest(host, m!.uuid)
    if (holder && holder.name !== name && holder.managed === 'libvirt') refuse(libvirtMdevInUse(m!.uuid, holder.name))
  }
}

export function locate(world: World, name: string): {host: Host; guest: Guest} {
  const f = findGuest(world, name)
  if (!f) throw new UsageError(`no guest named '${name}' (aplab guest list shows them)`)
  return f
}

export function running(world: World, name: string): {host: Host; guest: Guest} {
  const f = locate(world, name)
  if (!f.guest.running) throw new UsageError(`guest '${name}' is not running (aplab guest start ${name})`)
  return f
}

export function stop(world: World, name: string): void {
  stopGuest(running(world, name).guest)
}

export function reset(world: World, name: string): void {
  const {host, guest} = running(world, name)
  resetGuest(host, guest)
}

export function remove(world: World, name: string): void {
  const {host, guest} = locate(world, name)
  if (guest.running) throw new UsageError(`guest '${name}' is running (aplab guest stop ${name} first)`)
  host.guests.splice(host.guests.indexOf(guest), 1)
}

/** (qemu) device_add: errors as the monitor prints them (core/qemu/monitor.ts). QEMU runs as the caller (uid) unless libvirt runs it. */
export function monitorAdd(world: World, name: string, spec: string, uid = 0): void {
  const {host, guest} = running(world, name)
  let d: QemuDevice
  try {
    d = parseDeviceAdd(spec)
  } catch (e) {
    if (e instanceof QemuError) throw new ToolExit(e.stdout + e.lines.map((l) => l + '\n').join(''), 1)
    throw e
  }
  const err = plugDevice(host, guest, d, uid)
  if (err) throw new ToolExit(hmpError(err.desc, err.hint).map((l) => l + '\n').join(''), 1)
}

/** (qemu) device_del: by id or QOM path (core/qemu/monitor.ts). */
export function monitorDel(world: World, name: string, id: string): void {
  const {guest} = running(world, name)
  const r = unplugDevice(guest, id)
  if ('error' in r) throw new ToolExit(hmpError(r.error.desc).map((l) => l + '\n').join(''), 1)
}

export function migrate(world: World, name: string, to: string): void {
  try {
    migrateGuest(world, name, to)
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    throw new ToolExit(e.detail.managed === 'libvirt' ? `error: ${libvirtMigrationBlocked()}\n` : hmpError(NON_MIGRATABLE())[0] + '\n', 1)
  }
}

export function info(host: Host, g: Guest): GuestInfo {
  const apcb = guestApcb(host, g)
  const feats = (Object.entries(g.features) as Array<[string, boolean]>).map(([k, v]) => `${k}=${v ? 'on' : 'off'}`).join(',')
  return {
    name: g.name,
    host: host.name,
    state: !g.running ? 'shut off' : runState(g) === 'running' ? 'running' : 'paused',
    run_state: g.running ? runState(g) : null,
    managed: g.managed,
    autostart: g.autostart,
    cpu: `${g.cpuModel},${feats}`,
    device: g.device ? {...g.device} : null,
    apqns: apcb.apm.bits().flatMap((a) => apcb.aqm.bits().map((d) => `${hex2(a)}.${hex4(d)}`)),
    control_domains: apcb.adm.bits().map(hex4),
  }
}

export function infos(world: World): GuestInfo[] {
  return world.hosts.flatMap((h) => h.guests.map((g) => info(h, g))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** What `aplab guest exec` runs inside a guest, and whether it can change the guest. */
export function execMutates(cmd: string[]): boolean {
  const [c, a, b] = cmd
  const words = c === 'aplab' ? cmd.slice(1) : cmd
  return (words[0] === 'dmesg' && mayClear(words.slice(1))) || c === 'chzcrypt' || (c === 'aplab' && a === 'sysfs' && b === 'write') || (c === 'sysfs' && a === 'write') || (c === 'aplab' && a === 'chzcrypt')
}

/** dmesg -w, -W in a guest: aplab guest exec runs a command to its end and prints its output then. */
const GUEST_NO_FOLLOW = "dmesg: aplab guest exec cannot follow a guest's kernel log (-w, -W): it prints a command's output when the command ends\n"

/** Run a command in the guest: lszcrypt, chzcrypt, cat, ls, dmesg, or aplab sysfs cat|ls|write. */
export async function execIn(host: Host, g: Guest, cmd: string[], uid: number): Promise<{stdout: string; stderr: string; code: number}> {
  const [{guestVfs}, {Stdio}, shell] = await Promise.all([import('../sysfs/guest.js'), import('../tools/libc.js'), import('../sysfs/shell.js')])
  const vfs = guestVfs(host, g, uid)
  let words = cmd[0] === 'aplab' ? cmd.slice(1) : cmd
  if (words[0] === 'sysfs') words = words.slice(1)
  const [c, ...rest] = words
  if (c === 'lszcrypt' || c === 'chzcrypt') {
    const io = new Stdio(false)
    const run = c === 'lszcrypt' ? (await import('../tools/lszcrypt.js')).runLszcrypt : (await import('../tools/chzcrypt.js')).runChzcrypt
    const code = run(rest, vfs, io)
    return {stdout: io.stdout, stderr: io.stderr, code}
  }
  if (c === 'cat') return shell.cat(vfs, rest)
  if (c === 'ls') return shell.ls(vfs, rest)
  if (c === 'write' && rest.length === 2) return shell.echo(vfs, rest[0], rest[1] + '\n')
  if (c === 'dmesg') {
    // util-linux's dmesg on the guest's own ring buffer: -C/-c clear it, as root only.
    const {runDmesg} = await import('../tools/dmesg.js')
    const d = runDmesg(rest, g.runtime.dmesg, g.runtime.bootTime, uid, GUEST_NO_FOLLOW)
    if (d.clear) g.runtime.dmesg = []
    return {stdout: d.stdout, stderr: d.stderr, code: d.code}
  }
  throw new UsageError(`'${cmd.join(' ')}' cannot run in a guest: use lszcrypt, chzcrypt, cat, ls, dmesg or aplab sysfs cat|ls|write`)
}
