// mdevctl 1.4.0 (upstream HEAD bd7f10a), main.rs: the commands (define,
// undefine, modify, start, stop, list, types, start-parent-mdevs) and main,
// which runs the self-check, clap's parsing and the command, and reports
// anyhow's errors, clap's exits and panics with the real tool's output and
// exit codes. Everything goes through an abstract file system: the emulated
// host (root '') or a real directory tree (MDEVCTL_ENV_ROOT).

import {type TypeView, attrsText, jsonPretty, listJson, listLine, typesJson, typesText} from '../../views/mdevctl.js'
import {type Stdio, byteOrder} from '../libc.js'
import {Callout} from './callouts.js'
import {ClapExit, getMatches} from './clap.js'
import {buildLsmdev, buildMdevctl} from './cli.js'
import {Mdevctl, type MdevctlEnv} from './environment.js'
import {parseJson} from './json.js'
import {type MDev, newDev} from './mdev.js'
import {Panic, RustError, context, errorReport, fail, io, parseI32, rustDebug, rustTrim} from './rust.js'

function defineCommand(t: Mdevctl, uuid: string | null, auto: boolean, parent: string | null, type: string | null, jsonfile: string | null, force: boolean): void {
  const dev = newDev(uuid ?? t.env.newUuid())
  if (jsonfile !== null) {
    const r = t.jsonFile(jsonfile)
    if ('stage' in r && r.stage === 'open') throw context(`Unable to read file ${rustDebug(jsonfile)}`, r.error)
    if (type !== null) fail(`Device type cannot be specified separately from ${rustDebug(jsonfile)}`)
    if (parent === null) return fail(`Parent device required to define device via ${rustDebug(jsonfile)}`)
    if (t.definedDevices(dev.uuid, parent).size) fail(`Cowardly refusing to overwrite existing config for ${parent}/${dev.uuid}`)
    const text = t.readJsonFile(jsonfile, false)
    t.loadFromJson(dev, parent, parseJson(text))
  } else {
    if (uuid !== null) {
      t.loadFromSysfs(dev)
      if (parent === null && (!dev.active || type !== null)) fail('No parent specified')
    }
    dev.autostart = auto
    if (parent !== null) dev.parent = parent
    if (type !== null) dev.type = type
    if (dev.parent === null) fail('No parent specified')
    if (dev.type === null) fail('No type specified')
    if (t.isDefined(dev)) fail(`Device ${dev.uuid} on ${dev.parent} already defined`)
  }
  new Callout(t, dev).invoke('define', force, (c) => {
    if (c.dev.active) t.addAttributes(c.dev, c.getAttributes())
    t.writeConfig(c.dev)
  })
  if (uuid === null) t.out.out(dev.uuid + '\n')
}

function undefineCommand(t: Mdevctl, uuid: string, parent: string | null, force: boolean): void {
  const devs = t.definedDevices(uuid, parent)
  if (devs.size === 0) fail('No devices match the specified uuid')
  let failed = false
  for (const children of devs.values())
    for (const child of children) {
      const c = new Callout(t, child)
      try {
        c.invoke('undefine', force, (x) => t.undefine(x.dev))
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        failed = true
        for (const x of e.chain) t.warn(`Undefine of ${child.uuid} on parent ${t.parentOf(child)} failed with error: ${x}`)
      }
    }
  if (failed) fail('Undefine failed')
}

interface ModifyArgs {
  uuid: string
  parent: string | null
  type: string | null
  addattr: string | null
  delattr: boolean
  index: number | null
  value: string | null
  auto: boolean
  manual: boolean
  live: boolean
  defined: boolean
  jsonfile: string | null
  force: boolean
}

