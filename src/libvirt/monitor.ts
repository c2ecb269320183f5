// `virsh qemu-monitor-command`: a QMP command, or an HMP command line
// wrapped in human-monitor-command, sent to the domain's QEMU. What QEMU
// does and answers is core/qemu/monitor.ts, the same monitor the
// qemu-system-s390x process runs; this file only frames it as libvirt does:
// HMP's text with QEMU's "\r\n" line ends, QMP replies with libvirt's id and
// serialisation, json-c's parse errors, and the domain's end on `quit`.

import {type Step, hmpStep, qmpStep} from '../core/qemu/monitor.js'
import type {Json} from '../core/qemu/qobject.js'
import type {Guest, Host, LibvirtDomain} from '../core/model.js'
import {guestOf, libvirtSaw, shutdown} from './driver.js'
import {VirError, VirshFailure} from './errors.js'

export interface MonitorOptions {
  hmp: boolean
  pretty: boolean
  returnValue: boolean
}

/** libvirt's QMP ids begin after the commands it sends while it starts a domain. */
const FIRST_SEQ = 20

/**
 * Run a monitor step on the domain's guest (virsh runs inside its state
 * mutation already). QMP events go to libvirt itself, not to virsh: STOP
 * and RESUME change the domain's state and reason.
 */
function run<T>(host: Host, g: Guest, step: Step<T>): {reply: T; quit: boolean} {
  const done = 'now' in step ? step.now : step.onGuest(host, g)
  for (const e of done.events) libvirtSaw(host, g, e.event)
  return {reply: done.reply, quit: done.quit !== undefined}
}

/** What virsh prints for the command (without its newline), or VirshFailure. */
export function monitorCommand(host: Host, d: LibvirtDomain, cmd: string, o: MonitorOptions): string {
  const g = guestOf(host, d.name)
  if (!g || !d.live) throw new VirshFailure([], new VirError('OPERATION_INVALID', 'domain is not running'))
  // libvirt starts QEMU with -name guest=NAME and hands it the vfio group.
  const proc = {givenName: d.name, uid: 0}
  if (o.hmp) {
    const r = run(host, g, hmpStep(proc, cmd))
    // QEMU quits: libvirt sees SHUTDOWN (host-qmp-quit), then the monitor's end: shut off (shutdown).
    if (r.quit) shutdown(host, d)
    return r.reply.replace(/\n/g, '\r\n')
  }
  let req: Json
  try {
    req = JSON.parse(cmd) as Json
  } catch (e) {
    // json-c's json_tokener_error_desc(), which libvirt quotes.
    const desc = /end of JSON input/.test((e as Error).message) ? 'unexpected end of data' : 'unexpected character'
    throw new VirshFailure([], new VirError('INTERNAL_ERROR', `cannot parse json ${cmd}: ${desc}`))
  }
  // libvirt's own connection has negotiated capabilities long ago.
  const r = run(host, g, qmpStep(proc, {negotiated: true}, req))
  d.live.seq = (d.live.seq ?? FIRST_SEQ) + 1
  const reply: {[k: string]: Json} = {...r.reply, id: `libvirt-${d.live.seq}`}
  if (r.quit) shutdown(host, d)
  const shown = o.returnValue && 'return' in reply ? reply.return : reply
  return o.pretty ? JSON.stringify(shown, null, 2) : JSON.stringify(shown)
}
