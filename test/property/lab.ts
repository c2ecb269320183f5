// An in-process aplab: one state, and one step at a time run the way the
// command that does it runs (load, change, settle the guests, write when
// something changed), with the same code the commands call. Each real
// command is a new process, far too slow for hundreds of histories; this
// runs the same core, sysfs, tools and src/cli functions without the
// process around them. Used by isolation.test.ts and scripts/soak.mjs.

import {AplabError, StateError, ToolExit, UsageError} from '../../src/core/errors.js'
import {settleGuests} from '../../src/core/guest.js'
import {addAdapter, addDomain, removeAdapter, removeDomain} from '../../src/core/hw.js'
import type {Host, World} from '../../src/core/model.js'
import {modprobe} from '../../src/core/modules.js'
import {execIn, execMutates, migrate, monitorAdd, monitorDel, reset, start, stop} from '../../src/cli/guest.js'
import {addHost, reboot} from '../../src/cli/host.js'
import {change, create, remove as removeMdevCli, viaMdevctl} from '../../src/cli/mdev.js'
import {mdevctlOnHost} from '../../src/cli/mdevctl.js'
import {migrate as migrateData, worldFromData, worldToData} from '../../src/state/schema.js'
import {newWorld, parse, serialize} from '../../src/state/store.js'
import {hostVfs} from '../../src/sysfs/host.js'
import {echo} from '../../src/sysfs/shell.js'
import {runChzcrypt} from '../../src/tools/chzcrypt.js'
import {runChzdev} from '../../src/tools/zdev/chzdev.js'
import {Stdio} from '../../src/tools/libc.js'
import {type Corruption, corrupt} from './corrupt.js'

export const UUIDS = [
  '11111111-1111-4111-8111-111111111111',
  '22222222-2222-4222-8222-222222222222',
  '33333333-3333-4333-8333-333333333333',
  '44444444-4444-4444-8444-444444444444',
]
export const GUESTS = ['g0', 'g1', 'g2', 'g3']
export const HOST_NAMES = ['host0', 'lpar1', 'lpar2']
export const PRESETS = ['default', 'vfio-ap-doc', 'ibm-doc', 'se-guest'] as const

/** One step of a history: plain data, so that fast-check can shrink and print it. */
export type Op =
  /** echo TEXT > /sys/... on host h (masks, bind/unbind, card online/config, ...). */
  | {k: 'sysfs'; h: number; path: string; text: string; uid: number}
  | {k: 'chzdev'; h: number; argv: string[]; uid: number}
  | {k: 'chzcrypt'; h: number; argv: string[]; uid: number}
  | {k: 'hw'; h: number; what: 'adapter-add' | 'adapter-remove' | 'domain-add' | 'domain-remove'; id: number; control: boolean; type: string}
  | {k: 'modprobe'; h: number; remove: boolean; uid: number}
  /** aplab mdev create/remove/start/stop/assign/unassign: a refusal keeps the kernel's log lines (mutateKeepingLog). */
  | {k: 'mdev-create'; h: number; u: number; uid: number}
  | {k: 'mdev-remove'; h: number; u: number; uid: number}
  | {k: 'mdev-start'; h: number; u: number; stop: boolean; uid: number}
  | {k: 'mdev-assign'; h: number; u: number; unassign: boolean; adapter: string[]; domain: string[]; control: string[]; uid: number}
  | {k: 'mdevctl'; h: number; argv: string[]}
  | {k: 'guest-start'; h: number; g: number; args: string[]; libvirt: boolean; autostart: boolean; uid: number}
  | {k: 'guest-stop'; g: number}
  | {k: 'guest-reset'; g: number}
  | {k: 'device-add'; g: number; spec: string; uid: number}
  | {k: 'device-del'; g: number; id: string}
  | {k: 'guest-exec'; g: number; cmd: string[]; uid: number}
  | {k: 'migrate'; g: number; to: number}
  | {k: 'reboot'; h: number; uid: number}
  | {k: 'corrupt'; c: Corruption}

export type Outcome = 'ok' | 'refused' | 'partial' | 'read'

export interface StepResult {
  outcome: Outcome
  /** A refusal that must leave everything but the kernel log alone. */
  atomic: boolean
  /** For a step inside a guest: the guest; what it changed must stay inside it. */
  guest?: string
  /** What was said (for the report of a failing history). */
  said: string
}

/** Something a step did that no command may do: an internal error, a loader that crashed. */
export class LabBug extends Error {}

const tool = (run: (io: Stdio) => number): {code: number; said: string} => {
  const io = new Stdio(false)
  const code = run(io)
  return {code, said: io.stdout + io.stderr}
}

