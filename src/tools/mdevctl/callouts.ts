// Callout and notifier scripts (callouts.rs): events, actions and states,
// the capabilities a versioned script provides, and one device's callout
// run: pre, the action, post, the notifiers, get attributes, live modify.

import {KernelError} from '../../core/errors.js'
import {JObj, type JVal, isNum, jsonCompact} from '../../views/mdevctl.js'
import {byteOrder} from '../libc.js'
import type {Mdevctl} from './environment.js'
import {parseJson} from './json.js'
import {type MDev, newDev} from './mdev.js'
import {RustError, basename, context, fail, io, rustDebug} from './rust.js'

export type Event = 'pre' | 'post' | 'live' | 'notify' | 'get'
export type Action = 'start' | 'stop' | 'define' | 'undefine' | 'modify' | 'attributes' | 'capabilities'

export interface Supports {
  version: number
  actions: string[]
  events: string[]
}

export interface Script {
  path: string
  parent: string
  type: string
  /** null: the cached "no versioned script" answer. */
  supports: Supports | null
}

const V1: Supports = {version: 1, actions: ['start', 'stop', 'define', 'undefine', 'modify', 'attributes'], events: ['pre', 'post', 'notify', 'get']}
export const PROVIDES =
  '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}'
const KNOWN_ACTIONS = ['start', 'stop', 'define', 'undefine', 'modify', 'attributes', 'capabilities', 'test']
const KNOWN_EVENTS = ['pre', 'post', 'live', 'notify', 'get']
const rustName = (s: string): string => s[0].toUpperCase() + s.slice(1)

export interface Output {
  code: number | null
  stdout: string
  stderr: string
}

/** CalloutScriptCache::parse_script_capabilities: `{"supports": {...}}` or null. */
function parseCapabilities(stdout: string): Supports | null {
  let v: JVal
  try {
    v = parseJson(stdout.replace(/\0+$/, ''))
  } catch {
    return null
  }
  if (!(v instanceof JObj)) return null
  const keys = v.entries.map((e) => e[0])
  if (keys.filter((k) => k === 'supports').length > 1) return null
  const s = v.get('supports')
  if (s === undefined || s === null || !(s instanceof JObj)) return null
  const version = s.get('version')
  const actions = s.get('actions')
  const events = s.get('events')
  if (!isNum(version) || !/^\d+$/.test(version.num) || Number(version.num) > 4294967295) return null
  if (!Array.isArray(actions) || !Array.isArray(events)) return null
  if (!actions.every((a) => typeof a === 'string') || !events.every((e) => typeof e === 'string')) return null
  return {
    version: Number(version.num),
    actions: (actions as string[]).map((a) => (KNOWN_ACTIONS.includes(a) ? a : 'unknown')),
    events: (events as string[]).map((e) => (KNOWN_EVENTS.includes(e) ? e : 'unknown')),
  }
}

/** One device's callout run (callouts.rs Callout). */
export class Callout {
  state: 'none' | 'success' | 'failure' = 'none'
  script: Script | null = null

  constructor(
    private readonly t: Mdevctl,
    readonly dev: MDev,
  ) {
    if (dev.type === null) fail('Device must have a defined mdev_type')
  }

  private invokeScript(path: string, event: Event, action: Action, stdin: string | null): Output {
    const args = ['-t', this.t.typeOf(this.dev), '-e', event, '-a', action, '-s', this.state, '-u', this.dev.uuid, '-p', this.t.parentOf(this.dev)]
    const fs = this.t.fs
    if (!fs.exists(path)) throw io(new KernelError('ENOENT'))
    if (!fs.isExecutable(path)) throw io(new KernelError('EACCES'))
    try {
      const r = this.t.env.callout(path, args, stdin)
      return {code: r.signal ? null : r.code, stdout: r.stdout, stderr: r.stderr}
    } catch (e) {
      throw io(e)
    }
  }

  /** The entries of a callout or notifier directory; null when it is no directory or cannot be read (skipped, as mdevctl does). */
  private entries(dir: string): string[] | null {
    if (!this.t.fs.isDir(dir)) return null
    try {
      return this.t.fs.readdir(dir)
    } catch {
      return null
    }
  }

  private printErr(o: Output, path: string): void {
    if (o.stderr) this.t.out.err(`${basename(path)}: ${o.stderr}`)
  }

  private failure = (path: string, code: number | null): RustError => new RustError([`Script '${rustDebug(path)}' failed with status '${code ?? 'unknown'}'`])

  private supports(s: Script, event: Event, action: Action): void {
    if (!s.supports!.actions.includes(action)) fail(`Script ${rustDebug(s.path)} does not support action '${rustName(action)}'`)
    if (!s.supports!.events.includes(event)) fail(`Script ${rustDebug(s.path)} does not support event '${rustName(event)}'`)
  }

