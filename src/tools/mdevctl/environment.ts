// What mdevctl is given (MdevctlEnv: the file system, callout runner, uuid
// source) and environment.rs's device lookups on Mdevctl, which extends
// MdevHost (mdev.ts): the defined and active devices by parent, one defined
// or active device, the --jsonfile reading of main.rs and MDev's
// new_from_jsonfile, and callouts.rs's cache of versioned scripts.

import {ERRNO, KernelError} from '../../core/errors.js'
import {byteOrder} from '../libc.js'
import type {Fs} from '../sys.js'
import {Callout, type Output, PROVIDES, type Script} from './callouts.js'
import {parseJson} from './json.js'
import {type MDev, MdevHost, cloneDev, newDev} from './mdev.js'
import {RustError, Utf8Error, context, decodeUtf8, fail, io, ioText, rustDebug} from './rust.js'
import {parseUuid} from './uuid.js'

export interface CalloutResult {
  code: number
  stdout: string
  stderr: string
  /** The script died from a signal: Rust's ExitStatus::code() is then None. */
  signal?: string
}

export interface MdevctlEnv {
  fs: Fs
  /** '' for the emulated host, else the MDEVCTL_ENV_ROOT directory without trailing slash. */
  root: string
  prog: 'mdevctl' | 'lsmdev'
  /**
   * Run a callout or notifier script (`-t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT`)
   * with `stdin` (null: nothing). Throw a KernelError when it cannot be executed.
   */
  callout: (script: string, args: string[], stdin: string | null) => CalloutResult
  /** Uuid::new_v4, lowercase hyphenated. */
  newUuid: () => string
  /**
   * Read a file named by --jsonfile (relative to the caller's working
   * directory): its text, or its bytes (checked as UTF-8 like
   * read_to_string). Throw a KernelError, or Node's fs error, as open/read
   * would fail. Default: read it from `fs` (relative paths from `/`).
   */
  readJsonFile?: (path: string) => string | Uint8Array
}

export class Mdevctl extends MdevHost {
  /** CalloutScriptCache: versioned scripts (or none) per parent and type, for this run. */
  private readonly scripts: Script[] = []

  // --- lookups ---

  /** defined_devices: definitions by parent (sorted), optionally filtered. */
  definedDevices(uuid: string | null, parent: string | null): Map<string, MDev[]> {
    const devices = new Map<string, MDev[]>()
    let names: string[]
    try {
      names = this.fs.readdir(this.configBase)
    } catch (e) {
      throw io(e)
    }
    for (const name of names) {
      const parentPath = `${this.configBase}/${name}`
      if ((parent !== null && parent !== name) || !this.fs.isDir(parentPath)) continue
      const children: MDev[] = []
      let entries: string[] = []
      try {
        entries = this.fs.readdir(parentPath)
      } catch (e) {
        this.warn(`Unable to read directory ${rustDebug(parentPath)}: ${ioText(e)}`)
      }
      for (const child of entries) {
        const path = `${parentPath}/${child}`
        if (!this.fs.isFile(path)) continue
        const u = parseUuid(child)
        if (!('uuid' in u)) {
          this.warn(`Can't determine uuid for file '${child}'`)
          continue
        }
        if (uuid !== null && uuid !== u.uuid) continue
        let text: string
        try {
          text = this.readText(path)
        } catch (e) {
          if (e instanceof KernelError && e.errno !== 'EISDIR') {
            this.warn(`Unable to open file ${rustDebug(path)}: ${ioText(e)}`)
            continue
          }
          throw io(e)
        }
        const dev = newDev(u.uuid)
        this.loadFromJson(dev, name, parseJson(text))
        this.loadFromSysfs(dev)
        children.push(dev)
      }
      if (children.length) devices.set(name, children)
    }
    return new Map([...devices].sort((a, b) => byteOrder(a[0], b[0])))
  }

