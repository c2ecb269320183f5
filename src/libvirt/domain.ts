// libvirt's domain XML for the QEMU driver on s390x, the part that matters
// for AP pass-through: parsing and validating a definition (domain_conf.c,
// qemu_validate.c), formatting it as `virsh dumpxml` shows it, and the QEMU
// command line libvirt generates from it (qemu_command.c), which aplab then
// runs through its QEMU model so every QEMU and kernel rule applies.

import {LATEST_MACHINE} from '../core/qemu/cmdline.js'
import {VirError} from './errors.js'
import {type Out, escapeString, type XElement, type XmlContext, child, children, el, formatXml, fromParsed, parseXml, textEl} from './xml.js'

export const EMULATOR = '/usr/bin/qemu-system-s390x'

export interface HostdevDef {
  uuid: string
  managed: boolean
  /** QEMU's device id, in the live definition only. */
  alias?: string
}

export type CpuMode = 'host-model' | 'host-passthrough' | 'custom' | 'maximum'
export const CPU_POLICIES = ['force', 'require', 'optional', 'disable', 'forbid'] as const
export type CpuPolicy = (typeof CPU_POLICIES)[number]

export interface CpuDef {
  mode: CpuMode
  model?: string
  features: Array<{policy: CpuPolicy; name: string}>
}

export interface DomainDef {
  type: 'kvm' | 'qemu'
  name: string
  uuid: string
  /** KiB. */
  memory: number
  currentMemory: number
  vcpus: number
  machine: string
  cpu: CpuDef
  onPoweroff: string
  onReboot: string
  onCrash: string
  /** <title> (one line) and <description>, as libvirt keeps them: absent when empty. */
  title?: string
  description?: string
  hostdevs: HostdevDef[]
  /** Devices aplab does not model, kept as written (disks, interfaces, ...). */
  otherDevices: Out[]
}

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/

/** virUUIDParse: 32 hex digits, dashes allowed between groups; formatted lower case with dashes. */
export function parseUuid(s: string): string | null {
  const t = s.trim()
  if (!UUID_RE.test(t)) return null
  const h = t.replace(/-/g, '').toLowerCase()
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const missingAttr = (attr: string, elem: string): VirError => new VirError('XML_ERROR', `Missing required attribute '${attr}' in element '${elem}'`)
const badEnum = (attr: string, elem: string, v: string): VirError => new VirError('XML_ERROR', `Invalid value for attribute '${attr}' in element '${elem}': '${v}'.`)

function enumAttr<T extends string>(e: XElement, attr: string, values: readonly T[], required: boolean): T | undefined {
  const v = e.attrs[attr]
  if (v === undefined) {
    if (required) throw missingAttr(attr, e.name)
    return undefined
  }
  if (!values.includes(v as T)) throw badEnum(attr, e.name, v)
  return v as T
}

const UNITS: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1000,
  k: 1024,
  kib: 1024,
  mb: 1000 ** 2,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1000 ** 4,
  t: 1024 ** 4,
  tib: 1024 ** 4,
}

/** virDomainParseMemory: a scaled value in KiB (rounded up), or undefined when absent. */
function memoryKiB(e: XElement | undefined, xpath: string): number | undefined {
  if (!e) return undefined
  const unit = (e.attrs.unit ?? 'KiB').toLowerCase()
  const scale = UNITS[unit]
  if (scale === undefined) throw new VirError('XML_ERROR', `unknown suffix '${e.attrs.unit}'`)
  const t = e.text.trim()
  if (!/^\d+$/.test(t)) throw new VirError('XML_ERROR', `Invalid value '${t}' for element or attribute '${xpath}'`)
  return Math.ceil((Number(t) * scale) / 1024)
}

/** The machine types qemu-system-s390x 10.1 has, canonical name for the alias. */
function canonicalMachine(m: string): string | null {
  if (m === 's390-ccw-virtio') return LATEST_MACHINE
  const r = /^s390-ccw-virtio-(\d+)\.(\d+)$/.exec(m)
  if (!r) return null
  const [maj, min] = [Number(r[1]), Number(r[2])]
  return maj < 2 || maj > 10 || (maj === 10 && min > 1) ? null : m
}