function modifyCommand(t: Mdevctl, a: ModifyArgs): void {
  if (a.live) {
    if (a.type !== null) fail("'type' cannot be changed on active mdev")
    if (a.auto) fail("'auto' cannot be changed on active mdev")
    if (a.manual) fail("'manual' cannot be changed on active mdev")
    let act = t.getActiveDevice(a.uuid, a.parent)
    if (a.jsonfile === null) return fail("'live' option must be used with 'jsonfile' option")
    const actParent = act.parent ?? fail('Parent device required to modify device via json file')
    const json = t.devFromJsonfile(a.uuid, actParent, a.jsonfile)
    if (json.type !== act.type) fail("'type' cannot be changed on active mdev")
    if (json.parent !== act.parent) fail("'parent' cannot be changed on active mdev")
    act = json
    const c = new Callout(t, act)
    if (a.defined) {
      const def = t.getDefinedDevice(a.uuid, act.parent)
      if (def.type !== act.type) fail("'type' of active and defined mdev does not match")
      c.invokeModifyLive()
      c.invoke('modify', a.force, (x) => t.writeConfig(x.dev))
      return
    }
    c.invokeModifyLive()
    return
  }
  let dev: MDev
  if (a.jsonfile !== null) {
    if (a.parent === null) return fail('Parent device required to modify device via json file')
    dev = t.devFromJsonfile(a.uuid, a.parent, a.jsonfile)
  } else {
    dev = t.getDefinedDevice(a.uuid, a.parent)
    if (a.type !== null) dev.type = a.type
    if (a.auto && a.manual) fail("'auto' and 'manual' are mutually exclusive")
    if (a.auto) dev.autostart = true
    else if (a.manual) dev.autostart = false
  }
  const hint = (): string => (dev.attrs.length ? attrsText(dev.attrs) : `Device ${dev.uuid} has no attributes`)
  if (a.addattr !== null) {
    if (a.value === null) fail('No attribute value provided')
    if (a.index !== null) {
      if (a.index > dev.attrs.length) fail(`Attribute index ${a.index} is invalid\n${hint()}`)
      dev.attrs.splice(a.index, 0, [a.addattr, a.value!])
    } else dev.attrs.push([a.addattr, a.value!])
  } else if (a.delattr) {
    if (a.index !== null) {
      if (a.index >= dev.attrs.length) fail(`Attribute index ${a.index} is invalid\n${hint()}`)
      dev.attrs.splice(a.index, 1)
    } else dev.attrs.pop()
  }
  new Callout(t, dev).invoke('modify', a.force, (x) => t.writeConfig(x.dev))
}

function startCommand(t: Mdevctl, uuid: string | null, parent: string | null, type: string | null, jsonfile: string | null, force: boolean): void {
  let dev: MDev | null = null
  if (jsonfile !== null) {
    const text = t.readJsonFile(jsonfile, false)
    const val = parseJson(text)
    if (type !== null) fail('Device type cannot be specified separately from json file')
    if (parent === null) return fail('Parent device required to start device via json file')
    dev = newDev(uuid ?? t.env.newUuid())
    t.loadFromJson(dev, parent, val)
  } else {
    if (uuid !== null) {
      const devs = [...t.definedDevices(uuid, parent).values()].flat()
      if (devs.length > 1) fail(`Multiple definitions found for device ${uuid}. Please specify a parent.`)
      if (devs.length === 1) {
        const d = devs[0]
        if (type !== null && type !== d.type) fail(`Device ${d.uuid} already exists on parent ${d.parent} with type ${d.type}`)
        dev = d
      }
    }
    if (dev === null) {
      dev = newDev(uuid ?? t.env.newUuid())
      dev.parent = parent
      dev.type = type
    }
    if (dev.type !== null && dev.parent === null) fail("can't provide type without parent")
    if (dev.type === null || dev.parent === null) fail('Device is insufficiently specified')
  }
  const c = new Callout(t, dev)
  c.invoke('start', force, (x) => t.start(x.dev))
  if (uuid === null) t.out.out(dev.uuid + '\n')
}

function stopCommand(t: Mdevctl, uuid: string, force: boolean): void {
  const dev = newDev(uuid)
  t.loadFromSysfs(dev)
  new Callout(t, dev).invoke('stop', force, (c) => t.stop(c.dev))
}

function listCommand(t: Mdevctl, defined: boolean, dumpjson: boolean, verbose: boolean, uuid: string | null, parent: string | null): void {
  const devices = defined ? t.definedDevices(uuid, parent) : t.activeDevices(uuid, parent)
  for (const v of devices.values()) v.sort((a, b) => byteOrder(a.uuid, b.uuid))
  let out = ''
  if (dumpjson) {
    const count = [...devices.values()].flat().length
    if (uuid === null || count > 1) out = listJson([...devices].map(([p, devs]) => [p, devs.map((d) => t.view(d))]))
    else {
      const first = [...devices.values()][0]?.[0]
      out = first ? jsonPretty(t.toJson(first)) : '[]'
    }
  } else {
    for (const d of [...devices.values()].flat()) {
      if (defined ? !t.isDefined(d) : !d.active) continue
      if (d.parent === null || d.type === null) continue
      out += listLine(t.view(d), defined ? (d.active ? ' (active)' : '') : t.isDefined(d) ? ' (defined)' : '', verbose)
    }
  }
  t.out.out(out)
}

