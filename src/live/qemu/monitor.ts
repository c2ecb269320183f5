// QEMU's two monitors over the running guest, as the qemu-system-s390x
// process serves them: HMP (the human monitor, `(qemu) ` prompt) and QMP
// (JSON). What each command does, answers and refuses is
// core/qemu/monitor.ts, the same monitor `virsh qemu-monitor-command`
// reaches; here a command that needs the guest runs as one state mutation
// under the state lock, its QMP events go to the negotiated clients, and
// `quit` ends the process once the reply is out.

import {type MonitorProcess, type QmpSession, type QuitReason, type Step, hmpStep, qmpRequestId, qmpStep} from '../../core/qemu/monitor.js'
import {type Json, qemuJsonParse, qjson} from '../../core/qemu/qobject.js'
import type {Guest, Host, World} from '../../core/model.js'

export {HMP_BANNER, HMP_PROMPT, HOST_CPU_DEF, QEMU_VERSION, type QmpSession, qmpGreeting, VERSION_TEXT} from '../../core/qemu/monitor.js'
export {type Json, qjson} from '../../core/qemu/qobject.js'

/** The guest this process runs, as the monitors reach it. */
export interface Vm extends MonitorProcess {
  /**
   * Run a change of the guest under the state lock. Throws GuestGone when
   * the guest is no longer this process's (stopped or started again by
   * another command): the process then ends.
   */
  change<T>(fn: (w: World, host: Host, guest: Guest) => T): Promise<T>
  /** `quit`: the guest ends and the process exits 0, once the reply is out. */
  quit(reason: QuitReason): void
  /** Send a QMP event to every QMP client that completed negotiation. */
  event(name: string, data?: Json): void
}

export class GuestGone extends Error {}

/** Run a monitor step: on the guest under the lock when it needs the guest; events before the reply. */
async function run<T>(vm: Vm, step: Step<T>): Promise<T> {
  const done = 'now' in step ? step.now : await vm.change((_w, h, g) => step.onGuest(h, g))
  for (const e of done.events) vm.event(e.event, e.data)
  if (done.quit) vm.quit(done.quit)
  return done.reply
}

/** One HMP command line: what the monitor prints for it (with "\n"; the transport writes "\r\n" as the monitor does). */
export function hmpCommand(vm: Vm, line: string): Promise<string> {
  return run(vm, hmpStep(vm, line))
}

/** The reply to one QMP request (its JSON text): `{"return": ...}` or `{"error": ...}`, with the request's id. */
export async function qmpRequest(vm: Vm, s: QmpSession, text: string): Promise<string> {
  let req: Json
  try {
    req = qemuJsonParse(text) as Json
  } catch (e) {
    return qjson({error: {class: 'GenericError', desc: (e as Error).message}})
  }
  const id = qmpRequestId(req)
  const reply = await run(vm, qmpStep(vm, s, req))
  return qjson({...reply, ...(id !== undefined ? {id} : {})})
}
