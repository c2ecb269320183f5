// What qemu-system-s390x (QEMU 10.1) makes of the parts of its command line
// that matter for AP pass-through: -name, -cpu with the AP features, and
// -device vfio-ap. Other options are consumed quietly. The texts are QEMU's.

import {ToolExit} from '../core/errors.js'
import {AP_FEATURES, type ApFeature} from '../core/model.js'

export const QEMU = 'qemu-system-s390x'

/** CPU models QEMU knows for s390x and the generation each belongs to. */
const MODELS: Record<string, number> = {
  z900: 7, 'z900.2': 7, 'z900.3': 7, z800: 7, z990: 8, 'z990.2': 8, 'z990.3': 8, z890: 8, 'z990.4': 8, 'z890.2': 8, 'z990.5': 8, 'z890.3': 8,
  z9EC: 9, 'z9EC.2': 9, z9BC: 9, 'z9EC.3': 9, 'z9BC.2': 9, z10EC: 10, 'z10EC.2': 10, z10BC: 10, 'z10EC.3': 10, 'z10BC.2': 10,
  z196: 11, 'z196.2': 11, z114: 11, zEC12: 12, 'zEC12.2': 12, zBC12: 12, z13: 13, 'z13.2': 13, z13s: 13, z14: 14, 'z14.2': 14, z14ZR1: 14,
  gen15a: 15, gen15b: 15, gen16a: 16, gen16b: 16, gen17a: 17, gen17b: 17,
}

/** The generation from which the AP features exist (zEC12, full_GEN12_GA1). */
const AP_GENERATION = 12

/** QEMU options that take an argument (qemu-options.hx), so that their argument is skipped. */
const WITH_ARG = new Set(
  ('M machine cpu accel smp m mem-path numa add-fd set global boot k audiodev audio device name uuid fda fdb hda hdb hdc hdd cdrom blockdev drive ' +
    'mtdblock sd snapshot-never fsdev virtfs iscsi usbdevice display vga spice chardev serial parallel monitor qmp qmp-pretty mon debugcon pidfile ' +
    'L bios kernel append initrd dtb netdev nic net object incoming loadvm D d trace plugin icount rtc runas chroot sandbox readconfig ' +
    'msg action overcommit smbios fw_cfg fwcfg g option-rom semihosting-config watchdog-action echr virtioconsole gdb s390-pv tpmdev compat ' +
    'iothread run-with').split(' '),
)

export interface QemuDevice {
  driver: string
  props: Record<string, string>
  /** The option as given, for QEMU's `-device ...:` message prefix. */
  text: string
}

export interface ParsedQemu {
  name?: string
  cpuModel: string
  features: Record<ApFeature, boolean>
  devices: QemuDevice[]
  warnings: string[]
}

const fail = (msg: string): never => {
  throw new ToolExit(`${QEMU}: ${msg}\n`, 1)
}

/** QEMU's key=value option syntax: `,,` is a literal comma; the first bare word is the implied key. */
export function splitOpts(text: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = []
  let cur = ''
  const words: string[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') {
      cur += ','
      i++
    } else if (text[i] === ',') {
      words.push(cur)
      cur = ''
    } else cur += text[i]
  }
  words.push(cur)
  for (const w of words) {
    const eq = w.indexOf('=')
    out.push(eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)])
  }
  return out
}

function onOff(name: string, v: string | undefined): boolean {
  if (v === undefined || v === 'on' || v === 'true' || v === 'yes') return true
  if (v === 'off' || v === 'false' || v === 'no') return false
  return fail(`Parameter '${name}' expects 'on' or 'off'`)
}

export function parseDevice(text: string): QemuDevice {
  if (text.trimStart().startsWith('{')) {
    let o: unknown
    try {
      o = JSON.parse(text)
    } catch (e) {
      return fail(`-device ${text}: JSON parse error, ${(e as Error).message}`)
    }
    const props = Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
    const {driver, ...rest} = props
    if (!driver) fail(`-device ${text}: Parameter 'driver' is missing`)
    return {driver, props: rest, text}
  }
  const [[driver, dv], ...rest] = splitOpts(text)
  const props: Record<string, string> = {}
  for (const [k, v] of rest) props[k] = v ?? 'on'
  if (dv !== undefined) return {driver: props.driver ?? '', props: {[driver]: dv, ...props}, text}
  return {driver, props, text}
}

