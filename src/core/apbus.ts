// The AP bus as the kernel sees it: which card and queue devices exist, which
// driver each is bound to, what their attributes read, and what a write to one
// of them does. Derived from the LPAR configuration and the runtime state.

import {KernelError} from './errors.js'
import {adapterFunctions, compatHwtype, maxAdapterId, maxDomainId, modeLetter, typeString} from './lpar.js'
import {Mask, kscanInt, kstrtobool, kstrtoul, parseMaskWrite} from './mask.js'
import {type Adapter, type Lpar, QCI_FEATURES, type QueueHw, type Runtime, cardName, hex2, queueName} from './model.js'

export type CardDriver = 'cex4card'
export type QueueDriver = 'cex4queue' | 'vfio_ap'
export type VfioStatus = 'in use' | 'assigned' | 'unassigned'

/** Secure Execution bind states (TAPQ BS bits, ap_functions & 0xC000). */
export const BS = {USABLE: 0, USABLE_NO_SECURE_KEY: 1, AVAIL_FOR_BINDING: 2, UNUSABLE: 3} as const

/**
 * What the bus asks of the drivers beyond the binding rule: vfio_ap's queue
 * status, its in-use check on mask changes, and its probe/remove callbacks.
 */
export interface BusHooks {
  status(apid: number, apqi: number): VfioStatus
  /** The in-use check for newly reserved APQNs; throws EBUSY. */
  canReserve?(apm: Mask, aqm: Mask): void
  /** A queue's driver changed (probe or remove). */
  bindingChanged?(apid: number, apqi: number, was: QueueDriver | null, now: QueueDriver | null): void
}

const NO_MDEVS: BusHooks = {status: () => 'unassigned'}

export class ApBus {
  private cardCache?: number[]
  private cardSet?: Set<number>
  private domainSet?: Set<number>
  private domainCache?: number[]
  private adapterById?: Map<number, Adapter>

  constructor(
    readonly lpar: Lpar,
    readonly rt: Runtime,
    readonly hooks: BusHooks = NO_MDEVS,
  ) {}

  get maxAdapterId(): number {
    return maxAdapterId(this.lpar)
  }

  get maxDomainId(): number {
    return maxDomainId(this.lpar)
  }

  /** The QCI masks, or null where the text is `not supported`. */
  adapterMask(): Mask | null {
    return this.lpar.qci ? Mask.of(this.lpar.adapters.map((a) => a.id)) : null
  }

  usageMask(): Mask | null {
    return this.lpar.qci ? this.lpar.usage : null
  }

  controlMask(): Mask | null {
    return this.lpar.qci ? this.lpar.control : null
  }

  features(): string {
    if (!this.lpar.qci) return '-'
    return QCI_FEATURES.filter((f) => this.lpar.features.includes(f)).join(' ')
  }

  hasFeature(f: (typeof QCI_FEATURES)[number]): boolean {
    return this.lpar.qci && this.lpar.features.includes(f)
  }

  interrupts(): boolean {
    return this.lpar.airq && this.rt.useirq
  }

  get vfioLoaded(): boolean {
    return this.rt.modules.includes('vfio_ap')
  }

  adapter(apid: number): Adapter | undefined {
    if (!this.adapterById) this.adapterById = new Map(this.lpar.adapters.map((a) => [a.id, a]))
    return this.adapterById.get(apid)
  }

  /** Domains that have queue devices on every card: the configured usage domains in range. */
  domainIds(): number[] {
    if (!this.domainCache) {
      const max = this.maxDomainId
      this.domainCache = this.lpar.usage.bits().filter((d) => d <= max)
    }
    return this.domainCache
  }

  /** Card devices, ascending. A card needs a supported type and at least one domain. */
  cardIds(): number[] {
    if (!this.cardCache) {
      const max = this.maxAdapterId
      const anyDomain = this.domainIds().length > 0
      this.cardCache = this.lpar.adapters
        .filter((a) => anyDomain && a.id <= max && compatHwtype(a, this.lpar) > 0)
        .map((a) => a.id)
        .sort((x, y) => x - y)
    }
    return this.cardCache
  }

