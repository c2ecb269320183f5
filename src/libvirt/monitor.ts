// `virsh qemu-monitor-command`: a QMP command, or an HMP command line
// wrapped in human-monitor-command, sent to the domain's QEMU. The monitor
// answers as QEMU does (qemu.ts has the parsing and the texts); virsh
// prints libvirt's serialisation of QMP replies, and HMP's text as is.

import {GuestRefusal, deviceAdd, deviceDel} from '../core/guest.js'
import type {Host, LibvirtDomain} from '../core/model.js'
import {
  QemuError,
  type QemuDevice,
  deviceBusy,
  deviceCreateError,
  deviceNotFound,
  hmpError,
  mdevUuidFromSysfsdev,
  noSuchHostDevice,
  parseDeviceAddFull,
  parseDeviceDel,
} from '../core/qemu.js'
import {findMdev} from '../core/vfio.js'
import {guestOf} from './driver.js'
import {VirError, VirshFailure} from './errors.js'

export interface MonitorOptions {
  hmp: boolean
  pretty: boolean
  returnValue: boolean
}

/** libvirt's QMP ids begin after the commands it sends while it starts a domain. */
const FIRST_SEQ = 20

/** The HMP monitor's output, with the "\r\n" line ends QEMU's monitor writes. */
const crlf = (lines: readonly string[]): string => lines.map((l) => l + '\r\n').join('')

type Plug = {ok: true} | {ok: false; cls: string; desc: string; hint?: string}

/** device_add of a vfio-ap device on the guest: qdev's creation, then vfio's realize. */
function plug(host: Host, name: string, dev: QemuDevice): Plug {
  const g = guestOf(host, name)!
  const err = deviceCreateError(dev, {apBus: g.features.ap, apBusOccupied: g.device !== null, existingIds: g.device?.id ? [g.device.id] : []})
  if (err) return {ok: false, cls: 'GenericError', desc: err.msg, ...(err.hint ? {hint: err.hint} : {})}
  if (dev.driver !== 'vfio-ap') return {ok: false, cls: 'GenericError', desc: `aplab emulates only vfio-ap devices, not '${dev.driver}'`}
  const sysfsdev = dev.props.sysfsdev ?? ''
  try {
    deviceAdd(host, g, {id: dev.id ?? '', sysfsdev, uuid: mdevUuidFromSysfsdev(sysfsdev)})
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    const desc = e.kind === 'device-busy' ? deviceBusy(sysfsdev, findMdev(host, e.detail.uuid ?? '')?.group ?? 0) : noSuchHostDevice(sysfsdev || undefined)
    return {ok: false, cls: 'GenericError', desc}
  }
  return {ok: true}
}

/** device_del by id, or by the QOM path of a device added without one (/machine/peripheral-anon/device[N]). */
function unplug(host: Host, name: string, id: string): Plug {
  const g = guestOf(host, name)!
  const peripheral = /^\/machine\/peripheral\/([^/]+)$/.exec(id)
  const anon = /^\/machine\/peripheral-anon\/device\[0\]$/.test(id)
  if (anon && g.device && g.device.id === '') {
    g.device = null
    return {ok: true}
  }
  try {
    deviceDel(g, peripheral ? peripheral[1] : id)
  } catch (e) {
    if (!(e instanceof GuestRefusal)) throw e
    return {ok: false, cls: 'DeviceNotFound', desc: deviceNotFound(id)}
  }
  return {ok: true}
}

function hmp(host: Host, name: string, line: string): string {
  const t = line.replace(/^\s+/, '')
  const cmd = /^\S*/.exec(t)![0]
  const rest = t.slice(cmd.length)
  if (cmd === 'device_add') {
    let dev: QemuDevice
    let monitor: string[]
    try {
      ;({device: dev, monitor} = parseDeviceAddFull(rest))
    } catch (e) {
      if (e instanceof QemuError) return e.stdout.replace(/\n/g, '\r\n') + crlf(e.lines)
      throw e
    }
    const r = plug(host, name, dev)
    return crlf(monitor) + (r.ok ? '' : crlf(hmpError(r.desc, r.hint)))
  }
  if (cmd === 'device_del') {
    let id: string
    try {
      id = parseDeviceDel(rest)
    } catch (e) {
      if (e instanceof QemuError) return e.stdout.replace(/\n/g, '\r\n') + crlf(e.lines)
      throw e
    }
    const r = unplug(host, name, id)
    return r.ok ? '' : crlf(hmpError(r.desc))
  }
  if (cmd === 'info' && rest.trim() === 'status') return crlf(['VM status: running'])
  if (cmd === 'info' && rest.trim() === 'qtree') return crlf(apQtree(host, name))
  if (cmd === '') return ''
  return crlf([`unknown command: '${cmd}'`])
}

