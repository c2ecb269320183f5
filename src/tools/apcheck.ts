// ap-check (s390-tools 2.43.0), the vfio_ap callout of mdevctl: argument
// checks, the conflict analysis for define/modify/start, the get-attributes
// and get-capabilities answers and the live update through ap_config, with
// the real tool's messages and exit codes (chzdev-ap.md §4).
//
// The real ap-check serialises against chzdev/lszdev with the ap config lock
// (/run/lock/s390apconfig.lock, owned by mdevctl's pid from `pre` to `post`).
// aplab runs whole commands one at a time under its own state lock, so no
// other command can interleave and the lock is not modelled: every "lock"
// step of the real tool succeeds here, and "Failed to acquire configuration
// lock <n>" cannot happen.
//
// What ap-check takes from libap (device definitions, matrix files, the
// masks of 41-ap.rules, util_assert) is the one port in zdev/ that chzdev
// and lszdev use, so the three tools read those files alike.

import {KernelError} from '../core/errors.js'
import {getoptLong} from './getopt.js'
import {type Jso, type JsoArray, arrayLength, getString, jsoncParse, objectGetEx, toJsonString} from './jsonc.js'
import {Crash, type FatalSignal, coreDumpsOff} from './libc.js'
import type {Fs} from './sys.js'
import {type VfioApConfig, apSetBit, maskToList, parseMatrix, readVfioApConfig} from './zdev/libap.js'
import {apUdevMasks} from './zdev/process.js'

export interface ApCheckResult {
  code: number
  stdout: string
  stderr: string
  /** Set when the process died from a signal (code is then the shell's 128+n). */
  signal?: FatalSignal
}

const VFIO_AP_TYPE = 'vfio_ap-passthrough'

const EVENTS = ['pre', 'post', 'get', 'live']
/** The action table: two zero-filled slots make `-a ""` match `define`. */
const ACTIONS = ['define', 'list', 'modify', 'start', 'stop', 'types', 'undefine', 'attributes', 'capabilities']
/** mdevctl_action_table in its order: seven names and two zero-filled slots (which match an empty name). */
const TABLE_ACTIONS = ['define', 'modify', 'start', 'stop', 'undefine', 'attributes', 'capabilities', '', '']

/** The process ends by exit(). (libap's util_assert, json-c's asserts and segfaults end it by a Crash.) */
class Exit {
  constructor(readonly code: number) {}
}