function parseCpu(e: XElement | undefined): CpuDef {
  if (!e) return {mode: 'host-model', features: []}
  const mode = enumAttr(e, 'mode', ['host-model', 'host-passthrough', 'custom', 'maximum'] as const, false) ?? (child(e, 'model') ? 'custom' : 'host-model')
  const modelEl = child(e, 'model')
  const model = modelEl?.text.trim() || undefined
  if (mode === 'custom' && !model) throw new VirError('XML_ERROR', 'Missing CPU model name')
  const features = children(e, 'feature').map((f) => {
    const name = f.attrs.name
    if (name === undefined || name === '') throw new VirError('XML_ERROR', 'Missing \'name\' attribute for CPU feature')
    const policy = enumAttr(f, 'policy', CPU_POLICIES, false) ?? 'require'
    return {policy, name}
  })
  const seen = new Set<string>()
  for (const f of features) {
    if (seen.has(f.name)) throw new VirError('XML_ERROR', `CPU feature '${f.name}' specified more than once`)
    seen.add(f.name)
  }
  return {mode, ...(mode === 'custom' && model ? {model} : {}), features}
}

/**
 * A <hostdev> element: a vfio-ap mdev (the one kind aplab models), or null
 * for any other host device, which is kept as written.
 */
export function parseHostdev(e: XElement): HostdevDef | null {
  const mode = e.attrs.mode ?? 'subsystem'
  if (mode !== 'subsystem' && mode !== 'capabilities') throw badEnum('mode', 'hostdev', mode)
  if (mode !== 'subsystem') return null
  const type = enumAttr(e, 'type', ['usb', 'pci', 'scsi', 'scsi_host', 'mdev'] as const, true)
  if (type !== 'mdev') return null
  const model = enumAttr(e, 'model', ['vfio-pci', 'vfio-ccw', 'vfio-ap'] as const, true)
  const managed = e.attrs.managed === 'yes'
  const addr = child(child(e, 'source') ?? {name: '', attrs: {}, children: [], text: '', value: ''}, 'address')
  if (!addr) throw new VirError('XML_ERROR', 'Missing <source> element in hostdev device')
  const raw = addr.attrs.uuid
  if (raw === undefined) throw missingAttr('uuid', 'address')
  const uuid = parseUuid(raw)
  if (uuid === null) throw new VirError('XML_ERROR', `Invalid value for attribute 'uuid' in element 'address': '${raw}'. Expected UUID`)
  if (model !== 'vfio-ap') throw new VirError('CONFIG_UNSUPPORTED', `mediated device model '${model}' is not supported on this host (s390x, vfio_ap)`)
  return {uuid, managed}
}

/** qemu_validate.c qemuValidateDomainMdevDefVFIOAP: at most one vfio-ap hostdev. */
export function validateHostdevs(hostdevs: readonly HostdevDef[]): void {
  if (hostdevs.length > 1) throw new VirError('CONFIG_UNSUPPORTED', 'Only one hostdev of model vfio-ap is supported')
}

export interface ParseOptions {
  /** A UUID for a definition without one (virUUIDGenerate). */
  newUuid: () => string
}