/**
 * `info qtree`, the part of the main system bus aplab models: the AP bridge
 * (created only with the ap feature), its ap-bus, and the vfio-ap device on it
 * (qdev_print: two spaces per level, string properties quoted).
 */
function apQtree(host: Host, name: string): string[] {
  const g = guestOf(host, name)!
  const lines = ['bus: main-system-bus', '  type System']
  if (!g.features.ap) return lines
  lines.push('  dev: ap-bridge, id ""', '    bus: ap-bus', '      type ap-bus')
  if (g.device) lines.push(`      dev: vfio-ap, id "${g.device.id}"`, `        sysfsdev = "${g.device.sysfsdev}"`)
  return lines
}

type Json = null | boolean | number | string | Json[] | {[k: string]: Json}

function qmp(host: Host, name: string, text: string): Json {
  let req: Json
  try {
    req = JSON.parse(text) as Json
  } catch (e) {
    // json-c's json_tokener_error_desc(), which libvirt quotes.
    const desc = /end of JSON input/.test((e as Error).message) ? 'unexpected end of data' : 'unexpected character'
    throw new VirshFailure([], new VirError('INTERNAL_ERROR', `cannot parse json ${text}: ${desc}`))
  }
  const err = (cls: string, desc: string): Json => ({error: {class: cls, desc}})
  if (req === null || typeof req !== 'object' || Array.isArray(req)) return err('GenericError', 'QMP input must be a JSON object')
  const exec = req.execute
  if (exec === undefined) return err('GenericError', "QMP input lacks member 'execute'")
  if (typeof exec !== 'string') return err('GenericError', "QMP input member 'execute' must be a string")
  const args = (req.arguments ?? {}) as Json
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return err('GenericError', "QMP input member 'arguments' must be an object")
  const result = (r: Plug): Json => (r.ok ? {return: {}} : err(r.cls, r.desc))
  switch (exec) {
    case 'device_del': {
      const id = args.id
      if (id === undefined) return err('GenericError', "Parameter 'id' is missing")
      if (typeof id !== 'string') return err('GenericError', "Invalid parameter type for 'id', expected: string")
      return result(unplug(host, name, id))
    }
    case 'device_add': {
      const props: Record<string, string> = {}
      let driver = ''
      let id: string | undefined
      for (const [k, v] of Object.entries(args)) {
        const sv = typeof v === 'string' ? v : JSON.stringify(v)
        if (k === 'driver') driver = sv
        else if (k === 'id') id = sv
        else props[k] = sv
      }
      const dev: QemuDevice = {driver, props, json: true, ...(id !== undefined ? {id} : {})}
      return result(plug(host, name, dev))
    }
    case 'query-status':
      return {return: {status: 'running', running: true}}
    default:
      return err('CommandNotFound', `The command ${exec} has not been found`)
  }
}

/** What virsh prints for the command (without its newline), or VirshFailure. */
export function monitorCommand(host: Host, d: LibvirtDomain, cmd: string, o: MonitorOptions): string {
  if (!guestOf(host, d.name) || !d.live) throw new VirshFailure([], new VirError('OPERATION_INVALID', 'domain is not running'))
  if (o.hmp) return hmp(host, d.name, cmd)
  const reply = qmp(host, d.name, cmd) as {[k: string]: Json}
  d.live.seq = (d.live.seq ?? FIRST_SEQ) + 1
  reply.id = `libvirt-${d.live.seq}`
  const shown = o.returnValue && 'return' in reply ? reply.return : reply
  return o.pretty ? JSON.stringify(shown, null, 2) : JSON.stringify(shown)
}