const segfault = (): never => {
  throw new Crash(139)
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** printf("%u") of a C int. */
const u = (n: number): string => String(n >>> 0)

/** The ap_config field of a list of IDs: ap_set_bit on a zero mask, libap's asserts included. */
const maskHex = (bits: number[]): string => bits.reduce((mask, b) => apSetBit(b, mask, true), '0x' + '0'.repeat(64))

interface Ctx {
  fs: Fs
  root: string
  uuid: string
  err: string[]
}

const say = (c: Ctx, msg: string): void => void c.err.push(msg)

/**
 * find_apqn_conflicts: walk both sorted adapter lists, and for each common
 * adapter both sorted domain lists, reporting every shared APQN.
 */
function findConflicts(c: Ctx, other: string | null, dev: VfioApConfig, adapters2: number[], domains2: number[], persistent: boolean): number {
  let rc = 0
  for (const a of dev.adapters) {
    if (!adapters2.includes(a)) continue
    for (const d of dev.domains) {
      if (!domains2.includes(d)) continue
      if (other !== null)
        say(c, persistent ? `APQN ${u(a)}.${u(d)} is defined for autostart by ${other}` : `APQN ${u(a)}.${u(d)} already in use by ${other}`)
      else
        say(
          c,
          persistent
            ? `APQN ${u(a)}.${u(d)} is not defined for vfio_ap-passthrough use by the persistent ap bus mask settings`
            : `APQN ${u(a)}.${u(d)} is not allowed for vfio_ap-passthrough use by the active ap bus mask settings`,
        )
      rc = -1
    }
  }
  return rc
}

function readdir(fs: Fs, path: string): string[] | null {
  try {
    return fs.readdir(path)
  } catch {
    return null
  }
}

/** check_other_mdevs_cfg: the other auto definitions under /etc/mdevctl.d/matrix. */
function checkOtherConfigs(c: Ctx, dev: VfioApConfig): number {
  const dir = c.root + '/etc/mdevctl.d/matrix'
  if (!c.fs.isDir(dir)) return 0
  let rc = 0
  for (const name of readdir(c.fs, dir) ?? []) {
    if (!UUID_RE.test(name) || name.toLowerCase() === c.uuid.toLowerCase()) continue
    const other = readVfioApConfig(c.fs.readOrNull(`${dir}/${name}`))
    if (!other) continue
    if (other.type === null) segfault() // strcmp(NULL, ...)
    if (other.type !== VFIO_AP_TYPE || other.manual) continue
    const r = findConflicts(c, name, dev, other.adapters, other.domains, true)
    if (rc === 0 && r !== 0) rc = r
  }
  return rc
}

/** The first line of a sysfs mask attribute as a bit list. */
function sysfsMask(c: Ctx, which: 'apmask' | 'aqmask'): number[] | null {
  const text = c.fs.readOrNull(`${c.root}/sys/bus/ap/${which}`)
  if (text === null) return null
  return maskToList(text.split('\n')[0])
}

/** ap_read_udev_masks: the masks of 41-ap.rules, the sysfs ones where the rule sets none. */
function persistentMasks(c: Ctx): {apmask: number[]; aqmask: number[]} | null {
  return apUdevMasks(c.fs, c.root, (text) => c.err.push(...text.split('\n').slice(0, -1)))
}

/** check_cfg_mask_conflicts: the device against the persistent host masks. */
function checkPersistentMasks(c: Ctx, dev: VfioApConfig): number {
  const masks = persistentMasks(c)
  if (!masks) {
    say(c, 'Error reading system AP settings')
    return -1
  }
  return findConflicts(c, null, dev, masks.apmask, masks.aqmask, true)
}

/** check_other_mdevs_sysfs: the running mdevs (a dir whose matrix cannot be read is going away). */
function checkRunning(c: Ctx, dev: VfioApConfig): number {
  const dir = c.root + '/sys/devices/vfio_ap/matrix'
  if (!c.fs.isDir(dir)) return 0
  let rc = 0
  for (const name of readdir(c.fs, dir) ?? []) {
    if (!UUID_RE.test(name) || name.toLowerCase() === c.uuid.toLowerCase()) continue
    const text = c.fs.readOrNull(`${dir}/${name}/matrix`)
    if (text === null) continue
    const m = parseMatrix(text)
    const r = findConflicts(c, name, dev, m.adapters, m.domains, false)
    if (rc === 0 && r !== 0) rc = r
  }
  return rc
}

/** check_sysfs_mask_conflicts: the device against the active host masks. */
function checkActiveMasks(c: Ctx, dev: VfioApConfig): number {
  const apmask = sysfsMask(c, 'apmask')
  const aqmask = sysfsMask(c, 'aqmask')
  if (apmask === null || aqmask === null) {
    say(c, 'Error reading system AP settings')
    return -1
  }
  return findConflicts(c, null, dev, apmask, aqmask, false)
}

/** Read the config (stdin or file) and check its type, as every handler does. */
function deviceConfig(c: Ctx, text: string | null): VfioApConfig | null {
  const dev = readVfioApConfig(text)
  if (!dev) {
    say(c, 'Failed to read device config')
    return null
  }
  if (dev.type === null) segfault() // strcmp(anc->dev->type, anc->type)
  return dev
}

/** ap_check_changes: shared by pre define and pre modify; only auto devices are checked. */
function checkChanges(c: Ctx, stdin: string | null): number {
  const dev = deviceConfig(c, stdin)
  if (!dev) return -1
  if (dev.manual) return 0
  const rc = checkOtherConfigs(c, dev)
  const rc2 = checkPersistentMasks(c, dev)
  return rc !== 0 ? rc : rc2
}

/** The active check of pre start and live modify. */
function checkActive(c: Ctx, dev: VfioApConfig): number {
  if (dev.domains.length === 0 && dev.controls.length > 0) {
    say(c, 'At least one usage domain must be specified')
    return -1
  }
  const rc = checkRunning(c, dev)
  const rc2 = checkActiveMasks(c, dev)
  return rc !== 0 ? rc : rc2
}

function getAttributes(c: Ctx): {rc: number; out: string} {
  const base = `${c.root}/sys/devices/vfio_ap/matrix/${c.uuid}`
  const matrix = c.fs.readOrNull(`${base}/matrix`)
  const control = c.fs.readOrNull(`${base}/control_domains`)
  // The device is going away: say nothing.
  if (matrix === null || control === null) return {rc: 0, out: ''}
  const m = parseMatrix(matrix)
  const controls = control
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseInt(l.trim(), 16))
  const items = [
    ...m.adapters.map((a) => `"assign_adapter": "${u(a)}"`),
    ...m.domains.map((d) => `"assign_domain": "${u(d)}"`),
    ...controls.map((d) => `"assign_control_domain": "${u(d)}"`),
  ]
  return {rc: 0, out: `[{${items.join('},{')}}]\n`}
}

