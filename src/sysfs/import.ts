// `aplab import ROOT`: build a host from a tree laid out like a host's root
// file system (written by `aplab export`, or copied from a real machine).

import * as fs from 'node:fs'
import * as path from 'node:path'

import {ApBus} from '../core/apbus.js'
import {blacklistFromText, bootBlacklist} from '../core/cio.js'
import {now} from '../core/clock.js'
import {UsageError} from '../core/errors.js'
import {parseCmdline} from '../core/host.js'
import {type MdevField, type Places, hostProblems} from '../core/invariants.js'
import {defaultFunctions, modeLetter} from '../core/lpar.js'
import {Mask, parseHexMask} from '../core/mask.js'
import {type Adapter, type Host, type Lpar, type Mdev, type Mode, QCI_FEATURES, type QciFeature, type QueueHw, type Runtime, cardName} from '../core/model.js'

const MODES: Record<string, Mode> = {A: 'accel', C: 'cca', P: 'ep11'}

/** Persistent files aplab models, relative to ROOT. */
const PERSISTENT = [/^etc\/modules-load\.d\/[^/]+\.conf$/, /^etc\/udev\/rules\.d\/41-ap\.rules$/, /^etc\/mdevctl\.d\/.+$/]

class Tree {
  constructor(readonly root: string) {}

  text(rel: string): string | null {
    try {
      const s = fs.readFileSync(path.join(this.root, rel), 'latin1')
      return s.endsWith('\n') ? s.slice(0, -1) : s
    } catch {
      return null
    }
  }

  int(rel: string): number | null {
    const t = this.text(rel)
    if (t === null || !/^-?\d+$/.test(t.trim())) return null
    return Number(t.trim())
  }

  hex(rel: string): number | null {
    const t = this.text(rel)
    return t !== null && /^0x[0-9a-f]+$/i.test(t.trim()) ? Number(t.trim()) : null
  }

  mask(rel: string): Mask | null {
    const t = this.text(rel)
    if (t === null || !t.startsWith('0x')) return null
    return parseHexMask(t)
  }

  list(rel: string): string[] {
    try {
      return fs.readdirSync(path.join(this.root, rel)).sort()
    } catch {
      return []
    }
  }

  exists(rel: string): boolean {
    return fs.existsSync(path.join(this.root, rel))
  }

  linked(rel: string): boolean {
    try {
      fs.readlinkSync(path.join(this.root, rel))
      return true
    } catch {
      return false
    }
  }
}

/** /proc/cio_ignore as the tree has it; what the command line gives when it has none. */
function importBlacklist(text: string | null, cmdline: string, file: string): Runtime['cioIgnore'] {
  if (text === null) return bootBlacklist(parseCmdline(cmdline))
  const list = blacklistFromText(text.split('\n').filter((l) => l !== ''))
  if (!list) throw new UsageError(`${file}: expected one bus ID or range per line`)
  return list
}

