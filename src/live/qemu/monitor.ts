// QEMU's two monitors over the running guest: HMP (the human monitor,
// `(qemu) ` prompt) and QMP (JSON). Each command that changes the guest
// runs as one state mutation under the state lock, through the same code
// as `aplab guest device-add|device-del` (cli/guest.ts monitorAdd and
// monitorDel), so the texts and rules are those of QEMU 10.1 in one place.

import {ToolExit} from '../../core/errors.js'
import {hostCpuFacts} from '../../core/guest.js'
import {type ApFeature, type Guest, type Host, type World} from '../../core/model.js'
import {AP_FEATURES, QemuError, deviceNotFound, findCpuModel, missingParameter, parseDeviceDel, qemuJsonParse} from '../../core/qemu.js'

/** QEMU_VERSION of the emulated QEMU. */
export const QEMU_VERSION = {major: 10, minor: 1, micro: 0}
export const VERSION_TEXT = `${QEMU_VERSION.major}.${QEMU_VERSION.minor}.${QEMU_VERSION.micro}`

/**
 * The CPU definition the emulated host's KVM reports for the `host` model.
 * aplab does not model the machine's generation; it is an IBM z16 A01.
 */
export const HOST_CPU_DEF = 'gen16a'

/** The guest this process runs, as the monitors reach it. */
export interface Vm {
  /** The name of -name guest=NAME (query-name, info name); undefined when none was given. */
  givenName: string | undefined
  /**
   * Run a change of the guest under the state lock. Throws GuestGone when
   * the guest is no longer this process's (stopped or started again by
   * another command): the process then ends.
   */
  change<T>(fn: (w: World, host: Host, guest: Guest) => T): Promise<T>
  /** `quit`: the guest ends and the process exits 0, once the reply is out. */
  quit(reason: 'host-qmp-quit' | 'host-qmp-quit-hmp'): void
  /** Send a QMP event to every QMP client that completed negotiation. */
  event(name: string, data: Json): void
  uid: number
}

export class GuestGone extends Error {}

// ---------------------------------------------------------------------------
// JSON as QEMU writes it (qobject/json-writer.c, not pretty): ", " and ": ".

export type Json = null | boolean | number | string | Json[] | {[k: string]: Json}

function quoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\b') out += '\\b'
    else if (ch === '\f') out += '\\f'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (c < 0x20 || c >= 0x7f) {
      // Non-ASCII as \uXXXX, astral characters as a surrogate pair.
      for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}

export function qjson(v: Json): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean' || typeof v === 'number') return String(v)
  if (typeof v === 'string') return quoted(v)
  if (Array.isArray(v)) return '[' + v.map(qjson).join(', ') + ']'
  return '{' + Object.entries(v).map(([k, x]) => `${quoted(k)}: ${qjson(x)}`).join(', ') + '}'
}

// ---------------------------------------------------------------------------
// HMP

/** The monitor's greeting (monitor/hmp.c monitor_event CHR_EVENT_OPENED). */
export const HMP_BANNER = `QEMU ${VERSION_TEXT} monitor - type 'help' for more information\n`
export const HMP_PROMPT = '(qemu) '

/** The monitor's lines (ToolExit texts of cli/guest.ts) without the final newline handling. */
const lines = (e: unknown): string => {
  if (e instanceof ToolExit) return e.message
  if (e instanceof QemuError) return e.stdout + e.lines.map((l) => l + '\n').join('')
  throw e
}

/**
 * One HMP command line: what the monitor prints for it (with "\n"; the
 * transport writes "\r\n" as the monitor does). `quit` ends the process.
 */
export async function hmpCommand(vm: Vm, line: string): Promise<string> {
  const m = /^\s*(\S*)\s*(.*?)\s*$/.exec(line)!
  const [cmd, arg] = [m[1], m[2]]
  if (cmd === '') return ''
  switch (cmd) {
    case 'device_add': {
      const {monitorAdd} = await import('../../cli/guest.js')
      try {
        await vm.change((w, _h, g) => monitorAdd(w, g.name, arg, vm.uid))
        return ''
      } catch (e) {
        return lines(e)
      }
    }
    case 'device_del': {
      const {monitorDel} = await import('../../cli/guest.js')
      try {
        const id = parseDeviceDel(arg)
        await vm.change((w, _h, g) => monitorDel(w, g.name, id))
        return ''
      } catch (e) {
        return lines(e)
      }
    }
    case 'info':
      return hmpInfo(vm, line, arg)
    case 'q':
    case 'quit':
      vm.quit('host-qmp-quit-hmp')
      return ''
    case 'c':
    case 'cont':
      // The guest runs from the start (-S is not emulated): nothing to resume.
      await vm.change(() => undefined)
      return ''
    default:
      // monitor_parse_command(): the command name up to its end.
      return `unknown command: '${line.trimStart().slice(0, cmd.length)}'\n`
  }
}