/** `virsh define FILE`'s document: the definition, post-parsed and validated, or libvirt's error. */
export function parseDomainXml(text: string, o: ParseOptions): DomainDef {
  const root = parseXml(text, '(domain_definition)')
  if (root.name !== 'domain') throw new VirError('XML_ERROR', `expecting root element of 'domain', not '${root.name}'`)
  const type = enumAttr(root, 'type', ['none', 'qemu', 'kqemu', 'kvm', 'xen', 'lxc', 'uml', 'openvz', 'test', 'vmware', 'hyperv', 'vbox', 'phyp', 'parallels', 'bhyve', 'vz'] as const, true)!
  if (type !== 'kvm' && type !== 'qemu')
    throw new VirError('CONFIG_UNSUPPORTED', `Emulator '${EMULATOR}' does not support virt type '${type}'`)
  const name = child(root, 'name')?.text.trim()
  if (!name) throw new VirError('NO_NAME', null)
  if (name.includes('/')) throw new VirError('XML_ERROR', `name ${name} cannot contain '/'`)
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new VirError('XML_ERROR', `name '${name}' is not a guest name aplab accepts (letters, digits, '.', '_' and '-')`)
  const rawUuid = child(root, 'uuid')?.text
  let uuid: string
  if (rawUuid === undefined) uuid = o.newUuid()
  else {
    const u = parseUuid(rawUuid)
    if (u === null) throw new VirError('INTERNAL_ERROR', 'malformed uuid element')
    uuid = u
  }
  // virDomainDefParseIDs: string(./title[1]) and string(./description[1]); an empty string is none.
  const title = child(root, 'title')?.value || undefined
  if (title !== undefined && title.includes('\n')) throw new VirError('XML_ERROR', "Domain title can't contain newlines")
  const description = child(root, 'description')?.value || undefined
  const memory = memoryKiB(child(root, 'memory'), './memory[1]')
  if (memory === undefined || memory === 0)
    throw new VirError('XML_ERROR', 'Memory size must be specified via <memory> or in the <numa> configuration')
  const current = memoryKiB(child(root, 'currentMemory'), './currentMemory[1]')
  const vcpuText = child(root, 'vcpu')?.text.trim()
  let vcpus = 1
  if (vcpuText !== undefined) {
    if (!/^\d+$/.test(vcpuText) || Number(vcpuText) === 0) throw new VirError('XML_ERROR', 'maximum vcpus count must be an integer')
    vcpus = Number(vcpuText)
  }
  const os = child(root, 'os')
  const osType = os && child(os, 'type')
  if (!osType || !osType.text.trim()) throw new VirError('XML_ERROR', 'an os <type> must be specified')
  if (osType.text.trim() !== 'hvm') throw new VirError('CONFIG_UNSUPPORTED', `Emulator '${EMULATOR}' does not support os type '${osType.text.trim()}'`)
  const arch = osType.attrs.arch ?? 's390x'
  if (arch !== 's390x') throw new VirError('INVALID_ARG', `could not find capabilities for arch=${arch} domaintype=${type}`)
  const wanted = osType.attrs.machine ?? 's390-ccw-virtio'
  const machine = canonicalMachine(wanted)
  if (machine === null) throw new VirError('CONFIG_UNSUPPORTED', `Emulator '${EMULATOR}' does not support machine type '${wanted}'`)
  const cpu = parseCpu(child(root, 'cpu'))
  const devices = child(root, 'devices')
  const hostdevs: HostdevDef[] = []
  const otherDevices: Out[] = []
  for (const d of devices?.children ?? []) {
    if (d.name === 'emulator') continue
    if (d.name === 'memballoon' || d.name === 'panic') continue
    const h = d.name === 'hostdev' ? parseHostdev(d) : null
    if (h) hostdevs.push(h)
    else otherDevices.push(stripLive(fromParsed(d)))
  }
  validateHostdevs(hostdevs)
  const action = (tag: string, dflt: string): string => child(root, tag)?.text.trim() || dflt
  return {
    type,
    name,
    uuid,
    memory,
    currentMemory: current === undefined || current > memory ? memory : current,
    vcpus,
    machine,
    cpu,
    onPoweroff: action('on_poweroff', 'destroy'),
    onReboot: action('on_reboot', 'restart'),
    onCrash: action('on_crash', 'destroy'),
    ...(title !== undefined ? {title} : {}),
    ...(description !== undefined ? {description} : {}),
    hostdevs,
    otherDevices,
  }
}

/** A device element as a definition keeps it: without the alias only a running domain has. */
function stripLive(o: Out): Out {
  return {...o, ...(o.children ? {children: o.children.filter((c) => c.name !== 'alias').map(stripLive)} : {})}
}

/** The <hostdev> element of an attach-device/detach-device file (VIR_DOMAIN_DEF_PARSE_INACTIVE). */
export function parseDeviceXml(text: string): HostdevDef {
  const root = parseXml(text, '(device_definition)' satisfies XmlContext)
  if (root.name !== 'hostdev') throw new VirError('CONFIG_UNSUPPORTED', `aplab models hostdev devices only, not <${root.name}>`)
  const h = parseHostdev(root)
  if (!h) throw new VirError('CONFIG_UNSUPPORTED', "aplab models hostdev devices of type 'mdev' and model 'vfio-ap' only")
  return h
}

// ---------------------------------------------------------------------------
// Formatting (virDomainDefFormat)

function cpuOut(c: CpuDef): Out {
  const feats = c.features.map((f) => el('feature', [['policy', f.policy], ['name', f.name]]))
  if (c.mode === 'host-passthrough' || c.mode === 'maximum') return el('cpu', [['mode', c.mode], ['check', 'none'], ['migratable', 'on']], feats)
  if (c.mode === 'host-model') return el('cpu', [['mode', 'host-model'], ['check', 'partial']], feats)
  return el('cpu', [['mode', 'custom'], ['match', 'exact'], ['check', 'partial']], [textEl('model', c.model ?? '', [['fallback', 'allow']]), ...feats])
}

function hostdevOut(h: HostdevDef, live: boolean): Out {
  return el('hostdev', [['mode', 'subsystem'], ['type', 'mdev'], ['managed', h.managed ? 'yes' : 'no'], ['model', 'vfio-ap']], [
    el('source', [], [el('address', [['uuid', h.uuid]])]),
    ...(live && h.alias !== undefined ? [el('alias', [['name', h.alias]])] : []),
  ])
}

