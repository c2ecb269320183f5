// The state file's schema: the core model from plain YAML data, with
// validation that names the field that is wrong (the model to data, and this
// build's own data read back without the checks: data.ts).

import {blacklistFromText} from '../core/cio.js'
import {LOG_NFACILITIES, originOf} from '../core/dmesg.js'
import {worldProblems} from '../core/invariants.js'
import {parseTypeName} from '../core/lpar.js'
import {type Mask, parseRanges} from '../core/mask.js'
import {
  HOST_NAME_RE,
  type Adapter,
  type Host,
  type Lpar,
  type Mdev,
  type Persistent,
  QCI_FEATURES,
  type QciFeature,
  type QueueCounters,
  type QueueHw,
  type LogLine,
  type Runtime,
  type World,
  AP_FEATURES,
  type ApFeature,
  type Guest,
  type GuestDevice,
  type GuestProcess,
  type Libvirt,
  type LibvirtDomain,
} from '../core/model.js'
import {STATE_VERSION, bootList, maskTable, newMaskTable, readOwnWorld} from './data.js'

export {STATE_VERSION, worldToData} from './data.js'


/** 9999-12-31T23:59:59.999Z, the last boot time a state may record. */
const LAST_MS = 253402300799999

/** Thrown with the dotted path of the offending field. */
export class SchemaError extends Error {
  constructor(
    readonly where: string,
    readonly what: string,
  ) {
    super(`${where}: ${what}`)
  }
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v))

class Reader {
  /**
   * The mapping `v`, at `parent`'s field `key` (or, a number, at entry `key`
   * of the list that is `parent`'s field `inList`): its dotted path is made
   * only for a message.
   */
  constructor(
    private readonly v: Obj,
    private readonly parent?: Reader,
    private readonly key?: string | number,
    private readonly inList?: string,
  ) {}

  static root(v: unknown): Reader {
    if (!isObj(v)) throw new SchemaError('(top level)', 'expected a mapping')
    return new Reader(v)
  }

  /** The dotted path of this mapping (`hosts[0].runtime`), '' at the top. */
  get at(): string {
    if (this.parent === undefined) return ''
    return typeof this.key === 'number' ? `${this.parent.path(this.inList!)}[${this.key}]` : this.parent.path(this.key!)
  }

  private path(key: string): string {
    const at = this.at
    return at ? `${at}.${key}` : key
  }

  fail(key: string, what: string): never {
    throw new SchemaError(this.path(key), what)
  }

  has(key: string): boolean {
    return this.v[key] !== undefined && this.v[key] !== null
  }

  /** Reject keys the schema does not know (a typo must not be silently ignored). */
  only(...keys: string[]): this {
    for (const k of Object.keys(this.v)) if (!keys.includes(k)) this.fail(k, `unknown field (known: ${keys.join(', ')})`)
    return this
  }

  obj(key: string): Reader {
    const v = this.v[key]
    if (!isObj(v)) this.fail(key, v === undefined ? 'missing' : `expected a mapping, found ${show(v)}`)
    return new Reader(v as Obj, this, key)
  }

  optObj(key: string): Reader | undefined {
    return this.has(key) ? this.obj(key) : undefined
  }

  list(key: string): Reader[] {
    const v = this.v[key]
    if (!Array.isArray(v)) this.fail(key, v === undefined ? 'missing' : `expected a list, found ${show(v)}`)
    return (v as unknown[]).map((x, i) => {
      if (!isObj(x)) throw new SchemaError(`${this.path(key)}[${i}]`, `expected a mapping, found ${show(x)}`)
      return new Reader(x, this, i, key)
    })
  }

  strings(key: string): string[] {
    const v = this.v[key] ?? []
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(key, `expected a list of strings, found ${show(v)}`)
    return [...(v as string[])]
  }

  keys(): string[] {
    return Object.keys(this.v)
  }

