// The stored model: only what cannot be derived. Everything a tool shows
// (cards, queues, bindings, online states, masks) is computed from this.

import type {Mask} from './mask.js'

export type Mode = 'accel' | 'cca' | 'ep11'

/** QCI feature flags, in the order the kernel prints them. */
export const QCI_FEATURES = ['APSC', 'APXA', 'QACT', 'RC8A', 'APSB'] as const
export type QciFeature = (typeof QCI_FEATURES)[number]

/** One crypto adapter of the LPAR, as the machine (SE/HMC) configures it. */
export interface Adapter {
  id: number
  /** Crypto Express generation 4..8 (hwtype 10..14). */
  gen: number
  mode: Mode
  /** raw_hwtype when the hardware is newer than CEX8 (mapped to 14 via QACT). */
  rawType?: number
  /** ap_functions override; default derived from generation and mode. */
  functions?: number
  depth: number
  maxMsgSize: number
  serial?: string
  /** SCLP configured (`config` reads 1). Deconfigured adapters keep their card. */
  configured: boolean
  checkstopped: boolean
  /** EP11 card information (API_ordinalnr, FW_version, op_modes); unknown when unset. */
  ep11?: {api?: number; fw?: string; opModes?: string}
}

/** Per-queue firmware state that is not derived (master keys, SE state). */
export interface QueueHw {
  /** TAPQ ap_functions of this queue when it differs from the card's. */
  functions?: number
  /** CCA current master key verification patterns (AES/APKA 16 hex, ASYM 32 hex). */
  mk?: {aes?: string; apka?: string; asym?: string}
  /** EP11 current wrapping key verification pattern (64 hex). */
  wk?: string
  /** SE association index once associated. */
  assoc?: number
}

/** What the machine gives the LPAR: its AP configuration (QCI) and facilities. */
export interface Lpar {
  /** QCI (AP facility 12) available. */
  qci: boolean
  features: QciFeature[]
  /** QCI Na and Nd: highest adapter and domain number (with APXA). */
  na: number
  nd: number
  /** AP queue interruption facility (65). */
  airq: boolean
  adapters: Adapter[]
  usage: Mask
  control: Mask
  queues: Record<string, QueueHw>
  /**
   * False where SCLP cannot configure or deconfigure adapters: a KVM guest,
   * whose SCLP (QEMU's) has no AP reconfiguration facility. Derived, never
   * stored; an LPAR can.
   */
  apReconfig?: false
}

/** What survives a reboot: the kernel command line and files under /etc. */
export interface Persistent {
  cmdline: string
  files: Record<string, string>
}

export interface QueueCounters {
  requests?: number
  requestq?: number
  pendingq?: number
}

/** A vfio_ap mediated device: what was assigned, and the shadow APCB a guest gets. */
export interface Mdev {
  uuid: string
  apm: Mask
  aqm: Mask
  adm: Mask
  /**
   * The shadow APCB (guest_matrix). Kept, not derived: the kernel refilters
   * only on some events (an unassign does not), so it depends on history.
   */
  shadow: {apm: Mask; aqm: Mask; adm: Mask}
  /** The IOMMU group vfio gave the device. */
  group: number
}

/**
 * One kernel log record: `t` is microseconds since boot, `level` syslog's
 * priority (0 emerg .. 7 debug, the printk's), `facility` syslog's (0 kern).
 */
export interface LogLine {
  t: number
  level: number
  facility: number
  msg: string
}

/** The running kernel's AP state that is not derived. */
export interface Runtime {
  /** The command line the running kernel booted with (/proc/cmdline). */
  cmdline: string
  apmask: Mask
  aqmask: Mask
  domain: number
  configTime: number
  pollThread: boolean
  pollTimeout: number
  useirq: boolean
  scans: number
  /** Loaded modules beyond the always-present ap/zcrypt ones (e.g. vfio_ap). */
  modules: string[]
  /** Devices (cardXX, XX.YYYY) whose online flag was cleared. */
  offline: string[]
  /** Devices explicitly unbound from the driver that would take them. */
  unbound: string[]
  counters: Record<string, QueueCounters>
  mdevs: Mdev[]
  /** The CCW device blacklist (/proc/cio_ignore): ranges of ssid * 65536 + devno. */
  cioIgnore: Array<[number, number]>
  /** When the host booted (ms since the epoch), for log timestamps. */
  bootTime: number
  dmesg: LogLine[]
}