  hasCard(apid: number): boolean {
    return (this.cardSet ??= new Set(this.cardIds())).has(apid)
  }

  hasQueue(apid: number, apqi: number): boolean {
    return this.hasCard(apid) && (this.domainSet ??= new Set(this.domainIds())).has(apqi)
  }

  /**
   * Drop the runtime records (offline, unbound, counters) of devices that no
   * longer exist: a device that comes back is a new one, online and bound.
   */
  /** Whether it forgot anything. */
  forgetGone(): boolean {
    const exists = (name: string): boolean => {
      const m = /^card([0-9a-f]{2})$/.exec(name)
      if (m) return this.hasCard(parseInt(m[1], 16))
      const q = /^([0-9a-f]{2})\.([0-9a-f]{4})$/.exec(name)
      return q !== null && this.hasQueue(parseInt(q[1], 16), parseInt(q[2], 16))
    }
    const rt = this.rt
    const before = rt.offline.length + rt.unbound.length
    rt.offline = rt.offline.filter(exists)
    rt.unbound = rt.unbound.filter(exists)
    let forgot = rt.offline.length + rt.unbound.length !== before
    for (const k of Object.keys(rt.counters))
      if (!exists(k)) {
        delete rt.counters[k]
        forgot = true
      }
    return forgot
  }

  private card(apid: number): Adapter {
    const a = this.adapter(apid)
    if (!a || !this.hasCard(apid)) throw new KernelError('ENOENT')
    return a
  }

  hwtype(apid: number): number {
    return compatHwtype(this.card(apid), this.lpar)
  }

  cardFunctions(apid: number): number {
    return adapterFunctions(this.card(apid))
  }

  queueHw(apid: number, apqi: number): QueueHw {
    return this.lpar.queues[queueName(apid, apqi)] ?? {}
  }

  queueFunctions(apid: number, apqi: number): number {
    return this.queueHw(apid, apqi).functions ?? this.cardFunctions(apid)
  }

  /** The zcrypt type string, null when the card has no zcrypt driver. */
  cardType(apid: number): string | null {
    if (!this.cardDriver(apid)) return null
    return typeString(this.hwtype(apid), this.cardFunctions(apid))
  }

  isUnbound(name: string): boolean {
    return this.rt.unbound.includes(name)
  }

  /** cex4card takes every card whose functions name a mode it drives. */
  cardDriver(apid: number): CardDriver | null {
    if (this.isUnbound(cardName(apid))) return null
    return modeLetter(this.cardFunctions(apid)) ? 'cex4card' : null
  }

  /** True when apmask and aqmask reserve the queue for the default drivers. */
  reservedForHost(apid: number, apqi: number): boolean {
    return this.rt.apmask.has(apid) && this.rt.aqmask.has(apqi)
  }

  /** The driver the probe rule gives a queue, ignoring explicit unbinds. */
  probeDriver(apid: number, apqi: number): QueueDriver | null {
    if (this.reservedForHost(apid, apqi)) return this.cardDriver(apid) ? 'cex4queue' : null
    return this.vfioLoaded ? 'vfio_ap' : null
  }

  queueDriver(apid: number, apqi: number): QueueDriver | null {
    if (this.isUnbound(queueName(apid, apqi))) return null
    return this.probeDriver(apid, apqi)
  }

  cardConfig(apid: number): boolean {
    return this.card(apid).configured
  }

  cardChkstop(apid: number): boolean {
    return this.card(apid).checkstopped
  }

  /** The displayed `online`: configured and the online flag set. */
  cardOnline(apid: number): boolean {
    return this.cardConfig(apid) && !this.rt.offline.includes(cardName(apid))
  }