  /** A field as it is (for data known to be worldToData's). */
  raw(key: string): unknown {
    return this.v[key]
  }

  str(key: string): string {
    const v = this.v[key]
    if (typeof v !== 'string') this.fail(key, v === undefined ? 'missing' : `expected a string, found ${show(v)}`)
    return v as string
  }

  optStr(key: string): string | undefined {
    return this.has(key) ? this.str(key) : undefined
  }

  bool(key: string): boolean {
    const v = this.v[key]
    if (typeof v !== 'boolean') this.fail(key, v === undefined ? 'missing' : `expected true or false, found ${show(v)}`)
    return v as boolean
  }

  optBool(key: string, dflt: boolean): boolean {
    return this.has(key) ? this.bool(key) : dflt
  }

  int(key: string, min: number, max: number): number {
    const v = this.v[key]
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, v === undefined ? 'missing' : `expected a whole number, found ${show(v)}`)
    if ((v as number) < min || (v as number) > max) this.fail(key, `${v} is out of range ${min}..${max}`)
    return v as number
  }

  optInt(key: string, min: number, max: number, dflt: number): number
  optInt(key: string, min: number, max: number): number | undefined
  optInt(key: string, min: number, max: number, dflt?: number): number | undefined {
    return this.has(key) ? this.int(key, min, max) : dflt
  }

  /** A number given as an integer or as a hex/decimal string (`0x0a`, `10`). */
  id(key: string, max: number): number {
    const v = this.v[key]
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN
    if (!Number.isInteger(n)) this.fail(key, v === undefined ? 'missing' : `expected a number such as 0x0a, found ${show(v)}`)
    if (n < 0 || n > max) this.fail(key, `${show(v)} is out of range 0..${max}`)
    return n
  }

  hexWord(key: string): number | undefined {
    if (!this.has(key)) return undefined
    const v = this.v[key]
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v
    if (typeof v === 'string' && /^0x[0-9a-f]{1,8}$/i.test(v)) return Number(v)
    return this.fail(key, `expected a 32-bit hex value such as 0x92800000, found ${show(v)}`)
  }

  pattern(key: string, digits: number): string | undefined {
    if (!this.has(key)) return undefined
    const v = this.v[key]
    const re = new RegExp(`^0x[0-9a-f]{${digits}}$`)
    if (typeof v !== 'string' || !re.test(v)) this.fail(key, `expected 0x and ${digits} lower-case hex digits, found ${show(v)}`)
    return v as string
  }

  mask(key: string): Mask {
    const v = this.v[key]
    const text = v === null ? '' : typeof v === 'number' ? String(v) : v
    if (typeof text !== 'string') this.fail(key, v === undefined ? 'missing' : `expected a list of ranges such as 0x00-0x54, found ${show(v)}`)
    // Masks are immutable values: one per distinct text (a host's thousand
    // mdevs have few distinct ones), parsed once.
    const masks = maskTable()
    const known = masks.get(text as string)
    if (known) return known
    try {
      const m = parseRanges(text as string)
      masks.set(text as string, m)
      return m
    } catch (e) {
      return this.fail(key, (e as Error).message)
    }
  }
}

const APQN_RE = /^[0-9a-f]{2}\.[0-9a-f]{4}$/
const DEVICE_RE = /^(card[0-9a-f]{2}|[0-9a-f]{2}\.[0-9a-f]{4})$/