export type ApFeature = 'ap' | 'apqci' | 'apft' | 'apqi'
export const AP_FEATURES: readonly ApFeature[] = ['ap', 'apqci', 'apft', 'apqi']

/** The vfio-ap device of a guest: the QEMU device id and the mdev it opened. */
export interface GuestDevice {
  id: string
  uuid: string
  /** The sysfsdev path as given. */
  sysfsdev: string
}

/**
 * A KVM guest: how it was started (QEMU's arguments and what they mean for
 * AP), the vfio-ap device it holds, and its own kernel's AP state. What it
 * sees of the host's queues is derived from the mdev's shadow APCB.
 */
export interface Guest {
  name: string
  /** Started by libvirt (a domain) or by hand with qemu-system-s390x. */
  managed: 'qemu' | 'libvirt'
  /** Started again when the host boots. */
  autostart: boolean
  running: boolean
  /**
   * While it runs, a QEMU run state other than running: prelaunch (started
   * with -S, or reset while not running: its CPUs have not run, so it has no
   * kernel yet) or paused (stopped by the monitor's `stop`: its kernel is
   * kept and runs nothing). Absent while the CPUs run.
   */
  runState?: 'prelaunch' | 'paused'
  /** The QEMU arguments it was started with (for a restart). */
  args: string[]
  cpuModel: string
  features: Record<ApFeature, boolean>
  device: GuestDevice | null
  /** The guest kernel's AP bus state (its masks, online states, ...). */
  runtime: Runtime
  /**
   * The qemu-system-s390x drop-in process that runs it (pid, start time from
   * /proc/PID/stat field 22, boot id, host name), or none (aplab guest start):
   * when that process is gone, the guest has ended.
   */
  process?: GuestProcess
}

/** A process as the state's lock records its owner (src/state/lock.ts Owner). */
export interface GuestProcess {
  pid: number
  start?: string
  boot?: string
  host: string
}

/**
 * A libvirt domain of the host's QEMU driver: its persistent definition
 * (libvirt's /etc/libvirt/qemu/NAME.xml, null for a transient domain) and,
 * while it runs, the id and the definition it was started with. The QEMU
 * process itself is the guest of the same name (managed: 'libvirt').
 */
export interface LibvirtDomain {
  name: string
  uuid: string
  config: string | null
  autostart: boolean
  /** `seq` counts the QMP commands libvirt sent it (their ids are libvirt-N). */
  live: {id: number; xml: string; seq?: number} | null
  /** Why it is in its state (virsh domstate --reason). */
  reason: string
}

/** What libvirtd keeps on the host. */
export interface Libvirt {
  domains: LibvirtDomain[]
  /** The id the next started domain gets (libvirtd never reuses ids while it runs). */
  nextId: number
}

export interface Host {
  name: string
  lpar: Lpar
  persistent: Persistent
  runtime: Runtime
  guests: Guest[]
  /** libvirt's domains; absent until virsh is first used on the host. */
  libvirt?: Libvirt
}

export interface World {
  current: string
  hosts: Host[]
}

export const cardName = (apid: number): string => 'card' + hex2(apid)
export const queueName = (apid: number, apqi: number): string => `${hex2(apid)}.${hex4(apqi)}`
export const hex2 = (n: number): string => n.toString(16).padStart(2, '0')
export const hex4 = (n: number): string => n.toString(16).padStart(4, '0')
/** IDs as aplab's views and messages write them: adapters 0x05, domains 0x0004. */
export const adapterId = (n: number): string => '0x' + hex2(n)
export const domainId = (n: number): string => '0x' + hex4(n)

export const HOST_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