/**
 * get capabilities: json-c reads stdin; each of mdevctl's lists must be
 * there (of any type: json_add_attr then asserts it is an array, and takes
 * each entry's string, segfaulting on a null one); the answer keeps
 * ap-check's order and the caller's spelling of each name it matches
 * (strncasecmp of the same length).
 */
function getCapabilities(c: Ctx, stdin: string | null): {rc: number; out: string} {
  const root = stdin === null ? null : jsoncParse(stdin)
  if (root === null) {
    say(c, 'No capabilities provided')
    return {rc: -1, out: ''}
  }
  const provides = objectGetEx(root, 'provides')
  if (!provides.found) {
    say(c, 'No supported capabilities provided')
    return {rc: -1, out: ''}
  }
  const need: Array<[string, string]> = [
    ['version', 'No version provided in capabilities'],
    ['actions', 'No actions provided in capabilities'],
    ['events', 'No events provided in capabilities'],
  ]
  const got: Record<string, Jso> = {}
  for (const [key, msg] of need) {
    const r = objectGetEx(provides.value, key)
    if (!r.found) {
      say(c, msg)
      return {rc: -1, out: ''}
    }
    got[key] = r.value
  }
  /** json_add_attr for each of ap-check's names. */
  const pick = (own: string[], theirs: Jso): Jso => {
    const items: Jso[] = []
    for (const name of own) {
      const n = arrayLength(theirs)
      for (let i = 0; i < n; i++) {
        const val = getString((theirs as JsoArray).items[i])
        if (val === null) throw new Crash(139) // strlen(NULL)
        if (val.length === name.length && val.replace(/[A-Z]/g, (x) => x.toLowerCase()) === name) {
          items.push({type: 'string', value: val})
          break
        }
      }
    }
    return {type: 'array', items}
  }
  const actions = pick(TABLE_ACTIONS, got.actions)
  const events = pick(EVENTS, got.events)
  const caps: Jso = {type: 'object', fields: new Map<string, Jso>([['version', {type: 'int', value: 2n}], ['actions', actions], ['events', events]])}
  return {rc: 0, out: toJsonString({type: 'object', fields: new Map([['supports', caps]])}) + '\n'}
}

/** live modify: check the new matrix as start does, then write it to ap_config in one go. */
function liveModify(c: Ctx, stdin: string | null): {rc: number; rawErr?: string} {
  const dev = deviceConfig(c, stdin)
  if (!dev) return {rc: -1}
  const path = `${c.root}/sys/devices/vfio_ap/matrix/${c.uuid}/ap_config`
  if (c.fs.readOrNull(path) === null) return {rc: -1, rawErr: 'vfio-ap module does not support ap_config for live modification'}
  const rc = checkActive(c, dev)
  if (rc !== 0) return {rc}
  const line = `${maskHex(dev.adapters)},${maskHex(dev.domains)},${maskHex(dev.controls)}\n`
  if (!c.fs.canWrite(path)) {
    say(c, 'Error opening ap_config')
    return {rc: -1}
  }
  try {
    c.fs.write(path, line)
  } catch {
    // fclose's result is not checked: a rejected write goes unnoticed.
  }
  return {rc: 0}
}

/**
 * Run ap-check with `args` (mdevctl's `-t -e -a -s -u -p`), `stdin` (null
 * for none) against the file system `fs`, every path below `root` ('' for
 * the emulated host). `coreOff`: the core size limit is 0 (util_assert's
 * banner says so); default: this process's limit.
 */
