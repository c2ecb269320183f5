// Device selection (s390-tools 2.43.0, zdev/src/select.c) on a host
// without zdev-managed devices: the selection options chzdev and lszdev
// share, and select_devices with its -V device count and "not found"
// entries.

import {CONFIG_ALL, configToStr, getConfig, scopeActive, scopeAutoconf, scopePersistent, scopeSingle} from './setting.js'
import {DEVTYPES, type Devtype, type Subtype} from './devtype.js'
import {EXIT} from './exit_code.js'
import {NotEmulated} from './misc.js'
import {normalizeId, nsIdValid, nsOf, nsRangeValid} from './namespace.js'
import type {Zdev} from './process.js'

export interface SelectOpts {
  devtype: Devtype | null
  subtype: Subtype | null
  devids: string[]
  byPath: string[]
  byNode: string[]
  byIf: string[]
  byAttr: string[]
  all: boolean
  configured: boolean
  existing: boolean
  online: boolean
  offline: boolean
  failed: boolean
  ipldev: boolean
}

/**
 * The device selection options chzdev and lszdev share: false when `name`
 * is not one of them; otherwise 0, or the exit code of a bad argument.
 */
export function selectionOption(s: SelectOpts, name: string, arg: string, out: {syntax(msg: string): void}): number | false {
  switch (name) {
    case 'all':
    case 'configured':
    case 'existing':
    case 'online':
    case 'offline':
    case 'failed':
    case 'ipldev':
      s[name] = true
      return 0
    case 'by-path':
      s.byPath.push(arg)
      return 0
    case 'by-node':
      s.byNode.push(arg)
      return 0
    case 'by-interface':
      s.byIf.push(arg)
      return 0
    case 'by-attrib':
      if (!arg.includes('=')) {
        out.syntax('--by-attrib requires argument in ATTRIB=VALUE or ATTRIB!=VALUE format\n')
        return EXIT.USAGE_ERROR
      }
      s.byAttr.push(arg)
      return 0
    default:
      return false
  }
}

export const newSelect = (): SelectOpts => ({
  devtype: null,
  subtype: null,
  devids: [],
  byPath: [],
  byNode: [],
  byIf: [],
  byAttr: [],
  all: false,
  configured: false,
  existing: false,
  online: false,
  offline: false,
  failed: false,
  ipldev: false,
})

export const devSpecified = (s: SelectOpts): boolean =>
  s.devids.length > 0 ||
  s.byPath.length > 0 ||
  s.byNode.length > 0 ||
  s.byIf.length > 0 ||
  s.byAttr.length > 0 ||
  s.all ||
  s.configured ||
  s.existing ||
  s.online ||
  s.offline ||
  s.failed ||
  s.ipldev

/** A selected device: on this host only ID specifications that matched nothing. */
export interface Selected {
  dt: Devtype | null
  st: Subtype | null
  id: string
  param: string | null
  rc: number
}
/**
 * select_devices on a host where no CCW, CCW group, zfcp or AP device
 * exists: the -V device count, the cio_ignore look-up of unblacklisting and
 * one "not found" entry per device ID specification. Specifications that
 * would create a device (definable types, persistent-only configuration)
 * are not emulated.
 */
export function selectDevices(
  z: Zdev,
  sel: SelectOpts,
  out: Selected[],
  existing: boolean,
  unblacklist: boolean,
  config: number,
): number {
  const o = z.o
  if (unblacklist) z.unblacklistCheck(sel)
  const byFunction = sel.devids.length === 0 && (sel.byPath.length || sel.byNode.length || sel.byIf.length || sel.byAttr.length)
  if (!byFunction) {
    // select_nocreate: count the devices (there are none).
    const nocreate = (cfg: number) => {
      if (o.quiet) return
      const idc = getConfig(
        sel.existing || sel.all || sel.offline || sel.online || scopeActive(cfg),
        sel.configured || sel.all || scopePersistent(cfg),
        sel.all || scopeAutoconf(cfg),
      )
      o.verb(`Scanning for devices in ${configToStr(idc)} configuration${!scopeSingle(idc) ? 's' : ''}:\n`)
      for (const dt of DEVTYPES) {
        if (sel.devtype && dt !== sel.devtype) continue
        for (const st of dt.subtypes) {
          if (sel.subtype && st !== sel.subtype) continue
          o.verb(`  ${st.devname.padEnd(19)}: 0\n`)
        }
      }
      o.verb('  No device found\n')
    }
    const specs = sel.devids
    let create = false
    if (existing) {
      nocreate(config)
      // select_remaining(define=1)
      for (const spec of specs) {
        const st = sel.subtype ?? deriveSt(spec)
        if (st && st.definable) create = true
      }
    } else if (sel.subtype) {
      if (specs.length) create = true
      else nocreate(config)
    } else {
      nocreate(CONFIG_ALL)
      for (const spec of specs) if (deriveSt(spec)) create = true
    }
    if (create) throw new NotEmulated('configuring a device that does not exist yet')
    for (const spec of specs) {
      out.push({dt: sel.devtype, st: sel.subtype, id: sel.subtype ? normalizeId(sel.subtype, spec) : spec, param: spec, rc: sel.subtype ? EXIT.DEVICE_NOT_FOUND : EXIT.INCOMPLETE_TYPE})
    }
  }
  for (const node of sel.byNode) {
    o.error(`Could not determine device that provides ${node} (${node})\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  for (const path of sel.byPath) {
    if (!z.fs.exists(path)) o.error(`Path not found: ${path}\n`)
    else o.error(`Could not determine device that provides ${path}\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  for (const name of sel.byIf) {
    o.error(`Could not determine device that provides ${name} (${name})\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  return EXIT.OK
}

/** derive_st: the one subtype whose namespace accepts the specification, else null. */
function deriveSt(spec: string): Subtype | null {
  let result: Subtype | null = null
  for (const dt of DEVTYPES) {
    for (const st of dt.subtypes) {
      const ns = nsOf(st)
      if (!nsIdValid(ns, spec) && !nsRangeValid(ns, spec)) continue
      if (result) return null
      result = st
    }
  }
  return result
}