async function hmpInfo(vm: Vm, line: string, arg: string): Promise<string> {
  const sub = /^\S*/.exec(arg)![0]
  switch (sub) {
    case 'status':
      await vm.change(() => undefined)
      return 'VM status: running\n'
    case 'name':
      return vm.givenName === undefined ? '' : `${vm.givenName}\n`
    case 'version':
      return `${VERSION_TEXT}\n`
    default: {
      // The whole line up to the end of the unknown sub-command.
      const start = line.search(/\S/)
      const end = line.indexOf(sub, line.indexOf('info') + 4) + sub.length
      return sub === '' ? '' : `unknown command: '${line.slice(start, end)}'\n`
    }
  }
}

// ---------------------------------------------------------------------------
// QMP

/** monitor/qmp.c qmp_greeting(): capabilities "oob" on a socket monitor, none on stdio. */
export function qmpGreeting(oob: boolean): string {
  return qjson({QMP: {version: {qemu: {micro: QEMU_VERSION.micro, minor: QEMU_VERSION.minor, major: QEMU_VERSION.major}, package: ''}, capabilities: oob ? ['oob'] : []}})
}

export interface QmpSession {
  negotiated: boolean
}

type QmpError = {class: 'GenericError' | 'CommandNotFound' | 'DeviceNotFound'; desc: string}

class QmpFail extends Error {
  constructor(readonly err: QmpError) {
    super(err.desc)
  }
}

const generic = (desc: string): never => {
  throw new QmpFail({class: 'GenericError', desc})
}

