// The rules the kernel (the AP bus, vfio_ap, KVM) and QEMU keep on every
// state they can reach, checked on a whole world: what a hand edit of the
// state file or an imported tree could break. A state that breaks one is
// not a state a real host can be in; aplab refuses it rather than act on it
// and write it back. Pure: no I/O; masks, never loops over every APQN.

import {ApBus} from './apbus.js'
import {Mask} from './mask.js'
import {type Host, type Mdev, type World, adapterId, domainId, queueName} from './model.js'
import {MAX_INSTANCES} from './vfio.js'

/** One broken rule: where (a dotted path such as the schema's, or a file) and what. */
export interface Problem {
  where: string
  message: string
}

/** The fields of an mdev a problem can point at (named as in the state file). */
export type MdevField = 'uuid' | 'adapters' | 'domains' | 'control_domains' | 'guest_matrix' | 'iommu_group'

/**
 * How problems name the objects of one host: dotted paths of the state file
 * (`hosts[0].runtime.mdevs[1]`), or the files of an imported tree.
 */
export interface Places {
  /** The host's list of mdevs as a whole. */
  mdevs(): string
  mdev(i: number, field?: MdevField): string
  /** An LPAR field; `id` names the adapter or domain concerned. */
  lpar(field: 'adapters' | 'usage_domains' | 'control_domains', id?: number): string
  /** A guest, or one of its fields (`device.uuid`, `cpu.ap`, `runtime.mdevs`). */
  guest(j: number, field?: string): string
  /** A libvirt domain, or one of its fields (`name`, `uuid`, `live`, `live.id`); hosts with libvirt only. */
  domain?(k: number, field?: string): string
}

/** The places of host number `h` in the state file. */
export function statePlaces(h: number): Places {
  const at = `hosts[${h}]`
  return {
    mdevs: () => `${at}.runtime.mdevs`,
    mdev: (i, field) => `${at}.runtime.mdevs[${i}]${field ? `.${field}` : ''}`,
    lpar: (field) => `${at}.lpar.${field}`,
    guest: (j, field) => `${at}.guests[${j}]${field ? `.${field}` : ''}`,
    domain: (k, field) => `${at}.libvirt.domains[${k}]${field ? `.${field}` : ''}`,
  }
}

/**
 * The fields of a host in the state file that no rule here reads: a change
 * of only these (a poll timeout, a scan, the kernel log, files under /etc)
 * cannot break a rule, and store.ts does not check the rules again before it
 * writes such a change. A rule that comes to read one must take it off.
 */
export const UNRULED = {
  host: ['persistent'],
  runtime: ['config_time', 'poll_thread', 'poll_timeout', 'scans', 'counters', 'boot_time', 'dmesg'],
} as const

const first = (m: Mask): number => m.bits()[0]
const id2 = adapterId
const id4 = domainId

/**
 * Of a host's mdevs, those that are as a state that kept every rule was read
 * with, each unchanged: all of them (true), none known (false), or all but
 * those `changed` holds (new ones among them).
 */
export type KeptMdevs = boolean | {changed: ReadonlySet<Mdev>}

/**
 * Every problem of a world: the world-wide rules (unique host names, the
 * current host exists, guest names unique across hosts), then each host's.
 * Empty when the world is one a real set of hosts can be in. `kept` says
 * which of a host's mdevs are as read; `only` 'mdevs': see below.
 */
