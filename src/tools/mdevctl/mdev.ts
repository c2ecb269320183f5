// One mediated device (mdev.rs): the MDev record and its methods, which in
// this port live on MdevHost, the host as mdevctl sees it: the paths of
// environment.rs (sysfs, /etc/mdevctl.d, the script directories), the
// self-check, env_logger's warnings and read_to_string. The methods load a
// device from sysfs or from JSON, write and remove its definition, and
// create, start and stop it in sysfs.

import {now} from '../../core/clock.js'
import {KernelError} from '../../core/errors.js'
import {JObj, type JVal, type MdevView, deviceJson, jsonCompact, jsonPretty} from '../../views/mdevctl.js'
import type {Stdio} from '../libc.js'
import {type Fs, RealSys} from '../sys.js'
import type {MdevctlEnv} from './environment.js'
import {jget, parseJson} from './json.js'
import {Panic, RustError, basename, context, decodeUtf8, dirname, fail, io, parseI32, rustDebug, rustTrim} from './rust.js'

export interface MDev {
  uuid: string
  active: boolean
  autostart: boolean
  parent: string | null
  type: string | null
  attrs: Array<[string, string]>
}

export const newDev = (uuid: string): MDev => ({uuid, active: false, autostart: false, parent: null, type: null, attrs: []})
export const cloneDev = (d: MDev): MDev => ({...d, attrs: d.attrs.map(([k, v]) => [k, v])})

/** The host as mdevctl sees it, with MDev's methods; Mdevctl (environment.ts) adds the lookups. */
export class MdevHost {
  readonly fs: Fs
  readonly mdevBase: string
  readonly configBase: string
  readonly parentBase: string
  readonly calloutDirs: string[]
  readonly notifierDirs: string[]
  constructor(
    readonly env: MdevctlEnv,
    readonly out: Stdio,
  ) {
    this.fs = env.fs
    const r = env.root
    this.mdevBase = r + '/sys/bus/mdev/devices'
    this.configBase = r + '/etc/mdevctl.d'
    this.parentBase = r + '/sys/class/mdev_bus'
    this.calloutDirs = [r + '/usr/lib/mdevctl/scripts.d/callouts', r + '/etc/mdevctl.d/scripts.d/callouts']
    this.notifierDirs = [r + '/usr/lib/mdevctl/scripts.d/notifiers', r + '/etc/mdevctl.d/scripts.d/notifiers']
  }

  /** env_logger's default format at WARN. */
  warn(msg: string, module = 'mdevctl'): void {
    const ts = new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z')
    this.out.err(`[${ts} WARN  ${module}] ${msg}\n`)
  }

  /** fs::read_to_string: the bytes as UTF-8, or io errors. */
  readText(path: string): string {
    const raw = this.fs.read(path)
    return decodeUtf8(this.fs instanceof RealSys ? Buffer.from(raw, 'latin1') : Buffer.from(raw, 'utf8'))
  }

  selfCheck(): void {
    for (const d of [this.configBase, this.calloutDirs[0], this.notifierDirs[0]])
      if (!this.fs.exists(d)) fail(`Required directory ${rustDebug(d)} doesn't exist. This may indicate a packaging or installation error`)
  }

  // --- MDev ---

  activePath = (d: MDev): string => `${this.mdevBase}/${d.uuid}`
  persistentPath = (d: MDev): string | null => (d.parent === null ? null : `${this.configBase}/${d.parent}/${d.uuid}`)
  isDefined = (d: MDev): boolean => {
    const p = this.persistentPath(d)
    return p !== null && this.fs.exists(p)
  }

  parentOf = (d: MDev): string => d.parent ?? fail(`Device ${d.uuid} is missing a parent`)
  typeOf = (d: MDev): string => d.type ?? fail(`Device ${d.uuid} is missing a mdev_type`)

  private canonicalBasename(path: string): string {
    const real = this.fs.realpath(path)
    if (real === null) throw io(new KernelError('ENOENT'))
    if (real === '/') fail('Invalid path')
    return basename(real)
  }

  loadFromSysfs(d: MDev): void {
    const p = this.activePath(d)
    if (!this.fs.exists(p)) return
    let parent: string
    let type: string
    try {
      const real = this.fs.realpath(p)
      if (real === null) throw io(new KernelError('ENOENT'))
      if (real === '/') fail(`Path to parent of mdev ${d.uuid} does not exist`)
      parent = this.canonicalBasename(dirname(real))
    } catch (e) {
      if (this.fs.exists(p)) throw e
      return
    }
    try {
      type = this.canonicalBasename(p + '/mdev_type')
    } catch (e) {
      if (this.fs.exists(p)) throw e
      return
    }
    if (d.parent !== null && d.parent !== parent) return
    if (d.type !== null && d.type !== type) return
    d.type = type
    d.parent = parent
    d.active = true
  }

