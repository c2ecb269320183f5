// The state file's schema: the core model to and from plain YAML data, with
// validation that names the field that is wrong.

import {blacklistFromText, blacklistText, bootBlacklist} from '../core/cio.js'
import {parseCmdline} from '../core/host.js'
import {worldProblems} from '../core/invariants.js'
import {parseTypeName, typeName} from '../core/lpar.js'
import {type Mask, formatRanges as rangesText, parseRanges} from '../core/mask.js'
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

export const STATE_VERSION = 1

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
    const known = MASKS.get(text as string)
    if (known) return known
    try {
      const m = parseRanges(text as string)
      MASKS.set(text as string, m)
      return m
    } catch (e) {
      return this.fail(key, (e as Error).message)
    }
  }
}

/** The masks of the data being read, by text (see Reader.mask); a new map for each read. */
let MASKS = new Map<string, Mask>()

/**
 * A mask's text in the state file (`0x00-0x54,0xab`), once per mask: masks
 * are immutable, and a state read and written again has most of them unchanged.
 */
const TEXTS = new WeakMap<Mask, string>()
function formatRanges(m: Mask): string {
  let t = TEXTS.get(m)
  if (t === undefined) TEXTS.set(m, (t = rangesText(m)))
  return t
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
    bootTime: r.optInt('boot_time', 0, Number.MAX_SAFE_INTEGER, 0),
    dmesg: r.strings('dmesg').map((l, i) => {
      const m = /^(\d+) (.*)$/s.exec(l)
      if (!m || !Number.isSafeInteger(Number(m[1]))) r.fail(`dmesg[${i}]`, 'expected microseconds since boot, a blank and the message')
      return {t: Number(m![1]), msg: m![2]}
    }),
  }
}

/**
 * The CCW blacklist that booting a command line gives, once per command
 * line (a hundred guests boot the same one); never to be changed: the
 * model gets a copy.
 */