export function importHost(root: string, name: string): Host {
  const t = new Tree(root)
  const bus = 'sys/bus/ap'
  if (!t.exists(bus)) throw new UsageError(`${path.join(root, bus)}: no AP bus in this tree`)
  const featureText = t.text(`${bus}/features`)
  const apm = t.mask(`${bus}/ap_adapter_mask`)
  const qci = apm !== null
  const features = (featureText ?? '')
    .split(/\s+/)
    .filter((f): f is QciFeature => (QCI_FEATURES as readonly string[]).includes(f))
  const apxa = qci && features.includes('APXA')
  const cmdline = t.text('proc/cmdline') ?? ''
  const useirq = !/(^|\s)ap\.useirq=0(\s|$)/.test(cmdline)

  const adapters: Adapter[] = []
  const queues: Record<string, QueueHw> = {}
  const counters: Runtime['counters'] = {}
  const offline: string[] = []
  let domains = Mask.empty()
  const cards = t.list('sys/devices/ap').filter((n) => /^card[0-9a-f]{2}$/.test(n))
  for (const card of cards) {
    const p = `sys/devices/ap/${card}`
    const apid = parseInt(card.slice(4), 16)
    const hwtype = t.int(`${p}/hwtype`) ?? 0
    const raw = t.int(`${p}/raw_hwtype`) ?? hwtype
    const fn = t.hex(`${p}/ap_functions`) ?? 0
    const letter = modeLetter(fn) ?? (t.text(`${p}/type`) ?? 'C').slice(-1)
    const gen = Math.min(Math.max(hwtype, 10), 14) - 6
    const mode = MODES[letter] ?? 'cca'
    const a: Adapter = {
      id: apid,
      gen,
      mode,
      depth: t.int(`${p}/depth`) ?? 8,
      maxMsgSize: t.int(`${p}/max_msg_size`) ?? 12288,
      configured: t.int(`${p}/config`) !== 0,
      checkstopped: t.int(`${p}/chkstop`) === 1,
    }
    if (raw !== hwtype) a.rawType = raw
    if (fn !== defaultFunctions(gen, mode)) a.functions = fn
    const serial = t.text(`${p}/serialnr`)
    if (serial) a.serial = serial.trimEnd()
    if (mode === 'ep11' && t.exists(`${p}/API_ordinalnr`)) {
      const api = t.int(`${p}/API_ordinalnr`)
      const fw = t.text(`${p}/FW_version`)
      const om = t.text(`${p}/op_modes`)
      a.ep11 = {...(api !== null && {api}), ...(fw && {fw}), ...(om && {opModes: om})}
    }
    adapters.push(a)
    if (a.configured && t.int(`${p}/online`) === 0) offline.push(card)
    let visible = 0
    for (const q of t.list(p).filter((n) => /^[0-9a-f]{2}\.[0-9a-f]{4}$/.test(n))) {
      const qp = `${p}/${q}`
      domains = domains.with(parseInt(q.slice(3), 16))
      const hw: QueueHw = {}
      const qfn = t.hex(`${qp}/ap_functions`)
      if (qfn !== null && qfn !== fn) hw.functions = qfn
      for (const l of (t.text(`${qp}/mkvps`) ?? '').split('\n')) {
        const m = /^(AES|APKA|ASYM|WK) CUR: valid (0x[0-9a-f]+)$/.exec(l)
        if (!m) continue
        if (m[1] === 'WK') hw.wk = m[2]
        else hw.mk = {...hw.mk, [m[1].toLowerCase()]: m[2]}
      }
      const assoc = /^associated (\d+)$/.exec(t.text(`${qp}/se_associate`) ?? '')
      if (assoc) hw.assoc = Number(assoc[1])
      if (Object.keys(hw).length > 0) queues[q] = hw
      const req = t.int(`${qp}/request_count`)
      const rq = t.int(`${qp}/requestq_count`) ?? 0
      const pq = t.int(`${qp}/pendingq_count`) ?? 0
      if (req || rq || pq) counters[q] = {...(req && {requests: req}), ...(rq && {requestq: rq}), ...(pq && {pendingq: pq})}
      visible += req ?? 0
      if (a.configured && t.int(`${qp}/online`) === 0) offline.push(q)
    }
    const total = t.int(`${p}/request_count`) ?? 0
    if (total !== visible) counters[cardName(apid)] = {requests: total}
  }

  const lpar: Lpar = {
    qci,
    features: qci ? features : [],
    na: apxa ? (t.int(`${bus}/ap_max_adapter_id`) ?? 0) : 0,
    nd: apxa ? (t.int(`${bus}/ap_max_domain_id`) ?? 0) : 0,
    airq: t.int(`${bus}/ap_interrupts`) === 1 || !useirq,
    adapters,
    usage: t.mask(`${bus}/ap_usage_domain_mask`) ?? domains,
    control: t.mask(`${bus}/ap_control_domain_mask`) ?? domains,
    queues,
  }
  const runtime: Runtime = {
    cmdline,
    apmask: t.mask(`${bus}/apmask`) ?? Mask.full(),
    aqmask: t.mask(`${bus}/aqmask`) ?? Mask.full(),
    domain: t.int(`${bus}/ap_domain`) ?? -1,
    configTime: t.int(`${bus}/config_time`) ?? 30,
    pollThread: t.int(`${bus}/poll_thread`) === 1,
    pollTimeout: t.int(`${bus}/poll_timeout`) ?? 250000,
    useirq,
    scans: t.int(`${bus}/scans`) ?? 1,
    modules: t.exists(`${bus}/drivers/vfio_ap`) ? ['vfio_ap'] : [],
    offline,
    unbound: [],
    counters,
    // vfio_ap filters control domains with the QCI ADM: nothing without QCI.
    mdevs: importMdevs(t, lpar.qci ? lpar.control : Mask.empty()),
    cioIgnore: importBlacklist(t.text('proc/cio_ignore'), cmdline, path.join(root, 'proc/cio_ignore')),
    bootTime: now() - Math.round(Number((t.text('proc/uptime') ?? '0').split(' ')[0]) * 1000),
    dmesg: [],
  }
  // Devices without a driver link that the probe rules would bind were unbound by hand.
  const probe = new ApBus(lpar, runtime)
  for (const c of probe.cardIds()) {
    const p = `sys/devices/ap/${cardName(c)}`
    if (probe.cardDriver(c) && !t.linked(`${p}/driver`)) runtime.unbound.push(cardName(c))
    for (const d of probe.domainIds()) {
      const q = `${cardName(c).slice(4)}.${d.toString(16).padStart(4, '0')}`
      if (probe.queueDriver(c, d) && t.exists(`${p}/${q}`) && !t.linked(`${p}/${q}/driver`)) runtime.unbound.push(q)
    }
  }
  const files: Record<string, string> = {}
  const walk = (rel: string): void => {
    for (const n of t.list(rel)) {
      const r = `${rel}/${n}`
      const full = path.join(root, r)
      const st = fs.statSync(full, {throwIfNoEntry: false})
      if (st?.isDirectory()) walk(r)
      else if (st?.isFile() && PERSISTENT.some((re) => re.test(r))) files['/' + r] = fs.readFileSync(full, 'utf8')
      if (st?.isDirectory() && /^etc\/mdevctl\.d\/[^/]+$/.test(r) && r !== 'etc/mdevctl.d/scripts.d' && t.list(r).length === 0) files[`/${r}/`] = ''
    }
  }
  if (t.exists('etc')) walk('etc')
  const host: Host = {name, lpar, persistent: {cmdline, files}, runtime, guests: []}
  // A tree no kernel could show (two mdevs sharing a queue, a guest_matrix
  // beyond its matrix, ...) is refused with the file that says so.
  const problem = hostProblems(host, treePlaces(root, host))[0]
  if (problem) throw new UsageError(`${problem.where}: ${problem.message}`)
  return host
}

