// The model as the plain data of the state file (worldToData), and that
// data read back without the checks where it is this build's own (the state's
// cache, which this build wrote after checking it): the readers that check
// every field are schema.ts's. A host's large lists are read from it when a
// command first uses them, and what is unchanged since it was read is written
// again as the very data it was read from, which the writer (emit.ts) copies.

import {blacklistFromText, blacklistText, bootBlacklist} from '../core/cio.js'
import {parseCmdline} from '../core/host.js'
import {parseTypeName, typeName} from '../core/lpar.js'
import {type Mask, formatRanges as rangesText, parseRanges} from '../core/mask.js'
import {
  type Adapter,
  type Host,
  type Lpar,
  type Mdev,
  type Persistent,
  type QciFeature,
  type QueueCounters,
  type QueueHw,
  type LogLine,
  type Runtime,
  type World,
  AP_FEATURES,
  type ApFeature,
  type Guest,
  type Libvirt,
  type LibvirtDomain,
} from '../core/model.js'
import {Part, madeFrom} from './parts.js'

export const STATE_VERSION = 1

type Obj = Record<string, unknown>

/** The masks of the data being read, by text (schema.ts Reader.mask, canonicalMask): a new table for each read. */
let MASKS = new Map<string, Mask>()

/** The table of masks by text of the read under way. */
export function maskTable(): Map<string, Mask> {
  return MASKS
}

/** A read is done: the next one has a table of its own (the lists a read reads later keep theirs). */
export function newMaskTable(): void {
  MASKS = new Map()
}

/**
 * A mask's text in the state file (`0x00-0x54,0xab`), once per mask: masks
 * are immutable, and a state read and written again has most of them unchanged.
 */
const TEXTS = new WeakMap<Mask, string>()
export function formatRanges(m: Mask): string {
  let t = TEXTS.get(m)
  if (t === undefined) TEXTS.set(m, (t = rangesText(m)))
  return t
}

/**
 * The CCW blacklist that booting a command line gives, once per command
 * line (a hundred guests boot the same one); never to be changed: the
 * model gets a copy.
 */
const BOOT_LISTS = new Map<string, Runtime['cioIgnore']>()
export function bootList(cmdline: string): Runtime['cioIgnore'] {
  let list = BOOT_LISTS.get(cmdline)
  if (list === undefined) {
    if (BOOT_LISTS.size > 64) BOOT_LISTS.clear()
    BOOT_LISTS.set(cmdline, (list = bootBlacklist(parseCmdline(cmdline))))
  }
  return list
}

/**
 * An mdev of worldToData's own data, read as above without the checks (a
 * host has thousands); the data is kept to be written again if the mdev is
 * unchanged (mdevData).
 */