/** chzdev's context: no files of the caller, the emulated host's name as node name. */
const zdevCtx = (host: Host) => ({
  prog: 'chzdev',
  nodename: host.name,
  stdoutIsTTY: false,
  stdin: null,
  readFile: (p: string): string => {
    throw Object.assign(new Error(p), {code: 'ENOENT'})
  },
  writeFile: (p: string): void => {
    throw Object.assign(new Error(p), {code: 'EACCES'})
  },
})

/** A change's result as the command reports it. */
type Change = {code: number; said: string; partialOk?: boolean; guest?: string; write?: boolean}

/** The steps whose command saves the kernel's log when it refuses (src/cli/refuse.ts mutateKeepingLog). */
const KEEPS_LOG: ReadonlyArray<Op['k']> = ['mdev-create', 'mdev-remove', 'mdev-start', 'mdev-assign']

export class Lab {
  /**
   * The state as the file holds it, as JSON of its data: what the parse
   * cache beside the file keeps and a command loads when the text is the
   * one it wrote. The YAML text itself is made by `text()`.
   */
  json = ''
  world!: World

  static async create(presets: readonly string[]): Promise<Lab> {
    const lab = new Lab()
    const w = newWorld(presets[0], HOST_NAMES[0])
    for (let i = 1; i < presets.length; i++) addHost(w, HOST_NAMES[i], presets[i])
    lab.keep(w)
    return lab
  }

  /** The state file's text. */
  text(): Promise<string> {
    return serialize(this.world)
  }

  /** Keep a world as the state, loaded back from its data as the next command would. */
  private keep(w: World): void {
    const json = JSON.stringify(worldToData(w))
    try {
      this.world = worldFromData(migrateData(JSON.parse(json)))
    } catch (e) {
      // The loader checks every rule between objects: a command wrote a state no command may read.
      throw new LabBug(`the state written does not load: ${(e as Error).message}`)
    }
    this.json = json
  }

  /** Run one step like its command: on a freshly loaded world, written back only when it changed. */
  async step(op: Op): Promise<StepResult> {
    if (op.k === 'corrupt') return this.edit(op.c)
    const w = worldFromData(migrateData(JSON.parse(this.json)))
    const before = this.json
    let r: Change
    try {
      r = await this.run(w, op)
    } catch (e) {
      if (!(e instanceof AplabError)) throw new LabBug(`internal error: ${(e as Error).stack}`)
      const said = e instanceof ToolExit ? e.message : `aplab: ${e.message}`
      // mutate writes nothing when the change throws: the command refused. mutateKeepingLog
      // saves the state of a kernel refusal (not a usage error), which must differ only in the log.
      if (!KEEPS_LOG.includes(op.k) || e instanceof UsageError) return {outcome: 'refused', atomic: true, said}
      r = {code: 1, said}
    }
    const result: StepResult = {
      outcome: r.code === 0 ? 'ok' : r.partialOk ? 'partial' : 'refused',
      atomic: r.code !== 0 && !r.partialOk,
      ...(r.guest ? {guest: r.guest} : {}),
      said: r.said,
    }
    if (r.write === false) {
      result.outcome = r.code === 0 ? 'read' : result.outcome
      return result // a command that only reads takes no lock and writes nothing
    }
    settleGuests(w)
    if (JSON.stringify(worldToData(w)) !== before) this.keep(w)
    return result
  }

  /** A hand edit of the file between commands: kept only when the loader takes it. */
  private async edit(c: Corruption): Promise<StepResult> {
    const text = corrupt(c, worldToData(this.world), await this.text())
    if (text === null) return {outcome: 'read', atomic: false, said: '(nothing to edit)'}
    let w: World
    try {
      w = await parse(text, 'state.yaml')
    } catch (e) {
      if (!(e instanceof StateError)) throw new LabBug(`the loader crashed on an edit: ${(e as Error).stack}`)
      return {outcome: 'refused', atomic: true, said: e.message}
    }
    this.keep(w)
    return {outcome: 'ok', atomic: false, said: 'edit accepted'}
  }

  /** Guest g of the state, by name order (as for hosts, the index wraps); the guest ops name existing guests. */
  private guestName(w: World, g: number): string {
    const names = w.hosts.flatMap((h) => h.guests.map((x) => x.name)).sort()
    return names.length ? names[g % names.length] : GUESTS[g]
  }

  /** Host h of the state (the index wraps: a history does not know how many hosts it has). */
  private hostOf(w: World, h: number): Host {
    return w.hosts[h % w.hosts.length]
  }