/** How the kernel's rules name the files of an imported tree. */
function treePlaces(root: string, host: Host): Places {
  const file = (rel: string) => path.join(root, rel)
  const mdevFiles: Partial<Record<MdevField, string>> = {guest_matrix: 'guest_matrix', iommu_group: 'iommu_group', control_domains: 'control_domains'}
  return {
    mdevs: () => file(MATRIX),
    mdev: (i, field) => {
      const dir = `${MATRIX}/${host.runtime.mdevs[i].uuid}`
      const f = field && mdevFiles[field]
      return file(f ? `${dir}/${f}` : dir)
    },
    lpar: (field, id) =>
      field === 'adapters' && id !== undefined
        ? file(`sys/devices/ap/${cardName(id)}`)
        : file(`sys/bus/ap/${field === 'usage_domains' ? 'ap_usage_domain_mask' : field === 'control_domains' ? 'ap_control_domain_mask' : 'ap_adapter_mask'}`),
    // An imported host has no guests.
    guest: (j, field) => `guests[${j}]${field ? `.${field}` : ''}`,
  }
}

const MATRIX = 'sys/devices/vfio_ap/matrix'

/** Masks of an mdev: from ap_config where the kernel has it, else from matrix and control_domains. */
function importMdevs(t: Tree, hostAdm: Mask): Mdev[] {
  const out: Mdev[] = []
  for (const uuid of t.list(MATRIX).filter((n) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(n))) {
    const p = `${MATRIX}/${uuid}`
    const parse = (text: string | null) => {
      let apm = Mask.empty()
      let aqm = Mask.empty()
      for (const l of (text ?? '').split('\n')) {
        const m = /^([0-9a-f]{2})?\.([0-9a-f]{4})?$/.exec(l)
        if (!m) continue
        if (m[1]) apm = apm.with(parseInt(m[1], 16))
        if (m[2]) aqm = aqm.with(parseInt(m[2], 16))
      }
      return {apm, aqm}
    }
    const cfg = (t.text(`${p}/ap_config`) ?? '').split(',')
    const assigned = parse(t.text(`${p}/matrix`))
    const adm = (t.text(`${p}/control_domains`) ?? '')
      .split('\n')
      .filter((l) => /^[0-9a-f]{4}$/.test(l))
      .reduce((m, l) => m.with(parseInt(l, 16)), Mask.empty())
    const [apm, aqm, cdm] = cfg.length === 3 ? cfg.map((f) => parseHexMask(f)) : [assigned.apm, assigned.aqm, adm]
    const shadow = parse(t.text(`${p}/guest_matrix`))
    let group = -1
    try {
      const n = path.basename(fs.readlinkSync(path.join(t.root, p, 'iommu_group')))
      if (/^\d{1,9}$/.test(n)) group = Number(n)
    } catch {
      // no link: a group is chosen below
    }
    out.push({uuid, apm, aqm, adm: cdm, shadow: {apm: shadow.apm, aqm: shadow.aqm, adm: cdm.and(hostAdm)}, group})
  }
  // Without a readable iommu_group link, the lowest group no other mdev has, as vfio gives one.
  const used = new Set(out.map((m) => m.group))
  for (const m of out)
    if (m.group < 0) {
      let g = 0
      while (used.has(g)) g++
      m.group = g
      used.add(g)
    }
  return out
}