export function worldProblems(w: World, kept?: (h: Host) => KeptMdevs, only?: 'mdevs'): Problem[] {
  const out: Problem[] = []
  // The caller knows that nothing but mdevs no running guest has open changed
  // since a state that kept every rule (state/store.ts onlyMdevsChanged):
  // only the rules of the mdevs (between them, and theirs against the host)
  // can be broken.
  if (only === 'mdevs') {
    w.hosts.forEach((h, i) => mdevProblems(h, statePlaces(i), out, kept?.(h) ?? false, true))
    return out
  }
  const names = new Set<string>()
  w.hosts.forEach((h, i) => {
    if (names.has(h.name)) out.push({where: `hosts[${i}].name`, message: `host '${h.name}' is listed twice`})
    names.add(h.name)
  })
  if (!names.has(w.current)) out.push({where: 'current', message: `no host is named '${w.current}'`})
  const guests = new Map<string, string>()
  w.hosts.forEach((h, i) =>
    h.guests.forEach((g, j) => {
      const other = guests.get(g.name)
      if (other !== undefined) out.push({where: `hosts[${i}].guests[${j}].name`, message: `guest '${g.name}' is on host '${other}' already`})
      else guests.set(g.name, h.name)
    }),
  )
  w.hosts.forEach((h, i) => out.push(...hostProblems(h, statePlaces(i), kept?.(h) ?? false)))
  return out
}

/**
 * The problems of one host: its LPAR, its mdevs (vfio_ap's rules), its
 * guests (QEMU's and KVM's) and libvirt's domains. `kept`: the host's mdevs
 * (or those it names) are those of a state that kept every rule, unchanged
 * (worldProblems's caller knows it: the state as read, state/data.ts
 * keptMdevs), so the rules between those mdevs alone still hold.
 */
export function hostProblems(host: Host, at: Places, kept: KeptMdevs = false): Problem[] {
  const out: Problem[] = []
  lparProblems(host, at, out)
  mdevProblems(host, at, out, kept)
  guestProblems(host, at, out)
  libvirtProblems(host, at, out)
  return out
}

/**
 * QCI with APXA reports Na and Nd, the highest adapter and domain number,
 * with the masks: no adapter or domain lies above them. Without them (no
 * QCI, no APXA, or zero) the machine may have more than the kernel's 63/15
 * can reach (a KVM guest with apqci=off sees its APCB so), and the bus
 * ignores the rest.
 */
function lparProblems(host: Host, at: Places, out: Problem[]): void {
  const l = host.lpar
  if (!l.qci || !l.features.includes('APXA')) return
  const over = l.adapters.find((a) => a.id > l.na)
  if (l.na > 0 && over) out.push({where: at.lpar('adapters', over.id), message: `adapter ${id2(over.id)} is above the highest adapter id ${l.na} (ap_max_adapter_id)`})
  if (l.nd === 0) return
  const domains = Mask.range(0, l.nd)
  for (const [field, mask] of [
    ['usage_domains', l.usage],
    ['control_domains', l.control],
  ] as const) {
    const o = mask.andNot(domains)
    if (!o.isEmpty()) out.push({where: at.lpar(field, first(o)), message: `domain ${id4(first(o))} is above the highest domain id ${l.nd} (ap_max_domain_id)`})
  }
}

/**
 * A question about one mask asked once per mask: the masks of a state read
 * from its file are shared (one per distinct text), so a host's thousand
 * mdevs ask about few.
 */
function perMask<T>(f: (m: Mask) => T): (m: Mask) => T {
  const known = new Map<Mask, T>()
  return (m) => {
    if (known.has(m)) return known.get(m) as T
    const v = f(m)
    known.set(m, v)
    return v
  }
}

/** The first bit of a mask that is not in `whole`, or undefined. */
const outside = (whole: Mask): ((m: Mask) => number | undefined) =>
  perMask((m) => {
    const o = m.andNot(whole)
    return o.isEmpty() ? undefined : first(o)
  })

/** The first bit of a mask that is also in `other`, or undefined. */
const within = (other: Mask): ((m: Mask) => number | undefined) =>
  perMask((m) => {
    const o = m.and(other)
    return o.isEmpty() ? undefined : first(o)
  })

/**
 * The rules of a host's mdevs. `hostAsRead`: the caller knows that nothing
 * of the host but its mdevs changed since the state that kept every rule
 * (worldProblems's 'mdevs'), so the unchanged mdevs still keep the rules that
 * read their masks against the host's alone, and only the changed ones are
 * asked them.
 */