  /** active_devices: running mdevs by parent (sorted), with start mode and callout attributes. */
  activeDevices(uuid: string | null, parent: string | null): Map<string, MDev[]> {
    const devices = new Map<string, MDev[]>()
    let names: string[] | undefined
    try {
      // With a UUID only its entry counts: where every name is a UUID (nothing to warn of)
      // and at most one is this one, the order of the scan cannot show, and the directory
      // is not put in its order (on the emulated host, a hash of each of a thousand names).
      if (uuid !== null && this.fs.readdirAnyOrder) {
        const matches: string[] = []
        let plain = true
        for (const name of this.fs.readdirAnyOrder(this.mdevBase)) {
          const u = parseUuid(name)
          if (!('uuid' in u)) {
            plain = false
            break
          }
          if (u.uuid === uuid) matches.push(name)
        }
        if (plain && matches.length <= 1) names = matches
      }
      names ??= this.fs.readdir(this.mdevBase)
    } catch {
      return devices
    }
    for (const name of names) {
      const u = parseUuid(name)
      if (!('uuid' in u)) {
        this.warn(`Can't determine uuid for file '${name}'`)
        continue
      }
      if (uuid !== null && uuid !== u.uuid) continue
      const dev = newDev(u.uuid)
      try {
        this.loadFromSysfs(dev)
      } catch (e) {
        if (e instanceof RustError) continue
        throw e
      }
      if (parent !== null && parent !== dev.parent) continue
      const per = newDev(u.uuid)
      per.parent = dev.parent
      try {
        this.loadDefinition(per)
        dev.autostart = per.autostart
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      const c = new Callout(this, dev)
      try {
        const attrs = c.getAttributes()
        try {
          this.addAttributes(dev, attrs)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
        }
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      const p = this.parentOf(dev)
      if (!devices.has(p)) devices.set(p, [])
      devices.get(p)!.push(dev)
    }
    return new Map([...devices].sort((a, b) => byteOrder(a[0], b[0])))
  }

  getDefinedDevice(uuid: string, parent: string | null): MDev {
    const devs = this.definedDevices(uuid, parent)
    if (devs.size === 0) return fail(parent === null ? `Mediated device ${uuid} is not defined` : `Mediated device ${parent}/${uuid} is not defined`)
    if (devs.size > 1) return fail(parent === null ? `Multiple definitions found for ${uuid}, specify a parent` : `Multiple definitions found for ${parent}/${uuid}`)
    const [p, children] = [...devs][0]
    if (children.length > 1) fail(`Multiple definitions found for ${p}/${uuid}`)
    return children[0]
  }

  getActiveDevice(uuid: string, parent: string | null): MDev {
    const devs = this.activeDevices(uuid, parent)
    if (devs.size === 0) return fail(parent === null ? `Mediated device ${uuid} is not active` : `Mediated device ${parent}/${uuid} is not active`)
    if (devs.size > 1) return fail(`Multiple parents found for ${uuid}. System error?`)
    const [p, children] = [...devs][0]
    if (children.length > 1) fail(`Multiple definitions found for ${p}/${uuid}`)
    return children[0]
  }

  // --- jsonfile ---

  /** The text of a --jsonfile, or the stage (File::open or read_to_string) that failed. */
  jsonFile(path: string): {stage: 'open' | 'read'; error: unknown} | {text: string} {
    try {
      if (this.env.readJsonFile) {
        const data = this.env.readJsonFile(path)
        return {text: typeof data === 'string' ? data : decodeUtf8(Buffer.from(data))}
      }
      return {text: this.readText(path.startsWith('/') ? path : '/' + path)}
    } catch (e) {
      // Node's own errors (fs.readFileSync) carry the errno name in `code`.
      const code = (e as NodeJS.ErrnoException).code
      const err = e instanceof KernelError || e instanceof Utf8Error ? e : typeof code === 'string' && code in ERRNO ? new KernelError(code as keyof typeof ERRNO) : null
      if (err === null) throw e
      if (err instanceof Utf8Error || (err instanceof KernelError && err.errno === 'EISDIR')) return {stage: 'read', error: err}
      return {stage: 'open', error: err}
    }
  }

  /** File::open (`Unable to read file`) then fs::read_to_string (`Unable to read jsonfile`). */
  readJsonFile(path: string, openCheck: boolean): string {
    const r = this.jsonFile(path)
    if ('text' in r) return r.text
    if (openCheck && r.stage === 'open') throw context(`Unable to read file ${rustDebug(path)}`, r.error)
    throw context(`Unable to read jsonfile ${rustDebug(path)}`, r.error)
  }

  devFromJsonfile(uuid: string, parent: string, path: string): MDev {
    const text = this.readJsonFile(path, true)
    const d = newDev(uuid)
    this.loadFromJson(d, parent, parseJson(text))
    return d
  }

  // --- callouts ---

  findVersionedScript(dev: MDev): Script | null {
    if (dev.type === null || dev.parent === null) return null
    const hit = this.scripts.find((s) => s.parent === dev.parent && s.type === dev.type)
    if (hit) return hit.supports === null && hit.path === '' ? null : hit
    const probe = new Callout(this, cloneDev(dev))
    let found: Output | null
    try {
      found = probe.callout('get', 'capabilities', PROVIDES, true)
    } catch (e) {
      if (e instanceof RustError) return null
      throw e
    }
    if (found !== null) {
      this.scripts.push(probe.script!)
      return probe.script
    }
    this.scripts.push({path: '', parent: dev.parent, type: dev.type, supports: null})
    return null
  }
}