/** <title>/<description>: the text as virBufferEscapeString writes it (quotes escaped, control characters but tab and newlines dropped). */
const metaText = (name: string, text: string): Out => ({name, text: escapeString(text), rawText: true})

/** The XML `virsh dumpxml` prints: the live definition with the domain's id, or the inactive one. */
export function formatDomain(d: DomainDef, live: {id: number} | null): string {
  const isLive = live !== null
  return formatXml(
    el('domain', [['type', d.type], ['id', live?.id]], [
      textEl('name', d.name),
      textEl('uuid', d.uuid),
      ...(d.title !== undefined ? [metaText('title', d.title)] : []),
      ...(d.description !== undefined ? [metaText('description', d.description)] : []),
      textEl('memory', d.memory, [['unit', 'KiB']]),
      textEl('currentMemory', d.currentMemory, [['unit', 'KiB']]),
      textEl('vcpu', d.vcpus, [['placement', 'static']]),
      ...(isLive ? [el('resource', [], [textEl('partition', '/machine')])] : []),
      el('os', [], [textEl('type', 'hvm', [['arch', 's390x'], ['machine', d.machine]]), el('boot', [['dev', 'hd']])]),
      cpuOut(d.cpu),
      el('clock', [['offset', 'utc']]),
      textEl('on_poweroff', d.onPoweroff),
      textEl('on_reboot', d.onReboot),
      textEl('on_crash', d.onCrash),
      el('devices', [], [
        textEl('emulator', EMULATOR),
        ...d.otherDevices,
        ...d.hostdevs.map((h) => hostdevOut(h, isLive)),
        el('memballoon', [['model', 'virtio']], [
          ...(isLive ? [el('alias', [['name', 'balloon0']])] : []),
          el('address', [['type', 'ccw'], ['cssid', '0xfe'], ['ssid', '0x0'], ['devno', '0x0000']]),
        ]),
        el('panic', [['model', 's390']]),
      ]),
    ]),
  )
}

/** A stored definition read back (it was written by formatDomain, so it parses). */
export function readStored(xml: string): DomainDef {
  const d = parseDomainXml(xml, {
    newUuid: () => {
      throw new VirError('INTERNAL_ERROR', 'stored definition without uuid')
    },
  })
  // Aliases of the live definition.
  const root = parseXml(xml, '(domain_definition)')
  const hd = children(child(root, 'devices')!, 'hostdev')
  d.hostdevs.forEach((h, i) => {
    const a = hd[i] && child(hd[i], 'alias')?.attrs.name
    if (a) h.alias = a
  })
  return d
}

// ---------------------------------------------------------------------------
// The QEMU command line (qemu_command.c)

/** The sysfsdev libvirt gives QEMU for an mdev (virMediatedDeviceGetSysfsPath). */
export const mdevSysfsPath = (uuid: string): string => `/sys/bus/mdev/devices/${uuid}`

/** The JSON -device argument of a vfio-ap hostdev (qemuBuildHostdevMediatedDevProps). */
export const vfioApDeviceJson = (alias: string, uuid: string): string => JSON.stringify({driver: 'vfio-ap', id: alias, sysfsdev: mdevSysfsPath(uuid)})

function cpuArg(c: CpuDef): string {
  const model = c.mode === 'custom' ? (c.model ?? '') : c.mode === 'maximum' ? 'max' : 'host'
  const props = c.features.flatMap((f) => (f.policy === 'optional' ? [] : [`${f.name}=${f.policy === 'require' || f.policy === 'force' ? 'on' : 'off'}`]))
  return [model, ...props].join(',')
}

/**
 * The arguments libvirt runs qemu-system-s390x with (after the program
 * name), the hostdevs given their aliases hostdev0, hostdev1, ...
 */
export function qemuCommandLine(d: DomainDef): string[] {
  return [
    '-name',
    `guest=${d.name},debug-threads=on`,
    '-machine',
    `${d.machine},usb=off,dump-guest-core=off`,
    '-accel',
    d.type === 'kvm' ? 'kvm' : 'tcg',
    '-cpu',
    cpuArg(d.cpu),
    '-m',
    `size=${d.memory}k`,
    '-smp',
    `${d.vcpus},sockets=${d.vcpus},cores=1,threads=1`,
    '-uuid',
    d.uuid,
    '-no-user-config',
    '-nodefaults',
    ...d.hostdevs.flatMap((h, i) => ['-device', vfioApDeviceJson(h.alias ?? `hostdev${i}`, h.uuid)]),
    '-device',
    JSON.stringify({driver: 'virtio-balloon-ccw', id: 'balloon0', devno: 'fe.0.0000'}),
  ]
}