function mdevProblems(host: Host, at: Places, out: Problem[], kept: KeptMdevs, hostAsRead = false): void {
  const rt = host.runtime
  const mdevs = rt.mdevs
  if (mdevs.length === 0) return
  if (!rt.modules.includes('vfio_ap')) out.push({where: at.mdevs(), message: 'mediated devices exist only while vfio_ap is loaded, and it is not (runtime.modules)'})
  if (mdevs.length > MAX_INSTANCES) out.push({where: at.mdevs(), message: `${mdevs.length} mediated devices, more than the ${MAX_INSTANCES} vfio_ap allows`})
  const bus = new ApBus(host.lpar, rt)
  const above = {adapters: outside(Mask.range(0, bus.maxAdapterId)), domains: outside(Mask.range(0, bus.maxDomainId))}
  const reserved = {a: within(rt.apmask), d: within(rt.aqmask)}
  // The LPAR's configuration as QCI reports it (nothing without QCI) and
  // the card and queue devices of the bus, computed once for every shadow.
  let devs: Devices | undefined
  const devices = (): Devices => {
    if (devs) return devs
    const of = (m: Mask | null) => outside(m ?? Mask.empty())
    return (devs = {
      apm: of(bus.adapterMask()),
      aqm: of(bus.usageMask()),
      adm: of(bus.controlMask()),
      cards: of(Mask.of(bus.cardIds())),
      domains: of(Mask.of(bus.domainIds())),
      reserved,
    })
  }
  const uuids = new Map<string, number>()
  const groups = new Map<number, number>()
  // Per adapter, the domains assigned so far: an APQN in two mdevs is found
  // with one mask operation per assigned adapter.
  const taken: Array<Mask | undefined> = []
  // The rules each mdev's masks keep against the host's alone hold for all of
  // them when they hold for the union of their masks: then only the rules
  // between mdevs, and between an mdev and its shadow, are asked of each.
  const clean = unionKeepsRules(!hostAsRead || kept === false ? mdevs : kept === true ? [] : [...kept.changed], bus, devices)
  // Unchanged mdevs of a state that kept the rules: those between them (and each one's
  // shadow within its matrix) still hold, and the union says the host's are kept.
  if (clean && kept === true) return
  // Some of them unchanged (an mdev created, assigned or removed among a
  // thousand): the rules between two unchanged ones hold, so the changed
  // ones are asked against all; only when one of them may break a rule is
  // every mdev asked, below, which says what and where.
  if (clean && typeof kept === 'object' && !changedMayBreak(mdevs, kept.changed)) return
  // The bits of each matrix's adapters, once per mask (masks read from a file are shared).
  const adapters = perMask((m) => m.bits())
  for (let i = 0; i < mdevs.length; i++) {
    const m = mdevs[i]
    const name = `mdev ${m.uuid}`
    const u = uuids.get(m.uuid)
    if (u !== undefined) out.push({where: at.mdev(i, 'uuid'), message: `${name} is listed twice`})
    else uuids.set(m.uuid, i)
    const g = groups.get(m.group)
    if (g !== undefined) out.push({where: at.mdev(i, 'iommu_group'), message: `${name}: IOMMU group ${m.group} is also mdev ${mdevs[g].uuid}'s (${at.mdev(g)})`})
    else groups.set(m.group, i)
    if (!clean) {
      // assign_* and ap_config refuse ids above the maximum (ENODEV).
      let o: number | undefined
      if ((o = above.adapters(m.apm)) !== undefined) out.push({where: at.mdev(i, 'adapters'), message: `${name}: adapter ${id2(o)} is above the highest adapter id ${bus.maxAdapterId}`})
      if ((o = above.domains(m.aqm)) !== undefined) out.push({where: at.mdev(i, 'domains'), message: `${name}: domain ${id4(o)} is above the highest domain id ${bus.maxDomainId}`})
      if ((o = above.domains(m.adm)) !== undefined)
        out.push({where: at.mdev(i, 'control_domains'), message: `${name}: control domain ${id4(o)} is above the highest domain id ${bus.maxDomainId}`})
      // EADDRNOTAVAIL: no APQN of the matrix may be reserved for the host's drivers.
      const ra = reserved.a(m.apm)
      const rd = reserved.d(m.aqm)
      if (ra !== undefined && rd !== undefined) out.push({where: at.mdev(i), message: `${name}: APQN ${queueName(ra, rd)} is reserved for the host's drivers by apmask and aqmask`})
    }
    // EADDRINUSE: no APQN in two mdevs.
    if (!m.aqm.isEmpty()) {
      let shared: {a: number; d: number} | undefined
      for (const a of adapters(m.apm)) {
        const t = taken[a]
        if (!shared && t?.intersects(m.aqm)) shared = {a, d: first(t.and(m.aqm))}
        taken[a] = t ? t.or(m.aqm) : m.aqm
      }
      if (shared) {
        const {a, d} = shared
        const j = mdevs.findIndex((o) => o.apm.has(a) && o.aqm.has(d))
        out.push({where: at.mdev(i), message: `${name}: APQN ${queueName(a, d)} is also assigned to mdev ${mdevs[j].uuid} (${at.mdev(j)})`})
      }
    }
    const p = clean ? shadowOutsideMatrix(m) : shadowProblem(bus, m, devices)
    if (p) out.push({where: at.mdev(i, 'guest_matrix'), message: `${name}: guest_matrix ${p}`})
  }
}

