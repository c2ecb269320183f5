// QEMU 10.1's monitors, HMP and QMP, as one set of rules for every way in:
// the qemu-system-s390x drop-in (src/live/qemu/monitor.ts: prompts, banner,
// greeting, events on sockets and stdio) and `virsh qemu-monitor-command`
// (src/libvirt/monitor.ts: libvirt's framing). Which command exists, what it
// does to the guest, what it answers and with which error class and text
// is decided here and nowhere else; the callers only frame the replies.
//
// A command is a Step: answered at once (`now`), or run on the guest
// (`onGuest`), which the caller does under its own lock (the process takes
// the state lock; virsh runs inside its mutation already). Pure: no I/O.

import {GuestRefusal, contGuest, deviceAdd, deviceDel, hostCpuFacts, pauseGuest, runState} from '../guest.js'
import type {ApFeature, Guest, Host} from '../model.js'
import {mayOpenVfioGroup} from '../perm.js'
import {findMdev} from '../vfio.js'
import {AP_FEATURES, findCpuModel} from './cpu.js'
import {deviceCreateError, mdevUuidFromSysfsdev, type QemuDevice} from './devices.js'
import {parseDeviceAddFull, parseDeviceDel} from './hmp.js'
import {NON_MIGRATABLE} from './libvirt.js'
import {type Json, qjson, qnumToString} from './qobject.js'
import {deviceBusy, deviceNotFound, groupAccessDenied, hmpError, missingParameter, noApBus, noSuchHostDevice, QemuError} from './texts.js'

/** QEMU_VERSION of the emulated QEMU. */
export const QEMU_VERSION = {major: 10, minor: 1, micro: 0}
export const VERSION_TEXT = `${QEMU_VERSION.major}.${QEMU_VERSION.minor}.${QEMU_VERSION.micro}`

/**
 * The CPU definition the emulated host's KVM reports for the `host` model.
 * aplab does not model the machine's generation; it is an IBM z16 A01.
 */
export const HOST_CPU_DEF = 'gen16a'

/** The monitor's greeting (monitor/hmp.c monitor_event CHR_EVENT_OPENED). */
export const HMP_BANNER = `QEMU ${VERSION_TEXT} monitor - type 'help' for more information\n`
export const HMP_PROMPT = '(qemu) '

/** What the monitor knows of its QEMU process without looking at the guest. */
export interface MonitorProcess {
  /** The name of -name guest=NAME (query-name, info name); undefined when none was given. */
  givenName: string | undefined
  /** The uid QEMU runs as (a libvirt-managed guest's QEMU is given its vfio group by libvirt). */
  uid: number
}

/** `quit` from QMP, or from HMP (the SHUTDOWN event says host-qmp-quit for both). */
export type QuitReason = 'host-qmp-quit' | 'host-qmp-quit-hmp'

/** A QMP event; STOP and RESUME carry no data member. */
export interface MonitorEvent {
  event: string
  data?: Json
}

/** A command's outcome: its reply, the QMP events it raised, and whether QEMU quits once the reply is out. */
export interface Done<T> {
  reply: T
  events: MonitorEvent[]
  quit?: QuitReason
}

/** A command: answered at once, or run on the guest under the caller's lock. */
export type Step<T> = {now: Done<T>} | {onGuest: (host: Host, guest: Guest) => Done<T>}

const now = <T>(reply: T, more: Partial<Done<T>> = {}): Step<T> => ({now: {reply, events: [], ...more}})
const onGuest = <T>(fn: (host: Host, guest: Guest) => T | Done<T>, wrap = true): Step<T> => ({
  onGuest: (h, g) => {
    const r = fn(h, g)
    return wrap ? {reply: r as T, events: []} : (r as Done<T>)
  },
})

// ---------------------------------------------------------------------------
// What device_add and device_del do to the guest (qdev-monitor.c, hw/vfio/ap.c)

/** A monitor error: QMP's class and desc; HMP prints "Error: desc" (and the hint). */
export interface MonitorError {
  cls: 'GenericError' | 'CommandNotFound' | 'DeviceNotFound'
  desc: string
  hint?: string
}