  private async run(w: World, op: Exclude<Op, {k: 'corrupt'}>): Promise<Change> {
    switch (op.k) {
      case 'sysfs': {
        const r = echo(hostVfs(this.hostOf(w, op.h), op.uid), op.path, op.text + '\n')
        return {code: r.code, said: r.stderr}
      }
      case 'chzdev': {
        const host = this.hostOf(w, op.h)
        const r = tool((io) => runChzdev(op.argv, hostVfs(host, op.uid), io, zdevCtx(host)))
        // One setting in one configuration is one write; more may stop half way, as the real tool does.
        const settings = op.argv.filter((a) => a.includes('=')).length
        const both = !op.argv.includes('-a') && !op.argv.includes('-p')
        return {...r, partialOk: settings > 1 || both}
      }
      case 'chzcrypt': {
        const host = this.hostOf(w, op.h)
        const r = tool((io) => runChzcrypt(op.argv, hostVfs(host, op.uid), io))
        // Over several devices the changes before a failing one stay (README).
        return {...r, partialOk: op.argv.filter((a) => !a.startsWith('-')).length > 1 || op.argv.includes('--all') || op.argv.includes('-a')}
      }
      case 'hw': {
        const host = this.hostOf(w, op.h)
        if (op.what === 'adapter-add') addAdapter(host, op.id, op.type)
        else if (op.what === 'adapter-remove') removeAdapter(host, op.id)
        else if (op.what === 'domain-add') addDomain(host, op.id, op.control)
        else removeDomain(host, op.id, op.control)
        return {code: 0, said: ''}
      }
      case 'modprobe':
        modprobe(this.hostOf(w, op.h), 'vfio_ap', op.remove, op.uid)
        return {code: 0, said: ''}
      case 'mdev-create':
        create(this.hostOf(w, op.h), UUIDS[op.u], op.uid)
        return {code: 0, said: ''}
      case 'mdev-remove':
        removeMdevCli(this.hostOf(w, op.h), UUIDS[op.u], op.uid)
        return {code: 0, said: ''}
      case 'mdev-start':
        await viaMdevctl(this.hostOf(w, op.h), op.stop ? 'stop' : 'start', UUIDS[op.u], op.uid)
        return {code: 0, said: ''}
      case 'mdev-assign':
        change(this.hostOf(w, op.h), UUIDS[op.u], {adapter: op.adapter, domain: op.domain, 'control-domain': op.control}, op.unassign, op.uid)
        return {code: 0, said: ''}
      case 'mdevctl': {
        const r = await mdevctlOnHost(this.hostOf(w, op.h), op.argv)
        return {code: r.code, said: r.stderr}
      }
      case 'guest-start':
        return {code: 0, said: start(w, this.hostOf(w, op.h), GUESTS[op.g], op.args, {libvirt: op.libvirt, autostart: op.autostart, uid: op.uid})}
      case 'guest-stop':
        stop(w, this.guestName(w, op.g))
        return {code: 0, said: ''}
      case 'guest-reset':
        reset(w, this.guestName(w, op.g))
        return {code: 0, said: ''}
      case 'device-add':
        monitorAdd(w, this.guestName(w, op.g), op.spec, op.uid)
        return {code: 0, said: ''}
      case 'device-del':
        monitorDel(w, this.guestName(w, op.g), op.id)
        return {code: 0, said: ''}
      case 'guest-exec': {
        const {running} = await import('../../src/cli/guest.js')
        const {host, guest} = running(w, this.guestName(w, op.g))
        const r = await execIn(host, guest, op.cmd, op.uid)
        // chzcrypt over several devices may stop half way inside the guest too.
        const devices = op.cmd.slice(1).filter((a) => !a.startsWith('-')).length
        return {code: r.code, said: r.stdout + r.stderr, guest: guest.name, write: execMutates(op.cmd), partialOk: op.cmd[0] === 'chzcrypt' && devices > 1}
      }
      case 'migrate':
        migrate(w, this.guestName(w, op.g), this.hostOf(w, op.to).name)
        return {code: 0, said: ''}
      case 'reboot':
        return {code: 0, said: await reboot(this.hostOf(w, op.h), w, op.uid)}
    }
  }
}

/**
 * The data of a world as the file keeps it, for comparing before and after a
 * step: without the kernel logs (a refusal may log), or without one guest's
 * own kernel state (what a command inside that guest may change).
 */
export function dataWithout(w: World, o: {logs?: boolean; guest?: string}): string {
  const d = worldToData(w) as {hosts: Array<{runtime: Record<string, unknown>; guests?: Array<{name: string; runtime: Record<string, unknown>}>}>}
  for (const h of d.hosts) {
    if (o.logs) delete h.runtime.dmesg
    for (const g of h.guests ?? []) {
      if (o.logs) delete g.runtime.dmesg
      if (g.name === o.guest) g.runtime = {}
    }
  }
  return JSON.stringify(d, null, 1)
}