/**
 * Whether a `changed` mdev may break a rule between mdevs (the same UUID or
 * IOMMU group as another, an APQN of another, or listed twice) or its
 * shadow's first rule (within its matrix): the rules between two unchanged
 * mdevs hold. Each changed one against every other, in one pass: hashing a
 * thousand UUIDs cost more than comparing them.
 */
function changedMayBreak(mdevs: readonly Mdev[], changed: ReadonlySet<Mdev>): boolean {
  for (const c of changed) {
    if (shadowOutsideMatrix(c) !== undefined) return true
    const apqns = !c.apm.isEmpty() && !c.aqm.isEmpty()
    let self = 0
    for (let i = 0; i < mdevs.length; i++) {
      const o = mdevs[i]
      if (o === c) {
        if (++self > 1) return true
        continue
      }
      if (o.uuid === c.uuid || o.group === c.group) return true
      if (apqns && o.apm.intersects(c.apm) && o.aqm.intersects(c.aqm)) return true
    }
  }
  return false
}

/**
 * Whether every mdev keeps the rules that read its masks against the host's
 * alone (ids above the maximum, APQNs reserved for the host's drivers, a
 * shadow outside the LPAR's configuration or the bus's devices, or not bound
 * to vfio_ap), told from the union of their masks: what no mask of the
 * union breaks, none of them breaks. False says only that each is to be
 * asked (the rules then say which, as ever).
 */
function unionKeepsRules(mdevs: readonly Mdev[], bus: ApBus, devices: () => Devices): boolean {
  const rt = bus.rt
  if (rt.unbound.length > 0) return false
  const apm = Mask.union(mdevs.map((m) => m.apm))
  const aqm = Mask.union(mdevs.map((m) => m.aqm))
  const adm = Mask.union(mdevs.map((m) => m.adm))
  if (!apm.isSubsetOf(Mask.range(0, bus.maxAdapterId)) || !aqm.or(adm).isSubsetOf(Mask.range(0, bus.maxDomainId))) return false
  if (apm.intersects(rt.apmask) && aqm.intersects(rt.aqmask)) return false
  const s = {
    apm: Mask.union(mdevs.map((m) => m.shadow.apm)),
    aqm: Mask.union(mdevs.map((m) => m.shadow.aqm)),
    adm: Mask.union(mdevs.map((m) => m.shadow.adm)),
  }
  // An empty shadow lies within anything: the bus's devices are not asked (a big host's cost more than the rest).
  if (s.apm.isEmpty() && s.aqm.isEmpty() && s.adm.isEmpty()) return true
  const d = devices()
  const within = (m: Mask, outside: (x: Mask) => number | undefined): boolean => outside(m) === undefined
  if (!within(s.apm, d.apm) || !within(s.aqm, d.aqm) || !within(s.adm, d.adm)) return false
  // A shadow with adapters and domains: its queues exist, are bound to vfio_ap, and are not the host's.
  if (!within(s.apm, d.cards) || !within(s.aqm, d.domains)) return false
  const queues = mdevs.some((m) => !m.shadow.apm.isEmpty() && !m.shadow.aqm.isEmpty())
  if (queues && !bus.vfioLoaded) return false
  return !(s.apm.intersects(rt.apmask) && s.aqm.intersects(rt.aqmask))
}