  addAttributes(d: MDev, attrs: JVal): void {
    if (!Array.isArray(attrs) && attrs !== null) fail('attributes field is not an array')
    for (const attr of (attrs as JVal[] | null) ?? []) {
      if (!(attr instanceof JObj)) fail('invalid JSON format for attribute: not an object')
      const o = attr as JObj
      if (o.entries.length !== 1) fail('invalid JSON format for attribute: too many fields')
      const [key, val] = o.entries[0]
      if (typeof val !== 'string') fail(`invalid JSON format for attribute {${rustDebug(key)}, ${jsonCompact(val)}}: value must be of type str`)
      d.attrs.push([key, val as string])
    }
  }

  loadFromJson(d: MDev, parent: string, json: JVal): void {
    if (d.parent !== null && d.parent !== parent) this.warn(`Overwriting parent for mdev ${d.uuid}: ${d.parent} => ${parent}`, 'mdevctl::mdev')
    d.parent = parent
    const type = jget(json, 'mdev_type')
    if (type === null || jget(json, 'start') === null) fail('invalid json')
    if (typeof type !== 'string') throw new Panic('src/mdev.rs:219:52', 'called `Option::unwrap()` on a `None` value')
    if (d.type !== null && d.type !== type) this.warn(`Overwriting mdev type for mdev ${d.uuid}: ${d.type} => ${type}`, 'mdevctl::mdev')
    d.type = type as string
    d.autostart = jget(json, 'start') === 'auto'
    this.addAttributes(d, jget(json, 'attrs'))
  }

  loadDefinition(d: MDev): void {
    const p = this.persistentPath(d)
    if (p === null) return
    let text: string
    try {
      text = this.readText(p)
    } catch (e) {
      throw io(e)
    }
    this.loadFromJson(d, d.parent!, parseJson(text))
  }

  view(d: MDev): MdevView {
    return {uuid: d.uuid, parent: this.parentOf(d), type: this.typeOf(d), autostart: d.autostart, attrs: d.attrs}
  }

  toJson(d: MDev): JObj {
    this.typeOf(d)
    return deviceJson({uuid: d.uuid, parent: d.parent ?? '', type: d.type!, autostart: d.autostart, attrs: d.attrs})
  }

  writeConfig(d: MDev): void {
    const text = jsonPretty(this.toJson(d))
    const path = this.persistentPath(d)!
    try {
      this.fs.mkdirp(dirname(path))
    } catch (e) {
      throw io(e)
    }
    try {
      this.fs.writeFile(path, text)
    } catch (e) {
      throw context(`Failed to write config for device ${d.uuid}`, e)
    }
  }

  undefine(d: MDev): void {
    const p = this.persistentPath(d) ?? fail(`Failed to undefine ${d.uuid}`)
    try {
      this.fs.unlink(p)
    } catch (e) {
      throw context(`Failed to remove file ${rustDebug(p)}`, e)
    }
  }

  stop(d: MDev): void {
    try {
      this.fs.writeFile(this.activePath(d) + '/remove', '1')
      d.active = false
    } catch (e) {
      throw context(`Error removing device ${d.uuid}`, e)
    }
  }

  private findParentDir(parent: string): string {
    const path = `${this.parentBase}/${parent}`
    if (this.fs.isDir(path)) return path
    let names: string[]
    try {
      names = this.fs.readdir(this.parentBase)
    } catch (e) {
      throw io(e)
    }
    for (const n of names) if (n.toLowerCase() === parent.toLowerCase()) fail(`Unable to find parent device '${parent}'. Did you mean '${n}'?`)
    return fail(`Unable to find parent device '${parent}'`)
  }

  private create(d: MDev): void {
    const parent = this.parentOf(d)
    const type = this.typeOf(d)
    const existing = newDev(d.uuid)
    let loaded = true
    try {
      this.loadFromSysfs(existing)
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      loaded = false
    }
    if (loaded && existing.active) {
      if (existing.parent !== d.parent) fail('Device exists under different parent')
      if (existing.type !== d.type) fail('Device exists with different type')
      fail('Device already exists')
    }
    const mst = this.findParentDir(parent) + '/mdev_supported_types'
    if (!this.fs.isDir(mst)) fail(`Parent ${parent} is not currently registered for mdev support`)
    const tp = `${mst}/${type}`
    if (!this.fs.isDir(tp)) fail(`Parent ${parent} does not support mdev type ${type}`)
    let text: string
    try {
      text = this.readText(tp + '/available_instances')
    } catch (e) {
      throw io(e)
    }
    if (parseI32(rustTrim(text)) === 0) fail(`No available instances of ${type} on ${parent}`)
    try {
      this.fs.writeFile(tp + '/create', d.uuid)
      d.active = true
    } catch (e) {
      throw context(`Failed to create mdev ${d.uuid}, type ${type} on ${parent}`, e)
    }
  }

  start(d: MDev): void {
    this.create(d)
    for (const [k, v] of d.attrs) {
      try {
        const p = `${this.activePath(d)}/${k}`
        if (!this.fs.exists(p)) fail(`Invalid attribute '${k}'`)
        try {
          this.fs.writeFile(p, v)
        } catch (e) {
          throw context(`Failed to write ${v} to attribute ${k}`, e)
        }
      } catch (e) {
        this.stop(d)
        throw e
      }
    }
  }
}