function readAdapter(r: Reader): Adapter {
  r.only('id', 'type', 'raw_hwtype', 'functions', 'depth', 'max_msg_size', 'serial', 'configured', 'checkstopped', 'ep11')
  const t = parseTypeName(r.str('type'))
  if (!t) r.fail('type', `${show(r.str('type'))} is not a Crypto Express type (CEX4A .. CEX8P)`)
  const a: Adapter = {
    id: r.id('id', 255),
    gen: t!.gen,
    mode: t!.mode,
    depth: r.optInt('depth', 1, 256, 8),
    maxMsgSize: r.optInt('max_msg_size', 0, 0xffffffff, 12288),
    configured: r.optBool('configured', true),
    checkstopped: r.optBool('checkstopped', false),
  }
  const raw = r.optInt('raw_hwtype', 1, 255)
  if (raw !== undefined) a.rawType = raw
  const fn = r.hexWord('functions')
  if (fn !== undefined) a.functions = fn
  const serial = r.optStr('serial')
  if (serial !== undefined) a.serial = serial
  const e = r.optObj('ep11')
  if (e) {
    e.only('api', 'fw', 'op_modes')
    a.ep11 = {}
    const api = e.optInt('api', 0, 0xffffffff)
    if (api !== undefined) a.ep11.api = api
    const fw = e.optStr('fw')
    if (fw !== undefined) a.ep11.fw = fw
    const om = e.optStr('op_modes')
    if (om !== undefined) a.ep11.opModes = om
  }
  return a
}

function readQueueHw(r: Reader): QueueHw {
  r.only('functions', 'aes_mkvp', 'apka_mkvp', 'asym_mkvp', 'wk_mkvp', 'assoc')
  const q: QueueHw = {}
  const fn = r.hexWord('functions')
  if (fn !== undefined) q.functions = fn
  const aes = r.pattern('aes_mkvp', 16)
  const apka = r.pattern('apka_mkvp', 16)
  const asym = r.pattern('asym_mkvp', 32)
  if (aes || apka || asym) q.mk = {...(aes && {aes}), ...(apka && {apka}), ...(asym && {asym})}
  const wk = r.pattern('wk_mkvp', 64)
  if (wk) q.wk = wk
  const assoc = r.optInt('assoc', 0, 65535)
  if (assoc !== undefined) q.assoc = assoc
  return q
}

function readLpar(r: Reader): Lpar {
  r.only('qci', 'features', 'na', 'nd', 'interrupts', 'adapters', 'usage_domains', 'control_domains', 'queues')
  const features = r.strings('features')
  for (const f of features)
    if (!(QCI_FEATURES as readonly string[]).includes(f)) r.fail('features', `unknown feature '${f}' (known: ${QCI_FEATURES.join(' ')})`)
  const adapters = r.list('adapters').map(readAdapter)
  const seen = new Set<number>()
  adapters.forEach((a, i) => {
    if (seen.has(a.id)) throw new SchemaError(`${r.at}.adapters[${i}].id`, `adapter 0x${a.id.toString(16).padStart(2, '0')} is listed twice`)
    seen.add(a.id)
  })
  const queues: Record<string, QueueHw> = {}
  const qr = r.optObj('queues')
  if (qr) for (const k of qr.keys()) {
    if (!APQN_RE.test(k)) qr.fail(k, 'expected a queue id such as 05.0004')
    queues[k] = readQueueHw(qr.obj(k))
  }
  return {
    qci: r.optBool('qci', true),
    features: features as QciFeature[],
    na: r.optInt('na', 0, 255, 0),
    nd: r.optInt('nd', 0, 255, 0),
    airq: r.optBool('interrupts', true),
    adapters: adapters.sort((x, y) => x.id - y.id),
    usage: r.mask('usage_domains'),
    control: r.mask('control_domains'),
    queues,
  }
}

function readPersistent(r: Reader): Persistent {
  r.only('cmdline', 'files')
  const files: Record<string, string> = {}
  const fr = r.optObj('files')
  if (fr) for (const k of fr.keys()) {
    if (!k.startsWith('/etc/')) fr.fail(k, 'persistent files live below /etc/')
    files[k] = fr.str(k)
  }
  return {cmdline: r.has('cmdline') ? r.str('cmdline') : '', files}
}