const BOOT_LISTS = new Map<string, Runtime['cioIgnore']>()
function bootList(cmdline: string): Runtime['cioIgnore'] {
  let list = BOOT_LISTS.get(cmdline)
  if (list === undefined) {
    if (BOOT_LISTS.size > 64) BOOT_LISTS.clear()
    BOOT_LISTS.set(cmdline, (list = bootBlacklist(parseCmdline(cmdline))))
  }
  return list
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

/**
 * An mdev of worldToData's own data, read as above without the checks (a
 * host has thousands); the data is kept to be written again if the mdev is
 * unchanged (mdevData).
 */
function canonicalMdev(d: Obj): Mdev {
  const g = d.guest_matrix as Obj
  const m: Mdev = {
    uuid: d.uuid as string,
    apm: canonicalMask(d.adapters as string),
    aqm: canonicalMask(d.domains as string),
    adm: canonicalMask(d.control_domains as string),
    shadow: {apm: canonicalMask(g.adapters as string), aqm: canonicalMask(g.domains as string), adm: canonicalMask(g.control_domains as string)},
    group: d.iommu_group as number,
  }
  ORIGIN.set(m, d)
  return m
}

function canonicalMask(text: string): Mask {
  let m = MASKS.get(text)
  if (m === undefined) {
    MASKS.set(text, (m = parseRanges(text)))
    TEXTS.set(m, text)
  }
  return m
}

/** The data an mdev was read from, when it was worldToData's (see canonicalMdev). */
const ORIGIN = new WeakMap<Mdev, Obj>()

const ID_RE = /^[A-Za-z][A-Za-z0-9._-]*$/
const UUID_LC_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function readGuest(r: Reader): Guest {
  r.only('name', 'managed', 'autostart', 'running', 'args', 'cpu', 'device', 'runtime', 'process')
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
  return {
    name,
    managed,
    autostart: r.optBool('autostart', false),
    running: r.optBool('running', true),
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

function libvirtData(l: Libvirt): Obj {
  return {
    next_id: l.nextId,
    domains: l.domains.map((d) => ({
      name: d.name,
      uuid: d.uuid,
      ...(d.config !== null ? {config: d.config} : {}),
      autostart: d.autostart,
      ...(d.live ? {live: {id: d.live.id, xml: d.live.xml, ...(d.live.seq !== undefined ? {seq: d.live.seq} : {})}} : {}),
      reason: d.reason,
    })),
  }
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

// --- worldToData's own data (the cache this build wrote), read without the checks ---
//
// The same model as the readers above make of such data (test/state/store.test.ts holds
// them to it), field by field without a Reader: a big host's hundred guests and 256
// adapters cost a new process a few milliseconds through the checks.

// A host's large lists (its guests, its mdevs, the files under /etc) are read when first
// used: most commands use few of them (a drop-in that reads a bus mask, none), and a
// mutation writes one it never read as the very data it was read from (see unread).

/**
 * Field `key` of `o` made by `make` from `data` when it is first read (or
 * replaced when it is first written): an accessor until then, a plain field
 * after. It is added as the object's last key and put back as its last: V8
 * keeps such an object's fast layout, which turning a field in its middle
 * from an accessor to a value does not (each read of the object's other
 * fields would be a lookup in a dictionary).
 */
function later<T extends object, K extends keyof T & string>(o: T, key: K, data: unknown, make: () => T[K]): void {
  const masks = MASKS
  const settle = (value: unknown): void => {
    UNREAD.get(o)?.delete(key)
    delete (o as Record<string, unknown>)[key]
    ;(o as Record<string, unknown>)[key] = value
  }
  Object.defineProperty(o, key, {
    enumerable: true,
    configurable: true,
    get() {
      // The masks of the read it belongs to: the same text, the same mask.
      const before = MASKS
      MASKS = masks
      try {
        const v = make()
        settle(v)
        return v
      } finally {
        MASKS = before
      }
    },
    set: settle,
  })
  let fields = UNREAD.get(o)
  if (fields === undefined) UNREAD.set(o, (fields = new Map()))
  fields.set(key, data)
}

/** The fields of model objects not read yet (see later), with the data each would be read from. */
const UNREAD = new WeakMap<object, Map<string, unknown>>()

/** The data of field `key` of `o` while it is not read yet (worldToData's own), else undefined. */
function unread(o: object, key: string): unknown {
  return UNREAD.get(o)?.get(key)
}

/**
 * The data of a host's guests while they are not read yet, else undefined:
 * whether any guest has a process is told from it without reading them.
 */
export function unreadGuests(h: Host): readonly Obj[] | undefined {
  return unread(h, 'guests') as Obj[] | undefined
}

function canonicalHost(d: Obj): Host {
  const p = d.persistent as Obj
  const from = p.files as Record<string, string>
  const persistent = {cmdline: p.cmdline as string} as Persistent
  later(persistent, 'files', from, () => {
    // Copied key by key: a spread of a thousand keys costs several times more.
    const files: Record<string, string> = {}
    for (const k of Object.keys(from)) files[k] = from[k]
    return files
  })
  const host = {
    name: d.name as string,
    lpar: canonicalLpar(d.lpar as Obj),
    persistent,
    runtime: canonicalRuntime(d.runtime as Obj, p.cmdline as string),
  } as Host
  if (d.libvirt !== undefined) host.libvirt = readLibvirt(new Reader(d.libvirt as Obj))
  const guests = d.guests as Obj[] | undefined
  if (guests !== undefined) later(host, 'guests', guests, () => readList(guests, canonicalGuest))
  else host.guests = []
  return host
}

function canonicalLpar(d: Obj): Lpar {
  const queues: Record<string, QueueHw> = {}
  const qs = d.queues as Record<string, Obj>
  for (const k in qs) queues[k] = canonicalQueueHw(qs[k])
  return {
    qci: d.qci as boolean,
    features: [...(d.features as QciFeature[])],
    na: d.na as number,
    nd: d.nd as number,
    airq: d.interrupts as boolean,
    adapters: readList(d.adapters as Obj[], canonicalAdapter).sort((x, y) => x.id - y.id),
    usage: canonicalMask(d.usage_domains as string),
    control: canonicalMask(d.control_domains as string),
    queues,
  }
}

/** Adapter types by name, parsed once each (a max host has 256 adapters of a few types). */
const TYPES = new Map<string, ReturnType<typeof parseTypeName>>()

function canonicalAdapter(d: Obj): Adapter {
  const name = d.type as string
  let t = TYPES.get(name)
  if (t === undefined) TYPES.set(name, (t = parseTypeName(name)))
  const a: Adapter = {
    id: Number(d.id),
    gen: t!.gen,
    mode: t!.mode,
    depth: (d.depth as number | undefined) ?? 8,
    maxMsgSize: (d.max_msg_size as number | undefined) ?? 12288,
    configured: (d.configured as boolean | undefined) ?? true,
    checkstopped: (d.checkstopped as boolean | undefined) ?? false,
  }
  if (d.raw_hwtype !== undefined) a.rawType = d.raw_hwtype as number
  if (d.functions !== undefined) a.functions = Number(d.functions)
  if (d.serial !== undefined) a.serial = d.serial as string
  const e = d.ep11 as Obj | undefined
  if (e !== undefined) {
    a.ep11 = {}
    if (e.api !== undefined) a.ep11.api = e.api as number
    if (e.fw !== undefined) a.ep11.fw = e.fw as string
    if (e.op_modes !== undefined) a.ep11.opModes = e.op_modes as string
  }
  ADAPTER_ORIGIN.set(a, d)
  return a
}

/**
 * A list of the model read from a list of worldToData's data (mdevs, guests,
 * adapters): each entry's data is kept by readOne (their ORIGIN), the list's
 * here, so that a list whose every entry is unchanged, in the same order, is
 * written as the very list it was read from (listData), which the writer
 * copies whole.
 */
function readList<T extends object>(data: Obj[], readOne: (d: Obj) => T): T[] {
  const list = data.map(readOne)
  LIST_ORIGIN.set(list, data)
  return list
}

const LIST_ORIGIN = new WeakMap<object, Obj[]>()

/** The data of a list (see readList): the list it was read from while each entry's data is that list's. */
function listData<T extends object>(list: T[], one: (x: T) => Obj): Obj[] {
  const out = list.map(one)
  const d = LIST_ORIGIN.get(list)
  if (d === undefined || d.length !== out.length) return out
  for (let i = 0; i < out.length; i++) if (out[i] !== d[i]) return out
  return d
}

/** The data an adapter was read from, when it was worldToData's (see adapterData). */
const ADAPTER_ORIGIN = new WeakMap<Adapter, Obj>()

/** Whether `adapterData(a)` would be data equal to `d` (worldToData's, read by canonicalAdapter), without making it. */
function sameAdapter(d: Obj, a: Adapter): boolean {
  const t = TYPES.get(d.type as string)
  if (t === undefined || t === null || t.gen !== a.gen || t.mode !== a.mode || Number(d.id) !== a.id) return false
  if (d.raw_hwtype !== a.rawType || d.serial !== a.serial) return false
  if (d.functions === undefined ? a.functions !== undefined : a.functions === undefined || Number(d.functions) !== a.functions) return false
  if (d.depth !== (a.depth !== 8 ? a.depth : undefined) || d.max_msg_size !== (a.maxMsgSize !== 12288 ? a.maxMsgSize : undefined)) return false
  if (d.configured !== (a.configured ? undefined : false) || d.checkstopped !== (a.checkstopped ? true : undefined)) return false
  const e = d.ep11 as Obj | undefined
  if (a.ep11 === undefined || e === undefined) return a.ep11 === e
  return e.api === a.ep11.api && e.fw === a.ep11.fw && e.op_modes === a.ep11.opModes
}

function canonicalQueueHw(d: Obj): QueueHw {
  const q: QueueHw = {}
  if (d.functions !== undefined) q.functions = Number(d.functions)
  const aes = d.aes_mkvp as string | undefined
  const apka = d.apka_mkvp as string | undefined
  const asym = d.asym_mkvp as string | undefined
  if (aes || apka || asym) q.mk = {...(aes && {aes}), ...(apka && {apka}), ...(asym && {asym})}
  if (d.wk_mkvp) q.wk = d.wk_mkvp as string
  if (d.assoc !== undefined) q.assoc = d.assoc as number
  return q
}

const COUNTERS = ['requests', 'requestq', 'pendingq'] as const

function canonicalRuntime(d: Obj, bootedWith: string): Runtime {
  const cmdline = d.cmdline === undefined ? bootedWith : (d.cmdline as string)
  const counters: Record<string, QueueCounters> = {}
  const cs = d.counters as Record<string, QueueCounters>
  for (const k in cs) {
    const c = cs[k]
    const n: QueueCounters = {}
    for (const f of COUNTERS) if (c[f] !== undefined) n[f] = c[f]
    counters[k] = n
  }
  const rt = {
    cmdline,
    apmask: canonicalMask(d.apmask as string),
    aqmask: canonicalMask(d.aqmask as string),
    domain: d.ap_domain as number,
    configTime: d.config_time as number,
    pollThread: d.poll_thread as boolean,
    pollTimeout: d.poll_timeout as number,
    useirq: d.useirq as boolean,
    scans: d.scans as number,
    modules: [...(d.modules as string[])],
    offline: [...(d.offline as string[])],
    unbound: [...(d.unbound as string[])],
    counters,
    cioIgnore: d.cio_ignore === undefined ? bootList(cmdline).map(([a, b]): [number, number] => [a, b]) : blacklistFromText(d.cio_ignore as string[])!,
    bootTime: d.boot_time as number,
    dmesg: (d.dmesg as string[]).map((l) => {
      const blank = l.indexOf(' ')
      return {t: Number(l.slice(0, blank)), msg: l.slice(blank + 1)}
    }),
  } as Runtime
  const mdevs = d.mdevs as Obj[]
  if (mdevs.length > 0) later(rt, 'mdevs', mdevs, () => readList(mdevs, canonicalMdev))
  else rt.mdevs = []
  return rt
}

function canonicalGuest(d: Obj): Guest {
  const cpu = d.cpu as Obj
  const dev = d.device as Obj | undefined
  const p = d.process as Obj | undefined
  const g: Guest = {
    name: d.name as string,
    managed: d.managed as Guest['managed'],
    autostart: d.autostart as boolean,
    running: d.running as boolean,
    args: [...(d.args as string[])],
    cpuModel: cpu.model as string,
    features: Object.fromEntries(AP_FEATURES.map((f) => [f, (cpu[f] as boolean | undefined) ?? false])) as Record<ApFeature, boolean>,
    device: dev === undefined ? null : {id: (dev.id as string | undefined) ?? '', uuid: dev.uuid as string, sysfsdev: dev.sysfsdev as string},
    runtime: canonicalRuntime(d.runtime as Obj, ''),
    ...(p !== undefined ? {process: {pid: p.pid as number, ...(p.start !== undefined ? {start: p.start as string} : {}), ...(p.boot !== undefined ? {boot: p.boot as string} : {}), host: p.host as string}} : {}),
  }
  GUEST_ORIGIN.set(g, d)
  return g
}

/** The data a guest was read from, when it was worldToData's (see guestData). */
const GUEST_ORIGIN = new WeakMap<Guest, Obj>()

const sameStrings = (d: unknown, l: readonly string[]): boolean => {
  const a = d as string[]
  if (a.length !== l.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== l[i]) return false
  return true
}

/** Whether `runtimeData(rt, bootedWith)` would be data equal to `d` (worldToData's), without making it. */
function sameRuntime(d: Obj, rt: Runtime, bootedWith: string): boolean {
  if (d.cmdline !== (rt.cmdline !== bootedWith ? rt.cmdline : undefined)) return false
  if (d.apmask !== formatRanges(rt.apmask) || d.aqmask !== formatRanges(rt.aqmask)) return false
  if (d.ap_domain !== rt.domain || d.config_time !== rt.configTime || d.poll_thread !== rt.pollThread || d.poll_timeout !== rt.pollTimeout || d.useirq !== rt.useirq) return false
  if (d.scans !== Math.min(rt.scans, Number.MAX_SAFE_INTEGER) || d.boot_time !== rt.bootTime) return false
  if (!sameStrings(d.modules, rt.modules)) return false
  if (!sameStrings(d.offline, rt.offline.length < 2 ? rt.offline : [...rt.offline].sort())) return false
  if (!sameStrings(d.unbound, rt.unbound.length < 2 ? rt.unbound : [...rt.unbound].sort())) return false
  const dc = d.counters as Record<string, Obj>
  const keys = Object.keys(rt.counters).sort()
  const dkeys = Object.keys(dc)
  if (!sameStrings(dkeys, keys)) return false
  for (const k of keys) {
    const c = rt.counters[k] as Obj
    const o = dc[k]
    const ck = Object.keys(c)
    if (!sameStrings(Object.keys(o), ck) || ck.some((f) => o[f] !== c[f])) return false
  }
  const dm = d.mdevs as Obj[]
  const um = unread(rt, 'mdevs')
  if (um !== undefined ? um !== dm : dm.length !== rt.mdevs.length || rt.mdevs.some((m, i) => mdevData(m) !== dm[i])) return false
  const boots = sameBlacklist(rt.cioIgnore, bootList(rt.cmdline))
  if (boots ? d.cio_ignore !== undefined : d.cio_ignore === undefined || !sameStrings(d.cio_ignore, blacklistText(rt.cioIgnore))) return false
  const dl = d.dmesg as string[]
  if (dl.length !== rt.dmesg.length) return false
  for (let i = 0; i < dl.length; i++) if (dl[i] !== `${Math.round(rt.dmesg[i].t)} ${rt.dmesg[i].msg}`) return false
  return true
}

/** Whether `guestData(g)` would be data equal to `d` (worldToData's), without making it. */
function sameGuest(d: Obj, g: Guest): boolean {
  if (d.name !== g.name || d.managed !== g.managed || d.autostart !== g.autostart || d.running !== g.running || !sameStrings(d.args, g.args)) return false
  const cpu = d.cpu as Obj
  if (cpu.model !== g.cpuModel || Object.keys(cpu).length !== 1 + Object.keys(g.features).length) return false
  for (const f in g.features) if (cpu[f] !== g.features[f as ApFeature]) return false
  const dev = d.device as Obj | undefined
  if (g.device === null ? dev !== undefined : dev === undefined || dev.id !== (g.device.id || undefined) || dev.uuid !== g.device.uuid || dev.sysfsdev !== g.device.sysfsdev) return false
  const p = d.process as Obj | undefined
  const gp = g.process && g.running ? g.process : undefined
  if (gp === undefined ? p !== undefined : p === undefined || p.pid !== gp.pid || p.start !== gp.start || p.boot !== gp.boot || p.host !== gp.host) return false
  return sameRuntime(d.runtime as Obj, g.runtime, '')
}

/**
 * Build the model from parsed YAML data (of the current version), checking
 * each field (SchemaError at the first wrong one) but not the rules between
 * objects: `aplab state check` reads a file this way to list every problem.
 * `canonical`: the data is worldToData's (the cache), whose mask texts are
 * kept to be written again as they are.
 */
export function readWorld(data: unknown, canonical = false): World {
  try {
    const r = Reader.root(data)
    r.only('version', 'current', 'hosts')
    const hosts = canonical ? (r.raw('hosts') as Obj[]).map(canonicalHost) : r.list('hosts').map(readHost)
    if (hosts.length === 0) r.fail('hosts', 'at least one host is needed')
    return {current: r.str('current'), hosts}
  } finally {
    // The masks of a canonical read stay with the lists it reads later (see later).
    MASKS = new Map()
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

const hexId = (n: number): string => '0x' + n.toString(16).padStart(2, '0')
const hexWord = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0')

/** An adapter's data: the very data it was read from while it is unchanged (as mdevData). */
function adapterData(a: Adapter): Obj {
  const d = ADAPTER_ORIGIN.get(a)
  if (d !== undefined && sameAdapter(d, a)) return d
  const o: Obj = {id: hexId(a.id), type: typeName(a)}
  if (a.rawType !== undefined) o.raw_hwtype = a.rawType
  if (a.functions !== undefined) o.functions = hexWord(a.functions)
  if (a.depth !== 8) o.depth = a.depth
  if (a.maxMsgSize !== 12288) o.max_msg_size = a.maxMsgSize
  if (a.serial !== undefined) o.serial = a.serial
  if (!a.configured) o.configured = false
  if (a.checkstopped) o.checkstopped = true
  if (a.ep11) {
    const e: Obj = {}
    if (a.ep11.api !== undefined) e.api = a.ep11.api
    if (a.ep11.fw !== undefined) e.fw = a.ep11.fw
    if (a.ep11.opModes !== undefined) e.op_modes = a.ep11.opModes
    o.ep11 = e
  }
  return o
}

function queueHwData(q: QueueHw): Obj {
  const o: Obj = {}
  if (q.functions !== undefined) o.functions = hexWord(q.functions)
  if (q.mk?.aes) o.aes_mkvp = q.mk.aes
  if (q.mk?.apka) o.apka_mkvp = q.mk.apka
  if (q.mk?.asym) o.asym_mkvp = q.mk.asym
  if (q.wk) o.wk_mkvp = q.wk
  if (q.assoc !== undefined) o.assoc = q.assoc
  return o
}

/** A record with its keys in sorted order (as read, they mostly are already). */
function sortedRecord<T>(r: Record<string, T>, f: (v: T) => unknown): Obj {
  const keys = Object.keys(r)
  for (let i = 1; i < keys.length; i++)
    if (keys[i - 1] > keys[i]) {
      keys.sort()
      break
    }
  const o: Obj = {}
  for (const k of keys) o[k] = f(r[k])
  return o
}

const sameBlacklist = (a: Runtime['cioIgnore'], b: Runtime['cioIgnore']): boolean => a.length === b.length && a.every(([x, y], i) => x === b[i][0] && y === b[i][1])

function runtimeData(rt: Runtime, bootedWith: string): Obj {
  return {
    ...(rt.cmdline !== bootedWith ? {cmdline: rt.cmdline} : {}),
    apmask: formatRanges(rt.apmask),
    aqmask: formatRanges(rt.aqmask),
    ap_domain: rt.domain,
    config_time: rt.configTime,
    poll_thread: rt.pollThread,
    poll_timeout: rt.pollTimeout,
    useirq: rt.useirq,
    // The kernel's counter wraps far later than the state's numbers reach: it stops at their end.
    scans: Math.min(rt.scans, Number.MAX_SAFE_INTEGER),
    modules: [...rt.modules],
    offline: [...rt.offline].sort(),
    unbound: [...rt.unbound].sort(),
    counters: sortedRecord(rt.counters, (c) => ({...c})),
    mdevs: (unread(rt, 'mdevs') as Obj[] | undefined) ?? listData(rt.mdevs, mdevData),
    ...(sameBlacklist(rt.cioIgnore, bootList(rt.cmdline)) ? {} : {cio_ignore: blacklistText(rt.cioIgnore)}),
    boot_time: rt.bootTime,
    dmesg: rt.dmesg.map((l) => `${Math.round(l.t)} ${l.msg}`),
  }
}

/** An mdev's data: the very data it was read from while it is unchanged. */
function mdevData(m: Mdev): Obj {
  const d = ORIGIN.get(m)
  if (d !== undefined) {
    const g = d.guest_matrix as Obj
    const same =
      d.uuid === m.uuid &&
      d.iommu_group === m.group &&
      d.adapters === formatRanges(m.apm) &&
      d.domains === formatRanges(m.aqm) &&
      d.control_domains === formatRanges(m.adm) &&
      g.adapters === formatRanges(m.shadow.apm) &&
      g.domains === formatRanges(m.shadow.aqm) &&
      g.control_domains === formatRanges(m.shadow.adm)
    if (same) return d
  }
  return {
    uuid: m.uuid,
    adapters: formatRanges(m.apm),
    domains: formatRanges(m.aqm),
    control_domains: formatRanges(m.adm),
    guest_matrix: {adapters: formatRanges(m.shadow.apm), domains: formatRanges(m.shadow.aqm), control_domains: formatRanges(m.shadow.adm)},
    iommu_group: m.group,
  }
}

/** A guest's data: the very data it was read from while it is unchanged (as mdevData). */
function guestData(g: Guest): Obj {
  const d = GUEST_ORIGIN.get(g)
  if (d !== undefined && sameGuest(d, g)) return d
  return {
    name: g.name,
    managed: g.managed,
    autostart: g.autostart,
    running: g.running,
    args: [...g.args],
    cpu: {model: g.cpuModel, ...g.features},
    ...(g.device ? {device: {...(g.device.id ? {id: g.device.id} : {}), uuid: g.device.uuid, sysfsdev: g.device.sysfsdev}} : {}),
    runtime: runtimeData(g.runtime, ''),
    // Only a running guest has a process (one stopped by another command forgets it).
    ...(g.process && g.running ? {process: {...g.process}} : {}),
  }
}

/** The model as plain data, in a stable order, ready for YAML. */
export function worldToData(w: World): Obj {
  return {
    version: STATE_VERSION,
    current: w.current,
    hosts: w.hosts.map((h) => ({
      name: h.name,
      lpar: {
        qci: h.lpar.qci,
        features: [...h.lpar.features],
        na: h.lpar.na,
        nd: h.lpar.nd,
        interrupts: h.lpar.airq,
        adapters: listData(h.lpar.adapters, adapterData),
        usage_domains: formatRanges(h.lpar.usage),
        control_domains: formatRanges(h.lpar.control),
        queues: sortedRecord(h.lpar.queues, queueHwData),
      },
      persistent: {cmdline: h.persistent.cmdline, files: unread(h.persistent, 'files') ?? sortedRecord(h.persistent.files, (v) => v)},
      runtime: runtimeData(h.runtime, h.persistent.cmdline),
      ...(unread(h, 'guests') !== undefined ? {guests: unread(h, 'guests')} : h.guests.length ? {guests: listData(h.guests, guestData)} : {}),
      ...(h.libvirt ? {libvirt: libvirtData(h.libvirt)} : {}),
    })),
  }
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