/**
 * What is wrong with an mdev's shadow APCB (guest_matrix), if anything. It
 * lies within the matrix and within the LPAR's configuration (all empty
 * without QCI), and every queue of its adapters x domains exists, is bound
 * to vfio_ap and is not reserved for the host: filtering drops any adapter
 * with one that is not, and the probe and remove callbacks keep it so.
 */
interface Devices {
  /** The first bit of a mask outside each (see `outside`). */
  apm: (m: Mask) => number | undefined
  aqm: (m: Mask) => number | undefined
  adm: (m: Mask) => number | undefined
  cards: (m: Mask) => number | undefined
  domains: (m: Mask) => number | undefined
  /** The first bit of a mask reserved by apmask (a) and aqmask (d). */
  reserved: {a: (m: Mask) => number | undefined; d: (m: Mask) => number | undefined}
}

/** The first bit of `part` not in `whole`, or undefined. */
const notIn = (part: Mask, whole: Mask): number | undefined => (part === whole || part.isSubsetOf(whole) ? undefined : first(part.andNot(whole)))

/** The first rule of shadowProblem: the shadow lies within the mdev's matrix. */
function shadowOutsideMatrix(m: Mdev): string | undefined {
  const s = m.shadow
  let x: number | undefined
  if ((x = notIn(s.apm, m.apm)) !== undefined) return `has adapter ${id2(x)}, which is not among the mdev's adapters`
  if ((x = notIn(s.aqm, m.aqm)) !== undefined) return `has domain ${id4(x)}, which is not among the mdev's domains`
  if ((x = notIn(s.adm, m.adm)) !== undefined) return `has control domain ${id4(x)}, which is not among the mdev's control domains`
  return undefined
}

function shadowProblem(bus: ApBus, m: Mdev, devices: () => Devices): string | undefined {
  const s = m.shadow
  const outside = shadowOutsideMatrix(m)
  if (outside !== undefined) return outside
  let x: number | undefined
  const noQci = bus.lpar.qci ? '' : ' (the LPAR has no QCI, so vfio_ap gives guests nothing)'
  const d = devices()
  if ((x = d.apm(s.apm)) !== undefined) return `has adapter ${id2(x)}, which is not in the LPAR's configuration${noQci}`
  if ((x = d.aqm(s.aqm)) !== undefined) return `has domain ${id4(x)}, which is not a usage domain of the LPAR${noQci}`
  if ((x = d.adm(s.adm)) !== undefined) return `has control domain ${id4(x)}, which is not a control domain of the LPAR${noQci}`
  if (s.apm.isEmpty() || s.aqm.isEmpty()) return undefined
  if ((x = d.cards(s.apm)) !== undefined) return `has adapter ${id2(x)}, which has no card device (its queues do not exist)`
  if ((x = d.domains(s.aqm)) !== undefined) return `has domain ${id4(x)}, which has no queue devices`
  if (!bus.vfioLoaded) return `has queue ${queueName(first(s.apm), first(s.aqm))}, which is not bound to vfio_ap (vfio_ap is not loaded)`
  const ra = d.reserved.a(s.apm)
  const rd = d.reserved.d(s.aqm)
  if (ra !== undefined && rd !== undefined) return `has queue ${queueName(ra, rd)}, which is reserved for the host's drivers by apmask and aqmask`
  for (const n of bus.rt.unbound) {
    const q = /^([0-9a-f]{2})\.([0-9a-f]{4})$/.exec(n)
    if (q && s.apm.has(parseInt(q[1], 16)) && s.aqm.has(parseInt(q[2], 16))) return `has queue ${n}, which is not bound to vfio_ap (runtime.unbound)`
  }
  return undefined
}