function readRuntime(r: Reader, bootedWith: string): Runtime {
  r.only(
    'cmdline',
    'apmask',
    'aqmask',
    'ap_domain',
    'config_time',
    'poll_thread',
    'poll_timeout',
    'useirq',
    'scans',
    'modules',
    'offline',
    'unbound',
    'counters',
    'mdevs',
    'cio_ignore',
    'boot_time',
    'dmesg',
  )
  const devices = (key: string) => {
    const list = r.strings(key)
    for (const d of list) if (!DEVICE_RE.test(d)) r.fail(key, `'${d}' is not a device name such as card05 or 05.0004`)
    return list
  }
  const counters: Record<string, QueueCounters> = {}
  const cr = r.optObj('counters')
  if (cr) for (const k of cr.keys()) {
    if (!DEVICE_RE.test(k)) cr.fail(k, 'expected a device name such as card05 or 05.0004')
    const c = cr.obj(k).only(...(k.startsWith('card') ? ['requests'] : ['requests', 'requestq', 'pendingq']))
    const n: QueueCounters = {}
    const max = Number.MAX_SAFE_INTEGER
    for (const f of ['requests', 'requestq', 'pendingq'] as const) {
      const v = c.optInt(f, 0, max)
      if (v !== undefined) n[f] = v
    }
    counters[k] = n
  }
  return {
    // Absent when the host still runs the command line it is configured with.
    cmdline: r.has('cmdline') ? r.str('cmdline') : bootedWith,
    apmask: r.mask('apmask'),
    aqmask: r.mask('aqmask'),
    domain: r.int('ap_domain', -1, 255),
    configTime: r.optInt('config_time', 5, 120, 30),
    pollThread: r.optBool('poll_thread', false),
    pollTimeout: r.optInt('poll_timeout', 0, 120000000000, 250000),
    useirq: r.optBool('useirq', true),
    scans: r.optInt('scans', 0, Number.MAX_SAFE_INTEGER, 1),
    modules: r.strings('modules'),
    offline: devices('offline'),
    unbound: devices('unbound'),
    counters,
    mdevs: r.has('mdevs') ? readMdevs(r) : [],
    // Absent when it is what booting the command line gives.
    cioIgnore: r.has('cio_ignore') ? cioIgnore(r) : bootList(r.has('cmdline') ? r.str('cmdline') : bootedWith).map(([a, b]): [number, number] => [a, b]),
    // Milliseconds since 1970, up to the end of year 9999: the dates dmesg -T and --time-format iso print.
    bootTime: r.optInt('boot_time', 0, LAST_MS, 0),
    dmesg: r.strings('dmesg').map((l, i) => logLine(r, l, i)),
  }
}

/**
 * A kernel log record, `<PRI>MICROS TEXT`: PRI is syslog's priority,
 * facility * 8 + level (`<4>` a kernel warning), as /dev/kmsg and `dmesg -r`
 * write it. A record without `<PRI>` (written before aplab kept levels)
 * reads as the level its text is logged at (originOf).
 */
function logLine(r: Reader, l: string, i: number): LogLine {
  const m = /^(?:<([^>]*)>)?(\d+) (.*)$/s.exec(l)
  if (!m || !Number.isSafeInteger(Number(m[2]))) r.fail(`dmesg[${i}]`, 'expected <priority>, microseconds since boot, a blank and the message')
  const [, pri, t, msg] = m!
  if (pri === undefined) return {t: Number(t), ...originOf(msg), msg}
  if (!/^\d{1,3}$/.test(pri) || Number(pri) >= LOG_NFACILITIES * 8)
    r.fail(`dmesg[${i}]`, `'<${pri}>' is not a priority: expected <facility * 8 + level>, 0 to ${LOG_NFACILITIES * 8 - 1} (<4> a kernel warning, <6> kernel info)`)
  return {t: Number(t), level: Number(pri) & 7, facility: Number(pri) >> 3, msg}
}