  /** Run the selected script, or search the callout dirs for one that claims the device. */
  callout(event: Event, action: Action, stdin: string | null, capabilities = false): Output | null {
    if (this.script) {
      this.supports(this.script, event, action)
      const o = this.invokeScript(this.script.path, event, action, stdin)
      this.printErr(o, this.script.path)
      if (o.code === null || o.code === 0) return o
      throw this.failure(this.script.path, o.code)
    }
    for (const dir of this.t.calloutDirs) {
      const names = this.entries(dir)
      if (!names) continue
      const paths = names.map((n) => `${dir}/${n}`).sort(byteOrder)
      for (const p of paths) {
        let o: Output
        try {
          o = this.invokeScript(p, event, action, stdin)
        } catch (e) {
          if (e instanceof RustError) continue
          throw e
        }
        if (o.code === null) {
          this.t.warn(`callout script ${rustDebug(p)} was terminated by a signal`, 'mdevctl::callouts')
          continue
        }
        if (o.code === 2) continue
        if (capabilities) {
          const cv = parseCapabilities(o.stdout)
          if (!cv) continue
          this.printErr(o, p)
          if (cv.actions.includes('unknown')) this.t.warn(`Callout script ${rustDebug(p)} provides unknown Action type`, 'mdevctl::callouts')
          if (cv.events.includes('unknown')) this.t.warn(`Callout script ${rustDebug(p)} provides unknown Event type`, 'mdevctl::callouts')
          this.script = {path: p, parent: this.t.parentOf(this.dev), type: this.t.typeOf(this.dev), supports: cv}
          return o
        }
        this.printErr(o, p)
        if (o.code === 0) {
          this.script = {path: p, parent: this.t.parentOf(this.dev), type: this.t.typeOf(this.dev), supports: V1}
          return o
        }
        throw this.failure(p, o.code)
      }
    }
    return null
  }

  private notify(action: Action): void {
    for (const dir of this.t.notifierDirs) {
      const names = this.entries(dir)
      if (!names) continue
      for (const n of names)
        try {
          this.invokeScript(`${dir}/${n}`, 'notify', action, null)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
        }
    }
  }

  /** Callout::invoke: pre (or force past it), the action, post, then the notifiers. */
  invoke(action: Action, force: boolean, func: (c: Callout) => void): void {
    this.script = this.t.findVersionedScript(this.dev)
    const conf = jsonCompact(this.t.toJson(this.dev))
    let res: unknown = null
    try {
      try {
        this.callout('pre', action, conf)
      } catch (e) {
        if (!(e instanceof RustError) || !force) throw e
        this.t.warn(`Forcing operation '${action}' despite callout failure. Error was: ${e.chain[0]}`, 'mdevctl::callouts')
      }
      let tmp: RustError | null = null
      try {
        func(this)
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        tmp = e
      }
      this.state = tmp ? 'failure' : 'success'
      try {
        this.callout('post', action, conf)
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      if (tmp) throw tmp
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      res = e
    }
    this.notify(action)
    if (res) throw res
  }

  /** Callout::get_attributes: the script's JSON array, or null. */
  getAttributes(): JVal {
    this.script = this.t.findVersionedScript(this.dev)
    const o = this.callout('get', 'attributes', null)
    if (o === null) return null
    if (o.code === 0) {
      let st = o.stdout
      if (st === '') return null
      if (st === '[{}]') st = '[]'
      try {
        return parseJson(st.replace(/\0+$/, ''))
      } catch (e) {
        throw context('Invalid JSON received from callout script', e)
      }
    }
    this.printErr(o, this.script!.path)
    throw this.failure(this.script!.path, o.code)
  }

  /** Callout::invoke_modify_live */
  invokeModifyLive(): void {
    this.script = this.t.findVersionedScript(this.dev)
    if (!this.script) fail('No callout script with version support found that supports live modify')
    let res: unknown = null
    const existing = newDev(this.dev.uuid)
    let loaded = true
    try {
      this.t.loadFromSysfs(existing)
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      loaded = false
    }
    if (loaded && existing.active) {
      if (existing.parent !== this.dev.parent) res = new RustError(['Device exists under different parent - cannot run live update'])
      else if (existing.type !== this.dev.type) res = new RustError(['Device exists with different type - cannot run live update'])
      else {
        this.supports(this.script!, 'live', 'modify')
        const conf = jsonCompact(this.t.toJson(this.dev))
        try {
          this.callout('live', 'modify', conf)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
          res = e
        }
        this.notify('modify')
      }
    }
    if (res) throw res
  }
}