/** The message of the guest's refusal of a device (QEMU's realize or qdev). */
export function refusalMessage(host: Host, e: GuestRefusal): string {
  const dev = e.detail.sysfsdev ?? ''
  switch (e.kind) {
    case 'no-ap-bus':
      return noApBus()
    case 'no-such-device':
      return noSuchHostDevice(dev)
    case 'device-busy':
      return deviceBusy(dev, findMdev(host, e.detail.uuid ?? '')?.group ?? 0)
    case 'no-such-id':
      return deviceNotFound(e.detail.id ?? '')
    default:
      return NON_MIGRATABLE()
  }
}

/**
 * QEMU opens the mdev's VFIO group /dev/vfio/N when it realizes the device,
 * after finding the mdev in sysfs and before the group's own open (which
 * answers EBUSY for a group another QEMU has), so a caller who may not open
 * the group gets EACCES first. libvirt hands the group to the QEMU it runs.
 */
export function groupDenied(host: Host, dev: {sysfsdev: string; uuid: string | null}, uid: number, libvirt: boolean): string | null {
  if (libvirt || mayOpenVfioGroup(uid)) return null
  const m = dev.uuid && host.runtime.modules.includes('vfio_ap') ? findMdev(host, dev.uuid) : undefined
  return m ? groupAccessDenied(dev.sysfsdev, m.group) : null
}

/**
 * device_add on the running guest: qdev's creation, then vfio-ap's realize
 * (opening the mdev's vfio group as QEMU's uid). null when the device is in.
 */
export function plugDevice(host: Host, guest: Guest, dev: QemuDevice, uid: number): MonitorError | null {
  const err = deviceCreateError(dev, {apBus: guest.features.ap, apBusOccupied: guest.device !== null, existingIds: guest.device?.id ? [guest.device.id] : []})
  if (err) return {cls: 'GenericError', desc: err.msg, ...(err.hint ? {hint: err.hint} : {})}
  if (dev.driver !== 'vfio-ap') return {cls: 'GenericError', desc: `aplab emulates only vfio-ap devices, not '${dev.driver}'`}
  const sysfsdev = dev.props.sysfsdev ?? ''
  const uuid = mdevUuidFromSysfsdev(sysfsdev)
  const denied = groupDenied(host, {sysfsdev, uuid}, uid, guest.managed === 'libvirt')
  if (denied) return {cls: 'GenericError', desc: denied}
  try {
    deviceAdd(host, guest, {id: dev.id ?? '', sysfsdev, uuid})
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    return {cls: 'GenericError', desc: refusalMessage(host, e)}
  }
  return null
}

/**
 * device_del (qdev-monitor.c find_device_state): an id under
 * /machine/peripheral, or a QOM path (the one of a device added without an
 * id is /machine/peripheral-anon/device[0]). vfio-ap's unplug is immediate,
 * so DEVICE_DELETED comes before the reply.
 */
export function unplugDevice(guest: Guest, id: string): {error: MonitorError} | {event: MonitorEvent} {
  const peripheral = /^\/machine\/peripheral\/([^/]+)$/.exec(id)
  if (/^\/machine\/peripheral-anon\/device\[0\]$/.test(id) && guest.device && guest.device.id === '') {
    guest.device = null
    return {event: {event: 'DEVICE_DELETED', data: {path: id}}}
  }
  const name = peripheral ? peripheral[1] : id
  try {
    deviceDel(guest, name)
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    return {error: {cls: 'DeviceNotFound', desc: deviceNotFound(id)}}
  }
  return {event: {event: 'DEVICE_DELETED', data: {device: name, path: `/machine/peripheral/${name}`}}}
}

/**
 * `info qtree`, the part of the main system bus aplab models: the AP bridge
 * (created only with the ap feature), its ap-bus, and the vfio-ap device on it
 * (qdev_print: two spaces per level, string properties quoted).
 */
export function apQtree(guest: Guest): string[] {
  const lines = ['bus: main-system-bus', '  type System']
  if (!guest.features.ap) return lines
  lines.push('  dev: ap-bridge, id ""', '    bus: ap-bus', '      type ap-bus')
  if (guest.device) lines.push(`      dev: vfio-ap, id "${guest.device.id}"`, `        sysfsdev = "${guest.device.sysfsdev}"`)
  return lines
}

// ---------------------------------------------------------------------------
// HMP (monitor/hmp.c, monitor/hmp-cmds.c): replies with "\n" line ends; the
// transport writes "\r\n" as QEMU's monitor does.