  queueOnline(apid: number, apqi: number): boolean {
    return this.cardConfig(apid) && !this.rt.offline.includes(queueName(apid, apqi))
  }

  /** Whether a zcrypt driver initialised the queue (request counts are valid). */
  queueInitialised(apid: number, apqi: number): boolean {
    return this.queueDriver(apid, apqi) === 'cex4queue'
  }

  counters(apid: number, apqi: number): {requests: number; requestq: number; pendingq: number} {
    const c = this.rt.counters[queueName(apid, apqi)] ?? {}
    return {requests: c.requests ?? 0, requestq: c.requestq ?? 0, pendingq: c.pendingq ?? 0}
  }

  /**
   * Card totals: queued and pending requests are summed over the queues; the
   * request total is the card's own counter where one is stored (it also
   * counts requests of queues no longer driven by zcrypt), else the sum.
   */
  cardCounters(apid: number): {requests: number; requestq: number; pendingq: number} {
    const sum = {requests: 0, requestq: 0, pendingq: 0}
    // Over the queues that have counters (few), not over every domain: a
    // listing of a full machine asks this of every card.
    this.domainSet ??= new Set(this.domainIds())
    const prefix = hex2(apid) + '.'
    for (const k in this.rt.counters) {
      if (!k.startsWith(prefix) || !this.domainSet.has(parseInt(k.slice(prefix.length), 16))) continue
      const c = this.rt.counters[k]
      sum.requests += c.requests ?? 0
      sum.requestq += c.requestq ?? 0
      sum.pendingq += c.pendingq ?? 0
    }
    const own = this.rt.counters[cardName(apid)]?.requests
    if (own !== undefined) sum.requests = own
    return sum
  }

  vfioStatus(apid: number, apqi: number): VfioStatus {
    return this.hooks.status(apid, apqi)
  }

  /** Secure Execution: the queue's BS state. */
  bindState(apid: number, apqi: number): number {
    return (this.queueFunctions(apid, apqi) & 0xc000) >>> 14
  }

  /** bound / total queue devices (the `bindings` attribute). */
  bindings(): {bound: number; total: number} {
    let bound = 0
    let total = 0
    for (const c of this.cardIds())
      for (const d of this.domainIds()) {
        total++
        if (this.queueDriver(c, d)) bound++
      }
    return {bound, total}
  }

  /**
   * The kernel's choice of a default domain (ap_select_domain): the usage
   * domain allowed by aqmask that the most configured adapters answer on.
   */
  selectDomain(): number {
    // Every card has the same domains, so the first domain aqmask allows
    // has the most adapters answering, provided one adapter works at all.
    const working = this.cardIds().some((c) => this.cardConfig(c) && !this.cardChkstop(c))
    if (!working) return -1
    return this.domainIds().find((d) => this.rt.aqmask.has(d)) ?? -1
  }
}

// ---------------------------------------------------------------------------
// Writes. Each takes the raw text written to the attribute (as `echo` gives
// it, newline included), validates it like the kernel's store function, and
// changes the model only when the write succeeds.

function setFlag(list: string[], name: string, on: boolean): void {
  const i = list.indexOf(name)
  if (on && i < 0) list.push(name)
  if (!on && i >= 0) list.splice(i, 1)
}

function scanBool01(buf: string): number {
  const v = kscanInt(buf)
  if (v === null || v < 0 || v > 1) throw new KernelError('EINVAL')
  return v
}

/**
 * After a change of the masks or of the loaded drivers, queues whose probe
 * result changed are reprobed: explicit unbinds are forgotten and a queue that
 * leaves cex4queue loses its zcrypt state (a new zcrypt queue starts online).
 */