function typesCommand(t: Mdevctl, parent: string | null, dumpjson: boolean): void {
  const types = new Map<string, TypeView[]>()
  let names: string[] | null = null
  try {
    names = t.fs.readdir(t.parentBase)
  } catch {
    names = null
  }
  const read = (p: string): string => {
    try {
      return t.readText(p)
    } catch (e) {
      throw io(e)
    }
  }
  for (const name of names ?? []) {
    if (parent !== null && parent !== name) continue
    const mst = `${t.parentBase}/${name}/mdev_supported_types`
    let entries: string[]
    try {
      entries = t.fs.readdir(mst)
    } catch (e) {
      throw io(e)
    }
    const list: TypeView[] = []
    for (const tn of entries) {
      const tp = `${mst}/${tn}`
      if (!t.fs.isDir(tp)) continue
      const available = parseI32(rustTrim(read(tp + '/available_instances')))
      const api = rustTrim(read(tp + '/device_api'))
      const nm = t.fs.exists(tp + '/name') ? rustTrim(read(tp + '/name')) : ''
      const desc = t.fs.exists(tp + '/description') ? rustTrim(read(tp + '/description')).replaceAll('\n', ', ') : ''
      list.push({type: tn, available, api, name: nm, description: desc})
    }
    types.set(name, list)
  }
  const sorted = [...types].sort((a, b) => byteOrder(a[0], b[0]))
  for (const [, v] of sorted) v.sort((a, b) => byteOrder(a.type, b.type))
  t.out.out(dumpjson ? typesJson(sorted) : typesText(sorted))
}

function startParentMdevs(t: Mdevctl, parent: string): void {
  const devs = t.definedDevices(null, parent)
  if (devs.size === 0) return
  if (devs.size !== 1) fail('More than one parent found')
  for (const children of devs.values())
    for (const child of children) {
      if (!child.autostart) continue
      try {
        new Callout(t, child).invoke('start', false, (c) => t.start(c.dev))
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        for (const x of e.chain) t.warn(x)
      }
    }
}

// --- main ------------------------------------------------------------------------------------

/**
 * mdevctl's main (or lsmdev's, with env.prog): the environment self-check,
 * clap's parsing, then the command. Returns the exit code; output goes to
 * `io` (Rust's stdout is line buffered even on a pipe).
 */
export function runMdevctl(argv: string[], env: MdevctlEnv, io: Stdio): number {
  const t = new Mdevctl(env, io)
  try {
    t.selfCheck()
    if (env.prog === 'lsmdev') {
      const m = getMatches(buildLsmdev(), argv)
      const v = (id: string) => m.vals.get(id)
      listCommand(t, v('defined') === true, v('dumpjson') === true, v('verbose') === true, (v('uuid') as string) ?? null, (v('parent') as string) ?? null)
      return 0
    }
    const top = getMatches(buildMdevctl(), argv)
    const sub = top.sub!
    const v = (id: string): unknown => sub.vals.get(id) ?? null
    const s = (id: string): string | null => (v(id) as string | null) ?? null
    const f = (id: string): boolean => v(id) === true
    switch (sub.cmd.name) {
      case 'define':
        defineCommand(t, s('uuid'), f('auto'), s('parent'), s('type'), s('jsonfile'), f('force'))
        break
      case 'undefine':
        undefineCommand(t, s('uuid')!, s('parent'), f('force'))
        break
      case 'modify':
        modifyCommand(t, {
          uuid: s('uuid')!,
          parent: s('parent'),
          type: s('type'),
          addattr: s('addattr'),
          delattr: f('delattr'),
          index: (v('index') as number | null) ?? null,
          value: s('value'),
          auto: f('auto'),
          manual: f('manual'),
          live: f('live'),
          defined: f('defined'),
          jsonfile: s('jsonfile'),
          force: f('force'),
        })
        break
      case 'start':
        startCommand(t, s('uuid'), s('parent'), s('type'), s('jsonfile'), f('force'))
        break
      case 'stop':
        stopCommand(t, s('uuid')!, f('force'))
        break
      case 'list':
        listCommand(t, f('defined'), f('dumpjson'), f('verbose'), s('uuid'), s('parent'))
        break
      case 'types':
        typesCommand(t, s('parent'), f('dumpjson'))
        break
      case 'start-parent-mdevs':
        startParentMdevs(t, s('parent')!)
        break
    }
    return 0
  } catch (e) {
    if (e instanceof ClapExit) {
      if (e.stdout) io.out(e.stdout)
      if (e.stderr) io.err(e.stderr)
      return e.code
    }
    if (e instanceof RustError) {
      io.err(errorReport(e.chain))
      return 1
    }
    if (e instanceof Panic) {
      io.err(`thread 'main' panicked at ${e.location}:\n${e.text}\nnote: run with \`RUST_BACKTRACE=1\` environment variable to display a backtrace\n`)
      return 101
    }
    throw e
  }
}