const text = (lines: readonly string[]): string => lines.map((l) => l + '\n').join('')
const qemuText = (e: QemuError): string => (e.stdout ?? '') + text(e.lines)

/** One HMP command line: what the monitor prints for it. */
export function hmpStep(p: MonitorProcess, line: string): Step<string> {
  // get_command_name(): the name ends at white space or '/'.
  const m = /^\s*([^\s/]*)/.exec(line)!
  const cmd = m[1]
  const arg = line.slice(m[0].length)
  switch (cmd) {
    case '':
      return now('')
    case 'device_add': {
      let dev: QemuDevice
      let monitor: string[]
      try {
        ;({device: dev, monitor} = parseDeviceAddFull(arg))
      } catch (e) {
        if (e instanceof QemuError) return now(qemuText(e))
        throw e
      }
      return onGuest((h, g) => {
        const err = plugDevice(h, g, dev, p.uid)
        return text(monitor) + (err ? text(hmpError(err.desc, err.hint)) : '')
      })
    }
    case 'device_del': {
      let id: string
      try {
        id = parseDeviceDel(arg)
      } catch (e) {
        if (e instanceof QemuError) return now(qemuText(e))
        throw e
      }
      return onGuest((_h, g): Done<string> => {
        const r = unplugDevice(g, id)
        return 'error' in r ? {reply: text(hmpError(r.error.desc)), events: []} : {reply: '', events: [r.event]}
      }, false)
    }
    case 'info':
      return hmpInfo(p, line, m[0].length)
    case 'q':
    case 'quit':
      return noArgs('quit|q', line, m[0].length) ?? now('', {quit: 'host-qmp-quit-hmp'})
    case 's':
    case 'stop':
      // hmp_stop: qmp_stop, which prints nothing and cannot fail here.
      return noArgs('stop|s', line, m[0].length) ?? onGuest((_h, g): Done<string> => ({reply: '', events: stopEvents(g)}), false)
    case 'c':
    case 'cont':
      // hmp_cont: qmp_cont; nothing to say when the guest runs already.
      return noArgs('cont|c', line, m[0].length) ?? onGuest((h, g): Done<string> => ({reply: '', events: contEvents(h, g)}), false)
    default:
      // monitor_parse_command(): the line from its start to the end of the name.
      return now(`unknown command: '${line.slice(0, m[0].length)}'\n`)
  }
}

/**
 * monitor_parse_arguments() of a command without arguments (args_type ""):
 * anything after the name is refused with the table's name ("stop|s"), then
 * handle_hmp_command's hint names the command as typed.
 */
function noArgs(tableName: string, line: string, at: number): Step<string> | null {
  if (line.slice(at).trim() === '') return null
  const typed = line.slice(0, at).replace(/\s+$/, '')
  return now(`${tableName}: extraneous characters at the end of line\nTry "help ${typed}" for more information\n`)
}

/** qmp_stop: vm_stop(RUN_STATE_PAUSED), which sends STOP only when the CPUs ran. */
const stopEvents = (g: Guest): MonitorEvent[] => (pauseGuest(g) ? [{event: 'STOP'}] : [])

/** qmp_cont: vm_start(), which sends RESUME only when the CPUs did not run. */
const contEvents = (h: Host, g: Guest): MonitorEvent[] => (contGuest(h, g) ? [{event: 'RESUME'}] : [])

/**
 * hmp_info_status (system/runstate-hmp-cmds.c): "running" or "paused", and
 * the run state's name unless it is plain paused.
 */
export function statusLine(g: Guest): string {
  const st = runState(g)
  return `VM status: ${st === 'running' ? 'running' : 'paused'}${st === 'running' || st === 'paused' ? '' : ` (${st})`}\n`
}

/** `info SUB`: the sub-command table of monitor_parse_command(); at names the end of "info". */
function hmpInfo(p: MonitorProcess, line: string, at: number): Step<string> {
  const m = /^\s*([^\s/]*)/.exec(line.slice(at))!
  const sub = m[1]
  switch (sub) {
    case 'status':
      return onGuest((_h, g) => statusLine(g))
    case 'name':
      return now(p.givenName === undefined ? '' : `${p.givenName}\n`)
    case 'version':
      return now(`${VERSION_TEXT}\n`)
    case 'qtree':
      return onGuest((_h, g) => text(apQtree(g)))
    default:
      // monitor_parse_command() again on the sub-table: the line from its start to the end of the sub-command.
      return now(sub === '' ? '' : `unknown command: '${line.slice(0, at + m[0].length)}'\n`)
  }
}