export function reviseBindings(before: ApBus, after: ApBus, only?: Scope): void {
  const rt = after.rt
  const [cards, domains] = within(after, only)
  for (const c of cards)
    for (const d of domains) {
      const was = before.probeDriver(c, d)
      const now = after.probeDriver(c, d)
      if (was === now) continue
      const q = queueName(c, d)
      setFlag(rt.unbound, q, false)
      if (was === 'cex4queue') setFlag(rt.offline, q, false)
    }
  reportBindings(before, after, only)
}

/**
 * The queues a change can concern: those of some adapters, or of some
 * domains (a mask write changes those of its changed bits and no other's).
 */
export interface Scope {
  adapters?: number[]
  domains?: number[]
}

function within(bus: ApBus, only?: Scope): [number[], number[]] {
  const keep = (all: number[], some?: number[]): number[] => (some ? all.filter((x) => some.includes(x)) : all)
  return [keep(bus.cardIds(), only?.adapters), keep(bus.domainIds(), only?.domains)]
}

/** Tell the drivers about every queue (of the scope) whose effective driver differs between two views. */
export function reportBindings(before: ApBus, after: ApBus, only?: Scope): void {
  const hook = after.hooks.bindingChanged
  if (!hook) return
  const [cards, domains] = within(after, only)
  for (const c of cards)
    for (const d of domains) {
      const was = before.hasQueue(c, d) ? before.queueDriver(c, d) : null
      const now = after.queueDriver(c, d)
      if (was !== now) hook(c, d, was, now)
    }
}

/** A copy of the bus view to compare against after a change. */
export function snapshot(bus: ApBus): ApBus {
  return new ApBus(bus.lpar, {...bus.rt, unbound: [...bus.rt.unbound], modules: [...bus.rt.modules]}, bus.hooks)
}

export function writeMask(bus: ApBus, which: 'apmask' | 'aqmask', buf: string): void {
  const old = bus.rt[which]
  const next = parseMaskWrite(old, buf)
  if (next.equals(old)) return
  const added = next.andNot(old)
  const canReserve = bus.hooks.canReserve
  if (!added.isEmpty() && canReserve) {
    if (which === 'apmask') canReserve(added, bus.rt.aqmask)
    else canReserve(bus.rt.apmask, added)
  }
  const before = snapshot(bus)
  bus.rt[which] = next
  // A queue's driver depends on its adapter's bit in apmask and its domain's in aqmask: only the changed bits' queues can change.
  const changed = added.or(old.andNot(next)).bits()
  reviseBindings(before, new ApBus(bus.lpar, bus.rt, bus.hooks), which === 'apmask' ? {adapters: changed} : {domains: changed})
}

export function writeDomain(bus: ApBus, buf: string): void {
  const d = kscanInt(buf, true)
  if (d === null || d < 0 || d > bus.maxDomainId || !bus.rt.aqmask.has(d)) throw new KernelError('EINVAL')
  bus.rt.domain = d
}

export function writeConfigTime(bus: ApBus, buf: string): void {
  const t = kscanInt(buf)
  if (t === null || t < 5 || t > 120) throw new KernelError('EINVAL')
  bus.rt.configTime = t
}

export function writePollThread(bus: ApBus, buf: string): void {
  const on = kstrtobool(buf)
  // The poll thread does not start while AP interrupts are in use.
  if (on && bus.interrupts()) return
  bus.rt.pollThread = on
}

export function writePollTimeout(bus: ApBus, buf: string): void {
  const v = kstrtoul(buf)
  if (v > 120000000000n) throw new KernelError('EINVAL')
  bus.rt.pollTimeout = Number(v)
}

/** Any write to `scans` runs a bus scan; a missing default domain is chosen then. */
export function writeScans(bus: ApBus): void {
  bus.rt.scans++
  if (bus.rt.domain < 0) bus.rt.domain = bus.selectDomain()
}