function canonicalMdev(d: Obj): Mdev {
  const g = d.guest_matrix as Obj
  const shadow = {apm: canonicalMask(g.adapters as string), aqm: canonicalMask(g.domains as string), adm: canonicalMask(g.control_domains as string)}
  const m: Mdev = {
    uuid: d.uuid as string,
    apm: canonicalMask(d.adapters as string),
    aqm: canonicalMask(d.domains as string),
    adm: canonicalMask(d.control_domains as string),
    shadow,
    group: d.iommu_group as number,
  }
  ORIGIN.set(m, {d, uuid: m.uuid, apm: m.apm, aqm: m.aqm, adm: m.adm, sapm: shadow.apm, saqm: shadow.aqm, sadm: shadow.adm, group: m.group})
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

/**
 * The data an mdev was read from, when it was worldToData's (see
 * canonicalMdev), with its fields as read: an mdev whose fields are still
 * those very values (masks are immutable) is unchanged without a mask's
 * text being asked (a big host asks a thousand mdevs at each write).
 */
const ORIGIN = new WeakMap<Mdev, {d: Obj; uuid: string; apm: Mask; aqm: Mask; adm: Mask; sapm: Mask; saqm: Mask; sadm: Mask; group: number}>()

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

// --- worldToData's own data (the cache this build wrote), read without the checks ---
//
// The same model as schema.ts's readers make of such data (test/state/store.test.ts holds
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

/** Whether the read under way reads the large lists later (readOwnWorld). */
let LATER = false

/** Field `key` of `o`: made now, or when first used where the read says so (see later). */
function field<T extends object, K extends keyof T & string>(o: T, key: K, data: unknown, make: () => T[K]): void {
  if (LATER) later(o, key, data, make)
  else (o as Record<string, unknown>)[key] = make()
}

/** The fields of model objects not read yet (see later), with the data each would be read from. */
const UNREAD = new WeakMap<object, Map<string, unknown>>()

/**
 * The data of field `key` of `o` while it is not read yet (worldToData's
 * own), else undefined: a Part as it is where `parts` (the caller writes it
 * over the text it was read with), else its data.
 */
function unread(o: object, key: string, parts = false): unknown {
  const d = UNREAD.get(o)?.get(key)
  return d instanceof Part && (!parts || d.parsed) ? d.value() : d
}

const valueOf = (d: unknown): unknown => (d instanceof Part ? d.value() : d)

/**
 * The data of a host's guests while they are not read yet, else undefined:
 * whether any guest has a process is told from it without reading them (a
 * Part's text says it: `"process":` is in JSON only as a key).
 */
export function unreadGuests(h: Host): {hasProcess(): boolean; runWith(uuids: ReadonlySet<string>): boolean} | undefined {
  const d = unread(h, 'guests', true)
  if (d === undefined) return undefined
  return {
    hasProcess: () =>
      (!(d instanceof Part) || d.json.includes('"process":')) && (valueOf(d) as Obj[]).some((g) => g.running === true && g.process !== undefined),
    // Whether a running guest has one of these mdevs open: none when the JSON has none of the
    // UUIDs (a string with no character JSON escapes is in it as it is), else as the data says.
    runWith: (uuids) =>
      (!(d instanceof Part) || [...uuids].some((u) => d.json.includes(u))) &&
      (valueOf(d) as Obj[]).some((g) => g.running === true && g.device !== undefined && uuids.has((g.device as Obj).uuid as string)),
  }
}

function canonicalHost(d: Obj): Host {
  const p = d.persistent as Obj
  const persistent = {cmdline: p.cmdline as string} as Persistent
  field(persistent, 'files', p.files, () => {
    // Copied key by key: a spread of a thousand keys costs several times more.
    const from = valueOf(p.files) as Record<string, string>
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
  if (d.libvirt !== undefined) host.libvirt = canonicalLibvirt(d.libvirt as Obj)
  const guests = d.guests
  if (guests !== undefined) field(host, 'guests', guests, () => readList(valueOf(guests) as Obj[], canonicalGuest))
  else host.guests = []
  READ_FOR.set(host.runtime, host)
  return host
}

/** The runtime a host's mdev list was read for, and the host a runtime was read for (keptMdevs). */
const READ_FOR = new WeakMap<object, object>()

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

/**
 * Which of a host's mdevs are as it was read with them from the cache's own
 * data, each unchanged (invariants.ts KeptMdevs): all when the list is
 * (every one in its place, or never read), none when it was not read so,
 * else all but those whose data is no entry's as read; then also the
 * entries read that no mdev is now (removed, or changed: `gone`).
 */
export function keptMdevs(h: Host): KeptMdevsRead {
  const rt = h.runtime
  // Only as read for this very host: a list or a runtime of another (swapped in) is not kept.
  if (READ_FOR.get(rt) !== h) return false
  if (unread(rt, 'mdevs', true) !== undefined) return true
  const d = LIST_ORIGIN.get(rt.mdevs)
  if (d === undefined || READ_FOR.get(rt.mdevs) !== rt) return false
  const list = rt.mdevs
  let i = 0
  while (i < list.length && i < d.length && mdevData(list[i]) === d[i]) i++
  if (i === list.length && i === d.length) return true
  // An entry changed, added or removed: the others are told by their data,
  // each entry's once (an unchanged mdev listed again is a change).
  const read = new Set(d.slice(i))
  const changed = new Set<Mdev>()
  for (; i < list.length; i++) if (!read.delete(mdevData(list[i]))) changed.add(list[i])
  return {changed, gone: [...read]}
}

/** keptMdevs's answer, with the entries read that no mdev is now. */
export type KeptMdevsRead = boolean | {changed: ReadonlySet<Mdev>; gone: readonly Obj[]}

/**
 * The UUIDs of a host's mdevs as read (see keptMdevs) that are changed or
 * gone: the only ones a guest running when the state was read can have
 * open (every state's rule: a running guest's mdev is its host's). Empty
 * when the mdevs read are all there unchanged, with or without new ones;
 * undefined when that cannot be told.
 */
export function mdevsTouched(k: KeptMdevsRead): Set<string> | undefined {
  if (typeof k === 'boolean') return k ? new Set() : undefined
  return new Set(k.gone.map((d) => d.uuid as string))
}

/** The data of a list (see readList): the list it was read from while each entry's data is that list's. */
function listData<T extends object>(list: T[], one: (x: T) => Obj): Obj[] {
  const out = list.map(one)
  const d = LIST_ORIGIN.get(list)
  if (d === undefined) return out
  let n = 0
  while (n < out.length && n < d.length && out[n] === d[n]) n++
  if (n === d.length && n === out.length) return d
  // Made from the list read: its JSON is made from the one read (parts.ts listJson).
  madeFrom(out, d)
  return out
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
    // This build writes every record as <PRI>MICROS TEXT (schema.ts logLine).
    dmesg: (d.dmesg as string[]).map((l) => {
      const close = l.indexOf('>')
      const blank = l.indexOf(' ', close)
      const pri = Number(l.slice(1, close))
      return {t: Number(l.slice(close + 1, blank)), level: pri & 7, facility: pri >> 3, msg: l.slice(blank + 1)}
    }),
  } as Runtime
  const mdevs = d.mdevs as Obj[] | Part
  if (mdevs instanceof Part || mdevs.length > 0)
    field(rt, 'mdevs', mdevs, () => {
      const list = readList(valueOf(mdevs) as Obj[], canonicalMdev)
      READ_FOR.set(list, rt)
      return list
    })
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
    ...(d.run_state !== undefined ? {runState: d.run_state as Guest['runState']} : {}),
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

/** A kernel log record as the state keeps it: `<PRI>MICROS TEXT`, PRI = facility * 8 + level. */
const logText = (l: LogLine): string => `<${l.facility * 8 + l.level}>${Math.round(l.t)} ${l.msg}`

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
  for (let i = 0; i < dl.length; i++) if (dl[i] !== logText(rt.dmesg[i])) return false
  return true
}

/** Whether `guestData(g)` would be data equal to `d` (worldToData's), without making it. */
function sameGuest(d: Obj, g: Guest): boolean {
  if (d.name !== g.name || d.managed !== g.managed || d.autostart !== g.autostart || d.running !== g.running || !sameStrings(d.args, g.args)) return false
  if (d.run_state !== (g.running && g.runState ? g.runState : undefined)) return false
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

// --- the model as data ---

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

function runtimeData(rt: Runtime, bootedWith: string, parts = false): Obj {
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
    mdevs: unread(rt, 'mdevs', parts) ?? listData(rt.mdevs, mdevData),
    ...(sameBlacklist(rt.cioIgnore, bootList(rt.cmdline)) ? {} : {cio_ignore: blacklistText(rt.cioIgnore)}),
    boot_time: rt.bootTime,
    dmesg: rt.dmesg.map(logText),
  }
}

/** An mdev's data: the very data it was read from while it is unchanged. */
function mdevData(m: Mdev): Obj {
  const o = ORIGIN.get(m)
  if (o !== undefined) {
    const s = m.shadow
    if (m.uuid === o.uuid && m.group === o.group && m.apm === o.apm && m.aqm === o.aqm && m.adm === o.adm && s.apm === o.sapm && s.aqm === o.saqm && s.adm === o.sadm) return o.d
    // Fields given new values that say the same (a mask made again equal).
    const d = o.d
    const g = d.guest_matrix as Obj
    const same =
      d.uuid === m.uuid &&
      d.iommu_group === m.group &&
      d.adapters === formatRanges(m.apm) &&
      d.domains === formatRanges(m.aqm) &&
      d.control_domains === formatRanges(m.adm) &&
      g.adapters === formatRanges(s.apm) &&
      g.domains === formatRanges(s.aqm) &&
      g.control_domains === formatRanges(s.adm)
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
    ...(g.running && g.runState ? {run_state: g.runState} : {}),
    args: [...g.args],
    cpu: {model: g.cpuModel, ...g.features},
    ...(g.device ? {device: {...(g.device.id ? {id: g.device.id} : {}), uuid: g.device.uuid, sysfsdev: g.device.sysfsdev}} : {}),
    runtime: runtimeData(g.runtime, ''),
    // Only a running guest has a process (one stopped by another command forgets it).
    ...(g.process && g.running ? {process: {...g.process}} : {}),
  }
}

/** The model as plain data, in a stable order, ready for YAML. */
export function worldToData(w: World, parts = false): Obj {
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
      persistent: {cmdline: h.persistent.cmdline, files: unread(h.persistent, 'files', parts) ?? sortedRecord(h.persistent.files, (v) => v)},
      runtime: runtimeData(h.runtime, h.persistent.cmdline, parts),
      ...(unread(h, 'guests', true) !== undefined ? {guests: unread(h, 'guests', parts)} : h.guests.length ? {guests: listData(h.guests, guestData)} : {}),
      ...(h.libvirt ? {libvirt: libvirtData(h.libvirt)} : {}),
    })),
  }
}