// ---------------------------------------------------------------------------
// QMP (monitor/qmp.c, qapi/qmp-dispatch.c)

/** monitor/qmp.c qmp_greeting(): capabilities "oob" on a socket monitor, none on stdio. */
export function qmpGreeting(oob: boolean): string {
  return qjson({QMP: {version: {qemu: {micro: QEMU_VERSION.micro, minor: QEMU_VERSION.minor, major: QEMU_VERSION.major}, package: ''}, capabilities: oob ? ['oob'] : []}})
}

export interface QmpSession {
  /** qmp_capabilities was run (libvirt's own connection is always negotiated). */
  negotiated: boolean
}

export type QmpReply = {return: Json} | {error: {class: MonitorError['cls']; desc: string}}

class QmpFail extends Error {
  constructor(
    readonly cls: MonitorError['cls'],
    readonly desc: string,
  ) {
    super(desc)
  }
}

const generic = (desc: string): never => {
  throw new QmpFail('GenericError', desc)
}

type Obj = {[k: string]: Json}
const isObject = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The id QEMU echoes in the reply: the request's, when it is an object with one. */
export const qmpRequestId = (req: Json): Json | undefined => (isObject(req) ? req.id : undefined)

/** The step for one parsed QMP request; its reply has no id (the transport adds it). */
export function qmpStep(p: MonitorProcess, s: QmpSession, req: Json): Step<QmpReply> {
  try {
    if (!isObject(req)) generic('QMP input must be a JSON object')
    const r = req as Obj
    if (!('execute' in r)) generic("QMP input lacks member 'execute'")
    if (typeof r.execute !== 'string') generic("QMP input member 'execute' must be a string")
    const args = r.arguments ?? {}
    if (!isObject(args)) generic("QMP input member 'arguments' must be an object")
    const name = r.execute as string
    if (!s.negotiated && name !== 'qmp_capabilities') throw new QmpFail('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'")
    const step = qmpCommand(p, s, name, args as Obj)
    if ('now' in step) return step
    return {
      onGuest: (h, g) => {
        try {
          return step.onGuest(h, g)
        } catch (e) {
          return failed(e)
        }
      },
    }
  } catch (e) {
    return {now: failed(e)}
  }
}

function failed(e: unknown): Done<QmpReply> {
  if (!(e instanceof QmpFail)) throw e
  return {reply: {error: {class: e.cls, desc: e.desc}}, events: []}
}

const ret = (v: Json, more: Partial<Done<QmpReply>> = {}): Done<QmpReply> => ({reply: {return: v}, events: [], ...more})

/** A command without arguments: the input visitor's visit_check_struct refuses any member. */
const noArguments = (args: Obj): void => {
  const extra = Object.keys(args)[0]
  if (extra !== undefined) generic(`Parameter '${extra}' is unexpected`)
}

const str = (args: Obj, key: string): string => {
  const v = args[key]
  if (v === undefined) generic(missingParameter(key))
  if (typeof v !== 'string') generic(`Invalid parameter type for '${key}', expected: string`)
  return v as string
}

/**
 * device_add's arguments as qmp_device_add() takes them
 * (system/qdev-monitor.c): qemu_opts_from_qdict() makes QemuOpts of them, the
 * id only when it is a string; each other member a string, a number as
 * qnum_to_string() writes it, a boolean as on/off, and anything else skipped
 * (util/qemu-option.c qemu_opts_from_qdict_entry). qdev then reads them back
 * as the strings a -device option gives.
 */
function qmpDevice(args: Obj): QemuDevice {
  const props: Record<string, string> = {}
  let driver = ''
  const id = typeof args.id === 'string' ? args.id : undefined
  for (const [k, v] of Object.entries(args)) {
    if (k === 'id') continue
    const sv = typeof v === 'string' ? v : typeof v === 'number' ? qnumToString(v) : typeof v === 'boolean' ? (v ? 'on' : 'off') : undefined
    if (sv === undefined) continue
    if (k === 'driver') driver = sv
    else props[k] = sv
  }
  return {driver, props, json: true, ...(id !== undefined ? {id} : {})}
}

function qmpCommand(p: MonitorProcess, s: QmpSession, name: string, args: Obj): Step<QmpReply> {
  switch (name) {
    case 'qmp_capabilities':
      if (s.negotiated) throw new QmpFail('CommandNotFound', 'Capabilities negotiation is already complete, command ignored')
      s.negotiated = true
      return {now: ret({})}
    case 'device_add': {
      const dev = qmpDevice(args)
      return {
        onGuest: (h, g) => {
          const err = plugDevice(h, g, dev, p.uid)
          return err ? failed(new QmpFail(err.cls, err.desc)) : ret({})
        },
      }
    }
    case 'device_del': {
      const id = str(args, 'id')
      return {
        onGuest: (_h, g) => {
          const r = unplugDevice(g, id)
          return 'error' in r ? failed(new QmpFail(r.error.cls, r.error.desc)) : ret({}, {events: [r.event]})
        },
      }
    }
    case 'query-status':
      // StatusInfo (qapi/run-state.json, 10.1: no singlestep), in QDict's order.
      noArguments(args)
      return {onGuest: (_h, g) => ret({status: runState(g), running: runState(g) === 'running'})}
    case 'stop':
      noArguments(args)
      return {onGuest: (_h, g) => ret({}, {events: stopEvents(g)})}
    case 'cont':
      noArguments(args)
      return {onGuest: (h, g) => ret({}, {events: contEvents(h, g)})}
    case 'query-name':
      return {now: ret(p.givenName === undefined ? {} : {name: p.givenName})}
    case 'query-version':
      return {now: ret({qemu: {micro: QEMU_VERSION.micro, minor: QEMU_VERSION.minor, major: QEMU_VERSION.major}, package: ''})}
    case 'query-cpu-model-expansion':
      return cpuModelExpansion(args)
    case 'quit':
      return {now: ret({}, {quit: 'host-qmp-quit'})}
    default:
      throw new QmpFail('CommandNotFound', `The command ${name} has not been found`)
  }
}

/**
 * query-cpu-model-expansion (target/s390x/cpu_models_system.c): the model
 * as its definition's static base plus the differences (static), or every
 * feature on (full). aplab models the AP features only, so they are the
 * props: the host's KVM offers ap, apqci (with QCI), apft, apqi (with AP
 * interrupts); a named model has them off unless props turn them on.
 */
function cpuModelExpansion(args: Obj): Step<QmpReply> {
  const type = str(args, 'type')
  if (type !== 'static' && type !== 'full') generic(`Parameter 'type' does not accept value '${type}'`)
  const model = args.model
  if (model === undefined) generic(missingParameter('model'))
  if (!isObject(model)) generic(`Invalid parameter type for 'model', expected: object`)
  const m = model as Obj
  const name = str(m, 'name')
  const info = findCpuModel(name)
  if (!info) generic(`The CPU definition '${name}' is unknown.`)
  const props = m.props ?? {}
  if (!isObject(props)) generic(`Invalid parameter type for 'props', expected: object`)
  for (const [k, v] of Object.entries(props as Obj)) {
    if ((AP_FEATURES as readonly string[]).includes(k) && typeof v !== 'boolean') generic(`Invalid parameter type for '${k}', expected: boolean`)
  }
  const hostModel = info!.kind === 'host' || info!.kind === 'max'
  return {
    onGuest: (host) => {
      const facts = hostCpuFacts(host)
      const feats: Record<ApFeature, boolean> = hostModel ? {ap: facts.ap, apqci: facts.apqci, apft: facts.apft, apqi: facts.apqi} : {ap: false, apqci: false, apft: false, apqi: false}
      for (const [k, v] of Object.entries(props as Obj)) if ((AP_FEATURES as readonly string[]).includes(k)) feats[k as ApFeature] = v as boolean
      const def = hostModel ? HOST_CPU_DEF : name.replace(/-base$/, '')
      const on = Object.fromEntries(AP_FEATURES.filter((f) => feats[f]).map((f) => [f, true]))
      // The name is the definition's static base for both types (cpu_info_from_model).
      return ret({model: {name: `${def}-base`, props: on}})
    },
  }
}