/** The reply to one QMP request (its JSON text): `{"return": ...}` or `{"error": ...}`, with the request's id. */
export async function qmpRequest(vm: Vm, s: QmpSession, text: string): Promise<string> {
  let id: Json | undefined
  let ret: Json
  try {
    let req: Json
    try {
      req = qemuJsonParse(text) as Json
    } catch (e) {
      return qjson({error: {class: 'GenericError', desc: (e as Error).message}})
    }
    if (req === null || typeof req !== 'object' || Array.isArray(req)) generic('QMP input must be a JSON object')
    const r = req as {[k: string]: Json}
    id = r.id
    if (!('execute' in r)) generic("QMP input lacks member 'execute'")
    if (typeof r.execute !== 'string') generic("QMP input member 'execute' must be a string")
    const args = r.arguments ?? {}
    if (typeof args !== 'object' || args === null || Array.isArray(args)) generic("QMP input member 'arguments' must be an object")
    const name = r.execute as string
    if (!s.negotiated && name !== 'qmp_capabilities')
      throw new QmpFail({class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'"})
    ret = await qmpCommand(vm, s, name, args as {[k: string]: Json})
  } catch (e) {
    if (!(e instanceof QmpFail)) throw e
    return qjson({error: e.err, ...(id !== undefined ? {id} : {})})
  }
  return qjson({return: ret, ...(id !== undefined ? {id} : {})})
}

const str = (args: {[k: string]: Json}, key: string): string => {
  const v = args[key]
  if (v === undefined) generic(missingParameter(key))
  if (typeof v !== 'string') generic(`Invalid parameter type for '${key}', expected: string`)
  return v as string
}

/** The first line of a monitor error without "Error: ": QMP's desc. */
const desc = (e: unknown): string => lines(e).split('\n')[0].replace(/^Error: /, '')

/** A QMP device_add's arguments as the -device option text it stands for. */
function deviceText(args: {[k: string]: Json}): string {
  const esc = (v: string): string => v.replace(/,/g, ',,')
  const val = (v: Json): string => (typeof v === 'boolean' ? (v ? 'on' : 'off') : typeof v === 'string' ? v : qjson(v))
  return [esc(str(args, 'driver')), ...Object.entries(args).filter(([k]) => k !== 'driver').map(([k, v]) => `${k}=${esc(val(v))}`)].join(',')
}

async function qmpCommand(vm: Vm, s: QmpSession, name: string, args: {[k: string]: Json}): Promise<Json> {
  switch (name) {
    case 'qmp_capabilities':
      if (s.negotiated) throw new QmpFail({class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored'})
      s.negotiated = true
      return {}
    case 'device_add': {
      const spec = deviceText(args)
      const {monitorAdd} = await import('../../cli/guest.js')
      try {
        await vm.change((w, _h, g) => monitorAdd(w, g.name, spec, vm.uid))
      } catch (e) {
        if (e instanceof GuestGone) throw e
        generic(desc(e))
      }
      return {}
    }
    case 'device_del': {
      const id = str(args, 'id')
      const {monitorDel} = await import('../../cli/guest.js')
      try {
        await vm.change((w, _h, g) => monitorDel(w, g.name, id))
      } catch (e) {
        if (e instanceof GuestGone) throw e
        throw new QmpFail({class: 'DeviceNotFound', desc: deviceNotFound(id)})
      }
      // vfio-ap's unplug is immediate: the event comes before the reply.
      vm.event('DEVICE_DELETED', {device: id, path: `/machine/peripheral/${id}`})
      return {}
    }
    case 'query-status':
      await vm.change(() => undefined)
      return {status: 'running', running: true}
    case 'cont':
      await vm.change(() => undefined)
      return {}
    case 'query-name':
      return vm.givenName === undefined ? {} : {name: vm.givenName}
    case 'query-version':
      return {qemu: {micro: QEMU_VERSION.micro, minor: QEMU_VERSION.minor, major: QEMU_VERSION.major}, package: ''}
    case 'query-cpu-model-expansion':
      return cpuModelExpansion(vm, args)
    case 'quit':
      vm.quit('host-qmp-quit')
      return {}
    default:
      throw new QmpFail({class: 'CommandNotFound', desc: `The command ${name} has not been found`})
  }
}

/**
 * query-cpu-model-expansion (target/s390x/cpu_models_system.c): the model
 * as its definition's static base plus the differences (static), or every
 * feature on (full). aplab models the AP features only, so they are the
 * props: the host's KVM offers ap, apqci (with QCI), apft, apqi (with AP
 * interrupts); a named model has them off unless props turn them on.
 */
async function cpuModelExpansion(vm: Vm, args: {[k: string]: Json}): Promise<Json> {
  const type = str(args, 'type')
  if (type !== 'static' && type !== 'full') generic(`Parameter 'type' does not accept value '${type}'`)
  const model = args.model
  if (model === undefined) generic(missingParameter('model'))
  if (typeof model !== 'object' || model === null || Array.isArray(model)) generic(`Invalid parameter type for 'model', expected: object`)
  const m = model as {[k: string]: Json}
  const name = str(m, 'name')
  const info = findCpuModel(name)
  if (!info) generic(`The CPU definition '${name}' is unknown.`)
  const facts = await vm.change((_w, host) => hostCpuFacts(host))
  const feats: Record<ApFeature, boolean> =
    info!.kind === 'host' || info!.kind === 'max' ? {ap: facts.ap, apqci: facts.apqci, apft: facts.apft, apqi: facts.apqi} : {ap: false, apqci: false, apft: false, apqi: false}
  const props = m.props ?? {}
  if (typeof props !== 'object' || props === null || Array.isArray(props)) generic(`Invalid parameter type for 'props', expected: object`)
  for (const [k, v] of Object.entries(props as {[k: string]: Json})) {
    if (!(AP_FEATURES as readonly string[]).includes(k)) continue
    if (typeof v !== 'boolean') generic(`Invalid parameter type for '${k}', expected: boolean`)
    feats[k as ApFeature] = v as boolean
  }
  const def = info!.kind === 'host' || info!.kind === 'max' ? HOST_CPU_DEF : name.replace(/-base$/, '')
  const on = Object.fromEntries(AP_FEATURES.filter((f) => feats[f]).map((f) => [f, true]))
  // The name is the definition's static base for both types (cpu_info_from_model).
  return {model: {name: `${def}-base`, props: on}}
}