function cioIgnore(r: Reader): Runtime['cioIgnore'] {
  const list = blacklistFromText(r.strings('cio_ignore'))
  if (!list) r.fail('cio_ignore', 'expected bus IDs or ranges such as 0.0.5c00 or 0.0.0000-0.0.5bff')
  return list!
}

function readMdevs(r: Reader): Mdev[] {
  return r.list('mdevs').map((m) => {
    m.only('uuid', 'adapters', 'domains', 'control_domains', 'guest_matrix', 'iommu_group')
    const uuid = m.str('uuid')
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) m.fail('uuid', `'${uuid}' is not a lower-case UUID`)
    const g = m.obj('guest_matrix').only('adapters', 'domains', 'control_domains')
    return {
      uuid,
      apm: m.mask('adapters'),
      aqm: m.mask('domains'),
      adm: m.mask('control_domains'),
      shadow: {apm: g.mask('adapters'), aqm: g.mask('domains'), adm: g.mask('control_domains')},
      group: m.optInt('iommu_group', 0, 1 << 30, 0),
    }
  })
}

const ID_RE = /^[A-Za-z][A-Za-z0-9._-]*$/
const UUID_LC_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function readGuest(r: Reader): Guest {
  r.only('name', 'managed', 'autostart', 'running', 'run_state', 'args', 'cpu', 'device', 'runtime', 'process')
  const name = r.str('name')
  if (!HOST_NAME_RE.test(name)) r.fail('name', `'${name}' is not a valid guest name`)
  const managed = r.has('managed') ? r.str('managed') : 'qemu'
  if (managed !== 'qemu' && managed !== 'libvirt') r.fail('managed', `expected qemu or libvirt, found '${managed}'`)
  const cpu = r.obj('cpu').only('model', ...AP_FEATURES)
  const features = Object.fromEntries(AP_FEATURES.map((f) => [f, cpu.optBool(f, false)])) as Record<ApFeature, boolean>
  let device: GuestDevice | null = null
  if (r.has('device')) {
    const d = r.obj('device').only('id', 'uuid', 'sysfsdev')
    // A device given without id= has none (QEMU names it by its path only).
    const id = d.has('id') ? d.str('id') : ''
    if (id !== '' && !ID_RE.test(id)) d.fail('id', `'${id}' is not a QEMU device id`)
    const uuid = d.str('uuid')
    if (!UUID_LC_RE.test(uuid)) d.fail('uuid', `'${uuid}' is not a lower-case UUID`)
    device = {id, uuid, sysfsdev: d.str('sysfsdev')}
  }
  const running = r.optBool('running', true)
  // QEMU's run state while the guest runs (absent: its CPUs run).
  let runState: Guest['runState']
  if (r.has('run_state')) {
    const v = r.str('run_state')
    if (v !== 'running' && v !== 'prelaunch' && v !== 'paused') r.fail('run_state', `expected running, prelaunch or paused, found '${v}'`)
    // A stopped guest has no QEMU, so no run state, not even running (aplab-state(1)).
    if (!running) r.fail('run_state', v === 'running' ? `guest '${name}' is not running, so it has no run state (found 'running')` : `guest '${name}' is not running, so it cannot be ${v}`)
    if (v !== 'running') runState = v as Guest['runState']
  }
  return {
    name,
    managed,
    autostart: r.optBool('autostart', false),
    running,
    ...(runState ? {runState} : {}),
    args: r.has('args') ? r.strings('args') : [],
    cpuModel: cpu.str('model'),
    features,
    device,
    runtime: readRuntime(r.obj('runtime'), ''),
    ...(r.has('process') ? {process: readGuestProcess(r.obj('process'))} : {}),
  }
}

/** The qemu-system-s390x process of a guest: as the lock's owner record. */
function readGuestProcess(p: Reader): GuestProcess {
  p.only('pid', 'start', 'boot', 'host')
  return {pid: p.int('pid', 1, 2 ** 31 - 1), ...(p.has('start') ? {start: p.str('start')} : {}), ...(p.has('boot') ? {boot: p.str('boot')} : {}), host: p.str('host')}
}