export function runApCheck(args: string[], stdin: string | null, fs: Fs, root: string, coreOff?: boolean): ApCheckResult {
  const errLines: string[] = []
  let out = ''
  let rawErr = ''
  const finish = (code: number, signal?: FatalSignal): ApCheckResult => {
    const r: ApCheckResult = {code, stdout: signal ? '' : out, stderr: errLines.map((l) => l + '\n').join('') + rawErr}
    if (signal) r.signal = signal
    return r
  }
  try {
    return finish(apCheck(args, stdin, fs, root, errLines, (o) => (out += o), (e) => (rawErr += e)))
  } catch (e) {
    if (e instanceof Exit) return finish(e.code)
    if (e instanceof Crash) {
      rawErr += e.stderr({prog: 'ap-check', coreDumpsOff: coreOff ?? coreDumpsOff()})
      return finish(e.code, e.signal)
    }
    throw e
  }
}

function apCheck(args: string[], stdin: string | null, fs: Fs, root: string, err: string[], out: (s: string) => void, raw: (s: string) => void): number {
  const defs = ['e', 'a', 's', 'u', 'p', 't'].map((k) => ({key: k, short: k, long: k, arg: 'required' as const}))
  const g = getoptLong(args, defs, false)
  const seen: Record<string, string> = {}
  let bad = false
  for (const ev of g.events) {
    if (ev.kind !== 'opt') {
      err.push('Unknown operand')
      return 1
    }
    if (ev.key in seen) bad = true
    else seen[ev.key] = ev.arg!
  }
  if (bad || ['a', 'e', 's', 'u', 'p', 't'].some((k) => !(k in seen))) {
    err.push('Duplicate or missing operand')
    return 1
  }
  if (!UUID_RE.test(seen.u)) {
    err.push('Invalid UUID specified')
    return 1
  }
  if (seen.t !== VFIO_AP_TYPE) return 2
  if (seen.p !== 'matrix') {
    err.push('Invalid parent specified')
    return 1
  }
  const event = EVENTS.includes(seen.e) ? seen.e : null
  const action = seen.a === '' ? 'define' : ACTIONS.includes(seen.a) ? seen.a : null
  const c: Ctx = {fs, root, uuid: seen.u, err}
  const configPath = `${root}/etc/mdevctl.d/matrix/${seen.u}`
  const rc = ((): number => {
    switch (event) {
      case 'pre':
        switch (action) {
          case 'define':
            if (fs.readOrNull(configPath) !== null) {
              say(c, 'Config already exists')
              return -1
            }
            return checkChanges(c, stdin)
          case 'modify':
            if (fs.readOrNull(configPath) === null) {
              say(c, "Config doesn't exist")
              return -1
            }
            return checkChanges(c, stdin)
          case 'start': {
            if (!fs.isDir(root + '/sys/devices/vfio_ap')) {
              say(c, 'vfio_ap module is not loaded')
              throw new Exit(1)
            }
            const dev = deviceConfig(c, stdin)
            return dev ? checkActive(c, dev) : -1
          }
          case 'stop':
            return 0
          case 'undefine':
            return deviceConfig(c, fs.readOrNull(configPath)) ? 0 : -1
          default:
            return 0
        }
      case 'post':
        // Releases the lock taken by pre; nothing to do here.
        return 0
      case 'get':
        if (action === 'attributes' || action === 'capabilities') {
          const r = action === 'attributes' ? getAttributes(c) : getCapabilities(c, stdin)
          out(r.out)
          return r.rc
        }
        return 0
      case 'live':
        if (action === 'modify') {
          const r = liveModify(c, stdin)
          if (r.rawErr) raw(r.rawErr)
          return r.rc
        }
        return 0
      default:
        return 0
    }
  })()
  return rc & 0xff
}

/**
 * The callout runner of the emulated host: /usr/lib/mdevctl/scripts.d/callouts/ap-check
 * is aplab's ap-check; nothing else can be executed (execve fails with EACCES).
 */
export function hostCallout(fs: Fs, root = ''): (script: string, args: string[], stdin: string | null) => ApCheckResult {
  return (script, args, stdin) => {
    if (script === root + '/usr/lib/mdevctl/scripts.d/callouts/ap-check') return runApCheck(args, stdin, fs, root)
    throw new KernelError('EACCES')
  }
}