/** A libvirt's data of worldToData's, read as schema.ts reads it without the checks. */
function canonicalLibvirt(d: Obj): Libvirt {
  const domains = (d.domains as Obj[] | undefined) ?? []
  return {
    domains: domains.map((x): LibvirtDomain => {
      const live = x.live as Obj | undefined
      return {
        name: x.name as string,
        uuid: x.uuid as string,
        config: (x.config as string | undefined) ?? null,
        autostart: (x.autostart as boolean | undefined) ?? false,
        live: live ? {id: live.id as number, xml: live.xml as string, ...(live.seq !== undefined ? {seq: live.seq as number} : {})} : null,
        reason: (x.reason as string | undefined) ?? 'unknown',
      }
    }),
    nextId: (d.next_id as number | undefined) ?? 1,
  }
}

/**
 * The world of data that worldToData made (the cache this build wrote and
 * checked): readWorld(data, true). `later`: its large lists are read when
 * first used, for data known to be exactly what this build wrote (nothing
 * in them can fail to read); else all is read now, and data that is not
 * what this build writes fails here.
 */
export function readOwnWorld(data: Obj, later = false): World {
  LATER = later
  try {
    return {current: data.current as string, hosts: (data.hosts as Obj[]).map(canonicalHost)}
  } finally {
    LATER = false
  }
}