function readLibvirt(r: Reader): Libvirt {
  r.only('next_id', 'domains')
  const domains = (r.has('domains') ? r.list('domains') : []).map((d): LibvirtDomain => {
    d.only('name', 'uuid', 'config', 'autostart', 'live', 'reason')
    const name = d.str('name')
    const uuid = d.str('uuid')
    if (!UUID_LC_RE.test(uuid)) d.fail('uuid', `'${uuid}' is not a lower-case UUID`)
    const live = d.optObj('live')?.only('id', 'xml', 'seq')
    return {
      name,
      uuid,
      config: d.optStr('config') ?? null,
      autostart: d.optBool('autostart', false),
      live: live ? {id: live.int('id', 1, 2 ** 31 - 1), xml: live.str('xml'), ...(live.has('seq') ? {seq: live.int('seq', 0, 2 ** 31 - 1)} : {})} : null,
      reason: d.optStr('reason') ?? 'unknown',
    }
  })
  return {domains, nextId: r.optInt('next_id', 1, 2 ** 31 - 1, 1)}
}

function readHost(r: Reader): Host {
  r.only('name', 'lpar', 'persistent', 'runtime', 'guests', 'libvirt')
  const name = r.str('name')
  if (!HOST_NAME_RE.test(name)) r.fail('name', `'${name}' is not a valid host name`)
  const persistent = readPersistent(r.obj('persistent'))
  const guests = r.has('guests') ? r.list('guests').map(readGuest) : []
  const host: Host = {name, lpar: readLpar(r.obj('lpar')), persistent, runtime: readRuntime(r.obj('runtime'), persistent.cmdline), guests}
  if (r.has('libvirt')) host.libvirt = readLibvirt(r.obj('libvirt'))
  return host
}

/**
 * Build the model from parsed YAML data (of the current version), checking
 * each field (SchemaError at the first wrong one) but not the rules between
 * objects: `aplab state check` reads a file this way to list every problem.
 * `canonical`: the data is worldToData's (the cache), read without the
 * checks (data.ts readOwnWorld; `later`: its large lists when first used).
 */
export function readWorld(data: unknown, canonical = false, later = false): World {
  try {
    const r = Reader.root(data)
    r.only('version', 'current', 'hosts')
    if (canonical) return readOwnWorld(data as Obj, later)
    const hosts = r.list('hosts').map(readHost)
    if (hosts.length === 0) r.fail('hosts', 'at least one host is needed')
    return {current: r.str('current'), hosts}
  } finally {
    // The masks of a canonical read stay with the lists it reads later (data.ts later).
    newMaskTable()
  }
}

/**
 * Validate parsed YAML data (of the current version) and build the model.
 * A world that breaks one of the kernel's rules between objects (see
 * core/invariants.ts) is refused with the first problem found.
 */
export function worldFromData(data: unknown): World {
  const w = readWorld(data)
  const p = worldProblems(w)[0]
  if (p) throw new SchemaError(p.where, p.message)
  return w
}

/**
 * Bring data written by an older aplab up to the current version. Each step
 * takes version N data to N+1.
 */
const MIGRATIONS: Record<number, (d: Obj) => Obj> = {}

export function migrate(data: unknown): unknown {
  if (!isObj(data)) throw new SchemaError('(top level)', 'expected a mapping')
  const v = data.version
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new SchemaError('version', `expected a version number, found ${show(v)}`)
  if (v > STATE_VERSION) throw new SchemaError('version', `version ${v} was written by a newer aplab (this one reads up to ${STATE_VERSION})`)
  let d: Obj = data
  for (let n = v; n < STATE_VERSION; n++) d = {...MIGRATIONS[n](d), version: n + 1}
  return d
}