/** Card `online`: 1 needs a configured card and forces its zcrypt queues online. */
export function writeCardOnline(bus: ApBus, apid: number, buf: string): void {
  const on = scanBool01(buf)
  if (on && !bus.cardConfig(apid)) throw new KernelError('ENODEV')
  setFlag(bus.rt.offline, cardName(apid), !on)
  for (const d of bus.domainIds())
    if (bus.queueDriver(apid, d) === 'cex4queue') setFlag(bus.rt.offline, queueName(apid, d), !on)
}

/** Queue `online`: 1 needs the queue and card configured and the card online. */
export function writeQueueOnline(bus: ApBus, apid: number, apqi: number, buf: string): void {
  const on = scanBool01(buf)
  if (on && !bus.cardConfig(apid)) throw new KernelError('ENODEV')
  if (on && bus.rt.offline.includes(cardName(apid))) throw new KernelError('EINVAL')
  setFlag(bus.rt.offline, queueName(apid, apqi), !on)
}

/**
 * Card `config`: SCLP configure/deconfigure of the adapter; its queues
 * follow. Without SCLP's AP reconfiguration facility (a KVM guest) the
 * kernel's sclp_ap_configure refuses with EOPNOTSUPP, so a guest cannot
 * change an adapter's configuration.
 */
export function writeCardConfig(bus: ApBus, apid: number, buf: string): void {
  const cfg = scanBool01(buf)
  const a = bus.adapter(apid)!
  if (a.configured === (cfg === 1)) return
  if (bus.lpar.apReconfig === false) throw new KernelError('EOPNOTSUPP')
  a.configured = cfg === 1
}

/** Queue `reset`: a ZAPQ flushes the queue's pending and queued requests. */
export function resetQueue(bus: ApBus, apid: number, apqi: number): void {
  const c = bus.rt.counters[queueName(apid, apqi)]
  if (!c) return
  delete c.requestq
  delete c.pendingq
  if (Object.keys(c).length === 0) delete bus.rt.counters[queueName(apid, apqi)]
}

/** Driver `unbind`: detach the named device from this driver. */
export function writeUnbind(bus: ApBus, driver: string, buf: string): void {
  const name = buf.replace(/\n$/, '')
  const dev = parseDeviceName(name)
  if (!dev || !deviceExists(bus, dev) || boundDriver(bus, dev) !== driver) throw new KernelError('ENODEV')
  const before = snapshot(bus)
  setFlag(bus.rt.unbound, name, true)
  // The zcrypt device is gone; a later bind creates a fresh one, online.
  setFlag(bus.rt.offline, name, false)
  if (dev.apqi === undefined) for (const d of bus.domainIds()) setFlag(bus.rt.offline, queueName(dev.apid, d), false)
  reportBindings(before, new ApBus(bus.lpar, bus.rt, bus.hooks))
}

/** Driver `bind`: attach an unbound device if the driver's probe accepts it. */
export function writeBind(bus: ApBus, driver: string, buf: string): void {
  const name = buf.replace(/\n$/, '')
  const dev = parseDeviceName(name)
  if (!dev || !deviceExists(bus, dev)) throw new KernelError('ENODEV')
  if (boundDriver(bus, dev)) throw new KernelError('EBUSY')
  const would = dev.apqi === undefined ? withoutUnbind(bus, name).cardDriver(dev.apid) : bus.probeDriver(dev.apid, dev.apqi)
  if (would !== driver) throw new KernelError('ENODEV')
  const before = snapshot(bus)
  setFlag(bus.rt.unbound, name, false)
  reportBindings(before, new ApBus(bus.lpar, bus.rt, bus.hooks))
}

function withoutUnbind(bus: ApBus, name: string): ApBus {
  return new ApBus(bus.lpar, {...bus.rt, unbound: bus.rt.unbound.filter((n) => n !== name)}, bus.hooks)
}

export function parseDeviceName(name: string): {apid: number; apqi?: number} | null {
  let m = /^card([0-9a-f]{2})$/.exec(name)
  if (m) return {apid: parseInt(m[1], 16)}
  m = /^([0-9a-f]{2})\.([0-9a-f]{4})$/.exec(name)
  if (m) return {apid: parseInt(m[1], 16), apqi: parseInt(m[2], 16)}
  return null
}