/**
 * A vfio-ap device needs the ap CPU feature (QEMU has no ap-bus without it);
 * a running guest has its mdev open, which exists on its host and which no
 * other running guest has open (vfio_ap: one KVM per mdev). A guest's kernel
 * has no mdevs of its own (aplab does not nest pass-through).
 */
function guestProblems(host: Host, at: Places, out: Problem[]): void {
  const holders = new Map<string, number>()
  let uuids: Set<string> | undefined
  host.guests.forEach((g, j) => {
    const name = `guest '${g.name}'`
    if (g.runtime.mdevs.length > 0) out.push({where: at.guest(j, 'runtime.mdevs'), message: `${name}: a guest's kernel has no vfio_ap mediated devices in aplab`})
    if (!g.device) return
    if (!g.features.ap) {
      out.push({where: at.guest(j, 'cpu.ap'), message: `${name} has a vfio-ap device but not the CPU feature ap (QEMU has no ap-bus without it)`})
      return
    }
    if (!g.running) return
    const uuid = g.device.uuid
    // The host's mdevs by UUID, made once for all its guests.
    uuids ??= new Set(host.runtime.mdevs.map((m) => m.uuid))
    if (!uuids.has(uuid)) {
      out.push({where: at.guest(j, 'device.uuid'), message: `${name} runs with mdev ${uuid}, which host '${host.name}' does not have`})
      return
    }
    const k = holders.get(uuid)
    if (k !== undefined) out.push({where: at.guest(j, 'device.uuid'), message: `${name} has mdev ${uuid} open, and so does guest '${host.guests[k].name}' (${at.guest(k)})`})
    else holders.set(uuid, j)
  })
}

/**
 * libvirtd's domains (virDomainObjList): one per name and one per UUID; a
 * domain is persistent (a definition) or running (a live definition) or
 * both. While its QEMU process (the guest of the same name, managed by
 * libvirt) runs, the domain is active, with a live definition and an id
 * no other active domain has, below the next id libvirtd gives. A live
 * definition whose guest no longer runs is kept: the QEMU process ended
 * outside libvirt (aplab guest stop, the process died), and libvirtd
 * settles it when it next looks, as it does on the monitor's EOF.
 */
function libvirtProblems(host: Host, at: Places, out: Problem[]): void {
  const lv = host.libvirt
  if (!lv) return
  const place = (k: number, field?: string): string => at.domain?.(k, field) ?? `libvirt.domains[${k}]${field ? `.${field}` : ''}`
  const names = new Map<string, number>()
  const uuids = new Map<string, number>()
  const ids = new Map<number, number>()
  lv.domains.forEach((d, k) => {
    const name = `domain '${d.name}'`
    const n = names.get(d.name)
    if (n !== undefined) out.push({where: place(k, 'name'), message: `${name} is listed twice (${place(n)})`})
    else names.set(d.name, k)
    const u = uuids.get(d.uuid)
    if (u !== undefined) out.push({where: place(k, 'uuid'), message: `${name}: uuid ${d.uuid} is also domain '${lv.domains[u].name}'s (${place(u)})`})
    else uuids.set(d.uuid, k)
    if (d.config === null && d.live === null) out.push({where: place(k), message: `${name} has neither a persistent definition (config) nor a live one (live): libvirt has no such domain`})
    const j = host.guests.findIndex((g) => g.name === d.name && g.managed === 'libvirt' && g.running)
    if (j < 0) return
    if (d.live === null) {
      out.push({where: place(k, 'live'), message: `${name} has no live definition, but its QEMU process runs (${at.guest(j)})`})
      return
    }
    const i = ids.get(d.live.id)
    if (i !== undefined) out.push({where: place(k, 'live.id'), message: `${name} runs with id ${d.live.id}, and so does domain '${lv.domains[i].name}' (${place(i)})`})
    else ids.set(d.live.id, k)
    if (d.live.id >= lv.nextId) out.push({where: place(k, 'live.id'), message: `${name} runs with id ${d.live.id}, not below the next id libvirt gives (libvirt.next_id ${lv.nextId})`})
  })
}