/** The mdev a sysfsdev path names: /sys/bus/mdev/devices/UUID, /sys/devices/vfio_ap/matrix/UUID, ... */
export function mdevUuid(path: string): string | null {
  const m = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/*$/.exec(path.replace(/^["']|["']$/g, ''))
  return m ? m[1].toLowerCase() : null
}

/**
 * Parse QEMU's arguments. `host` says which AP features the KVM host
 * offers (the `host` model takes them; asking for one it lacks fails).
 */
export function parseQemuArgs(argv: string[], host: Record<ApFeature, boolean>): ParsedQemu {
  let name: string | undefined
  let cpu: string | undefined
  const devices: QemuDevice[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('-') || a === '-') continue // the disk image of `qemu-system-s390x disk.img`
    const opt = a.replace(/^--?/, '')
    if (!WITH_ARG.has(opt)) {
      if (!/^[a-z][a-z0-9-]*$/.test(opt)) fail(`${a}: invalid option`)
      continue
    }
    const v = argv[++i]
    if (v === undefined) fail(`${a}: requires an argument`)
    if (opt === 'name') name = splitOpts(v).find(([k, x]) => x === undefined || k === 'guest')?.[1] ?? splitOpts(v)[0][0]
    else if (opt === 'cpu') cpu = v
    else if (opt === 'device') devices.push(parseDevice(v))
  }
  const [[model], ...feats] = splitOpts(cpu ?? 'host')
  const features: Record<ApFeature, boolean> = {ap: false, apqci: false, apft: false, apqi: false}
  const isHost = model === 'host' || model === 'max'
  const gen = MODELS[model.replace(/-base$/, '')]
  if (!isHost && gen === undefined) fail(`unable to find CPU model '${model}'`)
  if (isHost) Object.assign(features, host)
  const requested: ApFeature[] = []
  for (const [k, v] of feats) {
    if (!(AP_FEATURES as readonly string[]).includes(k)) {
      // Other CPU features are accepted as QEMU knows them; only the AP ones matter here.
      if (!/^[a-z][a-z0-9_-]*$/.test(k)) fail(`Property '${model}-s390x-cpu.${k}' not found`)
      continue
    }
    const on = onOff(k, v)
    const f = k as ApFeature
    if (on && !isHost && gen < AP_GENERATION) fail(`Feature '${f}' is not available for CPU model '${model}', it was introduced with later models.`)
    features[f] = on
    if (on) requested.push(f)
  }
  const missing = requested.filter((f) => isHost && !host[f])
  if (missing.length) fail(`Some features requested in the CPU model are not available in the configuration: ${missing.join(' ')}`)
  const warnings = (['apqci', 'apft', 'apqi'] as const).filter((f) => features[f] && !features.ap).map((f) => `${QEMU}: warning: '${f}' requires 'ap'.\n`)
  return {name, cpuModel: model, features, devices, warnings}
}

// --- messages of device realize, the monitor and migration ---------------------

export const noApBus = (): string => `No 'ap-bus' bus found for device 'vfio-ap'`
export const noSuchHostDevice = (sysfsdev: string): string => `vfio ${sysfsdev}: no such host device: No such file or directory`
/** The mdev's VFIO group is open in another QEMU; QEMU names the device by the basename of sysfsdev. */
export const deviceBusy = (sysfsdev: string, group: number): string =>
  `vfio ${sysfsdev.replace(/\/+$/, '').split('/').pop()}: Could not open '/dev/vfio/${group}': Device or resource busy`
export const noSuchId = (id: string): string => `Device '${id}' not found`
export const NOT_MIGRATABLE = `State blocked by non-migratable device '/1/vfio-ap'`
export const LIBVIRT_NOT_MIGRATABLE = `Operation not supported: cannot migrate a domain with <hostdev mode='subsystem' type='mdev'>`