function deviceExists(bus: ApBus, dev: {apid: number; apqi?: number}): boolean {
  return dev.apqi === undefined ? bus.hasCard(dev.apid) : bus.hasQueue(dev.apid, dev.apqi)
}

function boundDriver(bus: ApBus, dev: {apid: number; apqi?: number}): string | null {
  return dev.apqi === undefined ? bus.cardDriver(dev.apid) : bus.queueDriver(dev.apid, dev.apqi)
}

/** Loading a driver module attaches it to every device its probe accepts. */
export function loadModule(bus: ApBus, module: string): void {
  if (bus.rt.modules.includes(module)) return
  const before = snapshot(bus)
  bus.rt.modules.push(module)
  if (module === 'vfio_ap')
    bus.rt.unbound = bus.rt.unbound.filter((n) => {
      const d = parseDeviceName(n)
      return !(d && d.apqi !== undefined && bus.probeDriver(d.apid, d.apqi) === 'vfio_ap')
    })
  reviseBindings(before, new ApBus(bus.lpar, bus.rt, bus.hooks))
}

/** Unloading a driver module releases every device bound to it. */
export function unloadModule(bus: ApBus, module: string): void {
  const before = snapshot(bus)
  bus.rt.modules = bus.rt.modules.filter((m) => m !== module)
  reviseBindings(before, new ApBus(bus.lpar, bus.rt, bus.hooks))
}

// --- Secure Execution (se_bind / se_associate) -------------------------------

function setBindState(bus: ApBus, apid: number, apqi: number, bs: number): void {
  const name = queueName(apid, apqi)
  const hw = (bus.lpar.queues[name] ??= {})
  hw.functions = ((bus.queueFunctions(apid, apqi) & ~0xc000) | (bs << 14)) >>> 0
}

export function seBindText(bus: ApBus, apid: number, apqi: number): string {
  const bs = bus.bindState(apid, apqi)
  return bs === BS.USABLE || bs === BS.USABLE_NO_SECURE_KEY ? 'bound' : 'unbound'
}

export function seAssociateText(bus: ApBus, apid: number, apqi: number): string {
  const bs = bus.bindState(apid, apqi)
  const idx = bus.queueHw(apid, apqi).assoc
  if (bs === BS.USABLE) {
    if (idx === undefined) throw new KernelError('EIO')
    return `associated ${idx}`
  }
  if (bs === BS.USABLE_NO_SECURE_KEY && idx !== undefined) return 'association pending'
  return 'unassociated'
}

export function writeSeBind(bus: ApBus, apid: number, apqi: number, buf: string): void {
  const on = kstrtobool(buf)
  const hw = (bus.lpar.queues[queueName(apid, apqi)] ??= {})
  if (!on) {
    setBindState(bus, apid, apqi, BS.AVAIL_FOR_BINDING)
    delete hw.assoc
    return
  }
  if (bus.bindState(apid, apqi) !== BS.AVAIL_FOR_BINDING) throw new KernelError('EINVAL')
  setBindState(bus, apid, apqi, BS.USABLE_NO_SECURE_KEY)
  delete hw.assoc
}

export function writeSeAssociate(bus: ApBus, apid: number, apqi: number, buf: string): void {
  const v = kstrtoul(buf)
  if (v > 0xffffffffn) throw new KernelError('ERANGE')
  if (v >= 0x10000n) throw new KernelError('EINVAL')
  if (bus.bindState(apid, apqi) !== BS.USABLE_NO_SECURE_KEY) throw new KernelError('EINVAL')
  // The association completes at once in the emulation.
  setBindState(bus, apid, apqi, BS.USABLE)
  bus.lpar.queues[queueName(apid, apqi)].assoc = Number(v)
}
