// The parts chzdev and lszdev (s390-tools 2.43.0, zdev/) share: message
// helpers and the delayed-message queue of misc.c, option conflict checks
// (opts.c), the device type registry, device ID namespaces, settings
// (setting.c), tables (table.c), the export file format (export.c) and the
// `ap` device type (ap.c with libap): the apmask/aqmask settings, the udev
// rule /etc/udev/rules.d/41-ap.rules and the conflict checks against vfio_ap
// mediated devices. Behaviour follows chzdev-ap.md and the C sources.
//
// The ap config lock (/run/lock/s390apconfig.lock) is not modelled, as in
// apcheck.ts: aplab runs one command at a time, so every lock succeeds.

import {ERRNO, KernelError} from '../core/errors.js'
import {type OptDef, getoptLong, optName} from './getopt.js'
import {Crash, Stdio, byteOrder, coreDumpsOff, scanHex, strtol, strtolLong} from './libc.js'
import {type JsoArray, arrayLength, getString, jsoncParse, objectEntries, objectGetEx} from './jsonc.js'
import type {Fs} from './sys.js'
import {S390_TOOLS_VERSION} from './usage.js'

// --- the process ---------------------------------------------------------------------------------

/** What chzdev/lszdev take from their process and from the caller's file system. */
export interface ZdevContext {
  /** argv[0] as typed: the prefix of error() and syntax() messages and of --version. */
  prog: string
  /** program_invocation_short_name, the prefix of warnx(); default: the basename of prog. */
  shortName?: string
  /** uname nodename, for the export file header. */
  nodename: string
  /** stdout is a terminal: line-buffered; otherwise fully buffered (lost on abort). */
  stdoutIsTTY?: boolean
  /** Read a file of the caller (--import FILE); throws a Node-style error with `code`. */
  readFile: (path: string) => string
  /** Create/truncate and write a file of the caller (--export FILE); throws like readFile. */
  writeFile: (path: string, text: string) => void
  /** Standard input, for --import -; null or absent when closed. */
  stdin?: string | null
  /** SYSFS_ROOT as libutil reads it (default /sys): reads of sysfs go there, writes use --base. */
  sysfsRoot?: string
  /** POSIXLY_CORRECT is set: getopt stops at the first operand. */
  posixlyCorrect?: boolean
  /** The core size limit is 0 (util_assert's banner says so); default: this process's limit. */
  coreDumpsOff?: boolean
}

export const SIGSEGV = (): never => {
  throw new Crash(139)
}

/**
 * util_assert in libap's ap.c (its 2.43.0 line numbers): libutil's banner
 * on stderr, then abort(). The backtrace's entries (addresses of the real
 * binary) are left out; the core size note follows this process's limit.
 */
export function utilAssert(ok: boolean, assertion: string, func: string, line: number, message: string): void {
  if (ok) return
  throw new Crash(
    134,
    (env) =>
      '---8<-------------------------------------------------------------------------\n' +
      'ASSERTION FAILED: The application terminated due to an internal or OS error\n\n' +
      'The following assumption was *not* true:\n\n' +
      `  ${assertion}\n\nError string:\n\n  ${message}\nLocation:\n\n  ap.c:${line}: ${func}()\n\nBacktrace:\n\n\n` +
      (env.coreDumpsOff ? "Core dump size is zero. To get a full core dump use 'ulimit -c unlimited'.\n" : '') +
      '----------------------------------------------------------------------->8-----\n',
  )
}

/** glibc strerror for an errno name, a KernelError or a Node error. */
export function errText(e: unknown): string {
  const code = e instanceof KernelError ? e.errno : ((e as NodeJS.ErrnoException | null)?.code ?? '')
  const known: Record<string, string> = {
    ...Object.fromEntries(Object.entries(ERRNO).map(([k, v]) => [k, v[1]])),
    ENOSPC: 'No space left on device',
    EROFS: 'Read-only file system',
    ELOOP: 'Too many levels of symbolic links',
    ENAMETOOLONG: 'File name too long',
  }
  return known[code] ?? 'Input/output error'
}

/** Program exit codes (exit_code.h). */
export const EXIT = {
  OK: 0,
  USAGE_ERROR: 1,
  UNKNOWN_DEVTYPE: 2,
  DEVICE_NOT_FOUND: 3,
  ATTRIB_NOT_FOUND: 4,
  INVALID_DEVTYPE: 5,
  INVALID_SETTING: 6,
  SETTING_NOT_FOUND: 7,
  EMPTY_SELECTION: 8,
  INVALID_CONFIG: 9,
  INVALID_ID: 10,
  INCOMPLETE_ID: 11,
  NO_DATA: 12,
  UNKNOWN_COLUMN: 13,
  INCOMPLETE_TYPE: 14,
  RUNTIME_ERROR: 15,
  ABORTED: 16,
  SETTING_FAILED: 17,
  FORMAT_ERROR: 18,
  MOD_BUSY: 19,
  MOD_UNLOAD_FAILED: 20,
  MOD_LOAD_FAILED: 21,
  OUT_OF_MEMORY: 22,
  ZFCP_FCP_NOT_FOUND: 23,
  INTERNAL_ERROR: 99,
} as const

const EXIT_TEXT: Record<number, string> = {
  0: 'Program finished successfully',
  1: 'Usage error',
  2: 'Unknown device type specified',
  3: 'Device not found',
  4: 'Unknown attribute specified',
  5: 'Invalid device type specified',
  6: 'Invalid attribute value specified',
  7: 'Setting not found',
  8: 'Empty selection',
  9: 'Invalid configuration',
  10: 'Invalid device ID specified',
  11: 'Incomplete device ID specified',
  12: 'Configuration data not found',
  13: 'Unknown column specified',
  14: 'None or incomplete type specified',
  15: 'A run-time error occurred',
  16: 'Operation aborted on user request',
  17: 'Error while applying setting',
  18: 'File format error',
  19: 'Kernel module is in use',
  20: 'Kernel module could not be unloaded',
  21: 'Kernel module could not be loaded',
  22: 'Not enough available memory',
  23: 'FCP device not found',
  99: 'An internal error occurred',
}

export const exitCodeToStr = (rc: number): string => EXIT_TEXT[rc] ?? 'An unknown error occurred'

/** The messages of misc.c: info/verb (stdout, or stderr when stdout carries data), warn, error, syntax, the delayed queue. */
export class ZOut {
  readonly std: Stdio
  quiet = false
  verbose = false
  force = false
  stdoutData = false
  foundForceable = false
  delayedErrors = 0
  private delayed: string[] = []

  constructor(
    readonly prog: string,
    readonly shortName: string,
    tty: boolean,
  ) {
    this.std = new Stdio(tty)
  }

  out(s: string): void {
    this.std.out(s)
  }

  err(s: string): void {
    this.std.err(s)
  }

  /** warn(): stderr without a prefix. */
  warn(s: string): void {
    this.err(s)
  }

  info(s: string): void {
    if (this.quiet) return
    if (this.stdoutData) this.err(s)
    else this.out(s)
  }

  verb(s: string): void {
    if (!this.verbose) return
    if (this.stdoutData) this.err(s)
    else this.out(s)
  }

  error(s: string): void {
    this.err(`${this.prog}: ${s}`)
  }

  syntax(s: string): void {
    this.err(`${this.prog}: ${s}Use '${this.prog} --help' for more information\n`)
  }

  warnx(s: string): void {
    this.err(`${this.shortName}: ${s}\n`)
  }

  delayedErr(s: string): void {
    this.delayedErrors++
    this.delayed.push(`Error: ${s}`)
  }

  delayedWarn(s: string): void {
    this.delayed.push(`Warning: ${s}`)
  }

  delayedInfo(s: string): void {
    if (!this.quiet) this.delayed.push(s)
  }

  delayedForceable(s: string): void {
    this.foundForceable = true
    this.delayedErrors++
    const msg = s.endsWith('\n') ? s.slice(0, -1) : s
    this.delayed.push(`${this.force ? 'Warning:' : 'Error:'} ${msg}${this.force ? '' : ' (*)'}\n`)
  }

  delayedAvailable(): boolean {
    return this.delayed.length > 0
  }

  delayedPrint(indent: number): void {
    const pad = ' '.repeat(indent)
    for (const s of this.delayed.splice(0)) {
      if (s.startsWith('Warning:') || s.startsWith('Error:')) this.err(pad + s)
      else this.info(pad + s)
    }
    this.delayedErrors = 0
  }

  /** indent(): each line of `text` printed with `i` blanks, empty lines as they are. */
  indent(i: number, text: string): void {
    const parts = text.split('\n')
    if (parts[parts.length - 1] === '') parts.pop()
    for (const p of parts) this.out(p === '' ? '\n' : ' '.repeat(i) + p + '\n')
  }
}

/**
 * Run a tool main against a private stdio and hand the output to `io` in
 * the order it reaches the file descriptors. A crash ends the process: its
 * message goes to stderr, whatever stdout still buffers is dropped, and
 * `io.killedBy` names the signal (the exit code is the shell's 128 + n).
 */
export function runZdevTool(io: Stdio, ctx: ZdevContext, main: (o: ZOut) => number): number {
  const prog = ctx.prog
  const shortName = ctx.shortName ?? prog.slice(prog.lastIndexOf('/') + 1)
  const o = new ZOut(prog, shortName, ctx.stdoutIsTTY ?? false)
  let code: number
  let crashed = false
  try {
    code = main(o)
  } catch (e) {
    if (!(e instanceof Crash)) throw e
    o.err(e.stderr({prog: shortName, coreDumpsOff: ctx.coreDumpsOff ?? coreDumpsOff()}))
    code = e.code
    crashed = true
    io.killedBy = e.signal
  }
  const pending = ctx.stdoutIsTTY ? 0 : o.std.stdout.length % 4096
  const chunks = o.std.drain()
  if (crashed && pending > 0) chunks.pop()
  for (const c of chunks) {
    if (c.fd === 1) io.out(c.text)
    else io.err(c.text)
  }
  return code
}

export const versionText = (prog: string): string => `${prog} version ${S390_TOOLS_VERSION}\n`

// --- options (getopt_long with opterr = 0, and opts.c) ---------------------------------------------

export interface ZOpt {
  long: string
  short?: string
  arg: 'none' | 'required'
  /** The option's value for long-only options (0x80 + n): getopt's optopt for `--opt=arg` of a no-argument option. */
  code?: number
}

/** The device selection options at the head of both tools' opt_list (OPT_ANONYMOUS_BASE 0x80 on). */
export const SELECTION_OPTS: readonly ZOpt[] = [
  {long: 'all', arg: 'none', code: 0x80},
  {long: 'configured', arg: 'none', code: 0x81},
  {long: 'existing', arg: 'none', code: 0x82},
  {long: 'online', arg: 'none', code: 0x83},
  {long: 'offline', arg: 'none', code: 0x84},
  {long: 'failed', arg: 'none', code: 0x85},
  {long: 'ipldev', arg: 'none', code: 0x86},
  {long: 'by-path', arg: 'required', code: 0x87},
  {long: 'by-node', arg: 'required', code: 0x88},
  {long: 'by-interface', arg: 'required', code: 0x89},
  {long: 'by-attrib', arg: 'required', code: 0x8a},
]

export type ZEvent = {kind: 'opt'; name: string; arg?: string} | {kind: 'error'; rc: number}

/**
 * getopt_long over `opts` with zdev's messages for unknown options and
 * missing arguments (syntax(), exit code 1).
 */
export function* zdevGetopt(argv: string[], opts: ZOpt[], o: ZOut, ctx: ZdevContext, operands: string[]): Generator<ZEvent> {
  const defs: OptDef[] = opts.map((d) => ({key: d.long, short: d.short, long: d.long, arg: d.arg, val: d.code}))
  const g = getoptLong(argv, defs, ctx.posixlyCorrect ?? false)
  for (const ev of g.events) {
    if (ev.kind === 'opt') {
      yield {kind: 'opt', name: ev.key, arg: ev.arg}
      continue
    }
    if (ev.kind === 'missing') {
      o.syntax(`Option '${ev.word}' requires an argument\n`)
      yield {kind: 'error', rc: EXIT.USAGE_ERROR}
      return
    }
    // `--opt=arg` of a no-argument long-only option: optopt is the option's value, printed as a byte.
    o.syntax(`Unrecognized option '${optName(ev)}'\n`)
    yield {kind: 'error', rc: EXIT.USAGE_ERROR}
    return
  }
  operands.push(...g.operands)
}

/** opts_check_conflict: the first conflict of `op` with an option given before it. */
export function checkConflict(op: string, specified: Set<string>, conflicts: Array<[string, string[]]>, o: ZOut): number {
  for (const [cop, list] of conflicts) {
    for (const c of list) {
      let b: string | null = null
      if (cop === op && specified.has(c)) b = c
      else if (c === op && specified.has(cop)) b = cop
      if (b !== null) {
        o.error(`Cannot specify '--${op}' together with '--${b}'\n`)
        return EXIT.USAGE_ERROR
      }
    }
  }
  return EXIT.OK
}

/** is_valid_site: a single digit 0..9. */
export const isValidSite = (s: string): boolean => /^[0-9]$/.test(s)

// --- configuration sets ------------------------------------------------------------------------------

export const CONFIG_ACTIVE = 1
export const CONFIG_PERSISTENT = 2
export const CONFIG_AUTOCONF = 4
export const CONFIG_ALL = 7
export const SITE_FALLBACK = 10

export const scopeActive = (c: number): boolean => (c & CONFIG_ACTIVE) !== 0
export const scopePersistent = (c: number): boolean => (c & CONFIG_PERSISTENT) !== 0
export const scopeAutoconf = (c: number): boolean => (c & CONFIG_AUTOCONF) !== 0
export const scopeSingle = (c: number): boolean => c === CONFIG_ACTIVE || c === CONFIG_PERSISTENT || c === CONFIG_AUTOCONF

export const getConfig = (active: boolean, persistent: boolean, autoconf: boolean): number =>
  (active ? CONFIG_ACTIVE : 0) | (persistent ? CONFIG_PERSISTENT : 0) | (autoconf ? CONFIG_AUTOCONF : 0)

export function configToStr(c: number): string {
  if (c === CONFIG_ACTIVE) return 'active'
  if (c === CONFIG_PERSISTENT) return 'persistent'
  if (c === CONFIG_AUTOCONF) return 'autoconf'
  if (c === CONFIG_ALL) return 'all'
  return 'multiple'
}

function strToConfig(s: string): number | null {
  const l = s.toLowerCase()
  if (l === 'active') return CONFIG_ACTIVE
  if (l === 'persistent') return CONFIG_PERSISTENT
  if (l === 'autoconf') return CONFIG_AUTOCONF
  if (l === 'all') return CONFIG_ALL
  return null
}

// --- attributes and settings (attrib.h, setting.c) --------------------------------------------------

export interface Attrib {
  name: string
  title: string
  desc: string
  defval?: string
  rewrite?: boolean
  activerem?: boolean
  mandatory?: boolean
  activeonly?: boolean
  multi?: boolean
  readonly?: boolean
}

export interface Setting {
  name: string
  attrib: Attrib | null
  value: string
  modified: boolean
  specified: boolean
  removed: boolean
  derived: boolean
}

export class SettingList {
  readonly items: Setting[] = []

  find(name: string): Setting | undefined {
    return this.items.find((s) => s.name === name)
  }

  copy(): SettingList {
    const l = new SettingList()
    for (const s of this.items) l.items.push({...s, specified: false, derived: false})
    return l
  }

  modified(): boolean {
    return this.items.some((s) => s.modified)
  }

  countSet(): number {
    return this.items.filter(isSet).length
  }

  /** setting_list_apply_specified: the user's KEY=VALUE. */
  applySpecified(attrib: Attrib | null, name: string, value: string): Setting {
    const s = this.apply(attrib, name, value)
    s.specified = true
    return s
  }

  /** setting_list_apply: modify an existing setting or add a modified one. */
  apply(attrib: Attrib | null, name: string, value: string): Setting {
    const s = this.find(name)
    if (s) {
      // A rewrite of the same value is no change.
      if (!(!s.derived && s.attrib && !s.attrib.rewrite && s.value === value)) {
        s.value = value
        s.modified = true
        s.removed = false
      }
      return s
    }
    const n: Setting = {name, attrib, value, modified: true, specified: false, removed: false, derived: false}
    this.items.push(n)
    return n
  }

  /** A setting read from the configuration: not modified. */
  addRead(attrib: Attrib | null, name: string, value: string): void {
    this.items.push({name, attrib, value, modified: false, specified: false, removed: false, derived: false})
  }
}

export const isSet = (s: Setting): boolean => !s.removed && (s.modified || !s.derived)

/** setting_get_changes: the persistent list first, then active entries not yet listed. */
export function settingChanges(act: SettingList | null, pers: SettingList | null): string | null {
  const out: string[] = []
  const done = new Set<string>()
  if (pers) {
    for (const s of pers.items) {
      if (s.removed) out.push(`-${s.name}`)
      else if (s.modified) out.push(`${s.name}=${s.value}`)
      else continue
      done.add(s.name)
    }
  }
  if (act) {
    for (const s of act.items) {
      if (!s.modified && !s.removed) continue
      if (done.has(s.name)) continue
      out.push(s.removed ? `-${s.name}` : `${s.name}=${s.value}`)
      done.add(s.name)
    }
  }
  return out.length ? out.join(' ') : null
}

// --- the device type registry (devtype.c and the type files) ----------------------------------------

export type NsName = 'ccw' | 'zfcp_lun' | 'qeth' | 'ctc' | 'ap'

export interface Subtype {
  name: string
  title: string
  devname: string
  modules: string[]
  ns: NsName
  definable: boolean
}

export interface Devtype {
  name: string
  title: string
  devname: string
  modules: string[]
  subtypes: Subtype[]
  typeAttribs: Attrib[]
  unknownTypeAttribs: boolean
  /** read_settings determines the active state from loaded modules (qeth, ctc, virtio). */
  activeFromModules: boolean
  /** Has module parameters read from /sys/module and /etc/modprobe.d (dasd, zfcp). */
  moduleParams?: string
}

const AP_APMASK: Attrib = {
  name: 'apmask',
  title: 'Configure Cryptographic Adapter ID availability',
  desc:
    'Specify the set of Cryptographic Adapters that will be available\n' +
    'for host usage.  Any bits not enabled for host usage indicate\n' +
    'adapters that are available for guest passthrough.\n' +
    'Input can be in the form of a comma-delimited list of adapters\n' +
    'such as:\n' +
    '  3,5-10,0x25\n' +
    'where the listed adapters are set for host usage and the unlisted\n' +
    'adapters are set for guest passthrough.  A range indicates that all\n' +
    'adapters in this range should be set for host usage.\n\n' +
    'Alternatively, this attribute can also be specified as a\n' +
    'comma-delimited list of changes to the current mask such as:\n' +
    '  +0-4,-0xf0\n' +
    "where each number or range preceded by a '+' will change the current\n" +
    'mask to set the specified adapters for host usage and each number\n' +
    "or range preceded by a '-' will set the specified adapters for guest\n" +
    'passthrough.\n' +
    'Adapters can be specified in both decimal and hexadecimal.',
}

const AP_AQMASK: Attrib = {
  name: 'aqmask',
  title: 'Configure Cryptographic Queue Index availability',
  desc:
    'Specify the set of Cryptographic Queue Indices that will be\n' +
    'available for host usage.  Any bits not enabled for host usage\n' +
    'indicate a queue index that is available for guest passthrough.\n' +
    'Input can be in the form of a comma-delimited list of indices\n' +
    'such as:\n' +
    '  3,5-10,0x25\n' +
    'where the listed queue indices are set for host usage and the\n' +
    'unlisted indices are set for guest passthrough.  A range indicates\n' +
    'that all indices in this range should be set for host usage.\n\n' +
    'Alternatively, this attribute can also be specified as a\n' +
    'comma-delimited list of changes to the current mask such as:\n' +
    '  +0-4,-0xf0\n' +
    "where each number or range preceded by a '+' will change the current\n" +
    'mask to set the specified indices for host usage and each number\n' +
    "or range preceded by a '-' will set the specified indices for guest\n" +
    'passthrough.\n' +
    'Queue indices can be specified in both decimal and hexadecimal.',
}

/** Type attributes of the other types: only the names matter to aplab (they are not configured here). */
const names = (...n: string[]): Attrib[] => n.map((name) => ({name, title: '', desc: ''}))

const ccwSt = (name: string, title: string, devname: string, modules: string[]): Subtype => ({name, title, devname, modules, ns: 'ccw', definable: false})

const VIRTIO: Array<[string, string, string]> = [
  ['9p', 'Virtual I/O 9p devices', '9pnet_virtio'],
  ['balloon', 'Virtual I/O balloon devices', 'virtio_balloon'],
  ['blk', 'Virtual I/O block devices', 'virtio_blk'],
  ['console', 'Virtual I/O console devices', 'virtio_console'],
  ['crypto', 'Virtual I/O crypto devices', 'virtio_crypto'],
  ['fs', 'Virtual I/O fs devices', 'virtio_fs'],
  ['gpu', 'Virtual I/O gpu devices', 'virtio_gpu'],
  ['input', 'Virtual I/O input devices', 'virtio_input'],
  ['mem', 'Virtual I/O memory devices', 'virtio_mem'],
  ['net', 'Virtual I/O network devices', 'virtio_net'],
  ['rng', 'Virtual I/O rng devices', 'virtio_rng'],
  ['rproc_serial', 'Virtual I/O rproc-serial devices', 'virtio_console'],
  ['scsi', 'Virtual I/O scsi devices', 'virtio_scsi'],
  ['vsock', 'Virtual I/O vsock devices', 'vmw_vsock_virtio_transport'],
  ['ccw', 'Virtual I/O devices (unknown subtype)', 'virtio_ccw'],
]

export const AP_SUBTYPE: Subtype = {name: 'ap', title: 'Cryptographic Adjunct Processor (AP) device', devname: 'AP device', modules: ['ap'], ns: 'ap', definable: false}

/** devtypes[] in devtype.c order (generic types last), as 2.43.0 has it: no lcs (removed in 2.42.0). */
export const DEVTYPES: Devtype[] = [
  {
    name: 'dasd',
    title: 'FICON-attached Direct Access Storage Devices (DASDs)',
    devname: 'DASD',
    modules: ['dasd_mod'],
    subtypes: [
      ccwSt('dasd-eckd', 'Enhanced Count Key Data (ECKD) DASDs', 'ECKD DASD', ['dasd_eckd_mod']),
      ccwSt('dasd-fba', 'Fixed Block Architecture (FBA) DASDs', 'FBA DASD', ['dasd_fba_mod']),
    ],
    typeAttribs: names('autodetect', 'probeonly', 'nopav', 'nofcx', 'eer_pages'),
    unknownTypeAttribs: false,
    activeFromModules: false,
    moduleParams: 'dasd_mod',
  },
  {
    name: 'zfcp',
    title: 'SCSI-over-Fibre Channel (FCP) devices and SCSI devices',
    devname: 'zFCP device',
    modules: ['zfcp'],
    subtypes: [
      ccwSt('zfcp-host', 'FCP devices', 'FCP device', ['zfcp']),
      {name: 'zfcp-lun', title: 'zfcp-attached SCSI devices', devname: 'zfcp-attached SCSI device', modules: ['zfcp'], ns: 'zfcp_lun', definable: true},
    ],
    typeAttribs: names(
      'dbfsize',
      'dbflevel',
      'queue_depth',
      'allow_lun_scan',
      'dif',
      'dix',
      'datarouter',
      'no_auto_port_rescan',
      'port_scan_ratelimit',
      'port_scan_backoff',
    ),
    unknownTypeAttribs: true,
    activeFromModules: false,
    moduleParams: 'zfcp',
  },
  {
    name: 'qeth',
    title: '',
    devname: 'QETH',
    modules: [],
    subtypes: [{name: 'qeth', title: 'OSA-Express and HiperSockets network devices', devname: 'QETH device', modules: ['qeth'], ns: 'qeth', definable: true}],
    typeAttribs: [],
    unknownTypeAttribs: false,
    activeFromModules: true,
  },
  {
    name: 'ctc',
    title: '',
    devname: 'CTC',
    modules: [],
    subtypes: [{name: 'ctc', title: 'Channel-To-Channel (CTC) and CTC-MPC network devices', devname: 'CTC device', modules: ['ctcm'], ns: 'ctc', definable: true}],
    typeAttribs: [],
    unknownTypeAttribs: false,
    activeFromModules: true,
  },
  {
    name: 'ap',
    title: '',
    devname: 'AP',
    modules: [],
    subtypes: [AP_SUBTYPE],
    typeAttribs: [AP_APMASK, AP_AQMASK],
    unknownTypeAttribs: false,
    activeFromModules: false,
  },
  {
    name: 'virtio',
    title: 'Virtual I/O (virtio) Channel-Command-Word devices',
    devname: 'Virtual I/O',
    modules: [],
    subtypes: VIRTIO.map(([n, title, mod]) => ccwSt(`virtio-${n}`, title, 'Virtual I/O device', [mod])),
    typeAttribs: [],
    unknownTypeAttribs: false,
    activeFromModules: true,
  },
  {
    name: 'generic-ccw',
    title: '',
    devname: 'Generic CCW device',
    modules: [],
    subtypes: [ccwSt('generic-ccw', 'Generic Channel-Command-Word (CCW) devices', 'Generic CCW device', [])],
    typeAttribs: [],
    unknownTypeAttribs: false,
    activeFromModules: false,
  },
]

export const AP_DEVTYPE = DEVTYPES.find((d) => d.name === 'ap')!

export const devtypeFind = (name: string): Devtype | undefined => DEVTYPES.find((d) => d.name.toLowerCase() === name.toLowerCase())

export function subtypeFind(name: string): {dt: Devtype; st: Subtype} | undefined {
  for (const dt of DEVTYPES) for (const st of dt.subtypes) if (st.name.toLowerCase() === name.toLowerCase()) return {dt, st}
  return undefined
}

export const devtypeOf = (st: Subtype): Devtype => DEVTYPES.find((d) => d.subtypes.includes(st))!

/** devtype_add_modules with subtypes: the type's modules, then each subtype's, without duplicates. */
export function devtypeModules(dt: Devtype): string[] {
  const out: string[] = []
  for (const m of [...dt.modules, ...dt.subtypes.flatMap((s) => s.modules)]) if (!out.includes(m)) out.push(m)
  return out
}

// --- device ID namespaces (ccw.c, ccwgroup.c, zfcp_lun.c, ap.c) -------------------------------------

const isWs = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c)

/** sscanf(id, "%8x.%8x.%8x %c") style: the number of conversions (-1 on empty input). */
function scanHexList(id: string, count: number): number[] | null {
  let p = 0
  const vals: number[] = []
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      if (id[p] !== '.') return vals
      p++
    }
    const r = scanHex(id, p, 8)
    if (!r) return vals
    vals.push(r.value)
    p = r.end
  }
  while (isWs(id[p])) p++
  if (p < id.length) vals.push(-1) // %c matched a character
  return vals
}

interface CcwId {
  cssid: number
  ssid: number
  devno: number
}

/** ccw_parse_devid: the ID or the reason it is invalid. */
export function ccwParse(id: string): CcwId | {reason: string} {
  let cssid = 0
  let ssid = 0
  let devno: number
  const one = id.trim() === '' ? null : scanHexList(id, 1)
  if (one && one.length === 1) {
    if (id.toLowerCase() === '0x') return {reason: 'Incomplete hexadecimal number'}
    devno = one[0]
  } else {
    const three = id.trim() === '' ? null : scanHexList(id, 3)
    if (!three || three.length !== 3) return {reason: 'Invalid format'}
    ;[cssid, ssid, devno] = three
  }
  if (cssid > 255) return {reason: 'CSSID out of bounds'}
  if (ssid > 15) return {reason: 'SSID out of bounds'}
  if (devno > 65535) return {reason: 'DEVNO out of bounds'}
  return {cssid, ssid, devno}
}

const ccwValid = (id: string): boolean => !('reason' in ccwParse(id))

function ccwRangeCheck(range: string): string | null {
  const cut = range.indexOf('-')
  if (cut < 0) return `Error in CCW device ID range format: Missing hyphen: ${range}\n`
  for (const part of [range.slice(0, cut), range.slice(cut + 1)]) {
    const r = ccwParse(part)
    if ('reason' in r) return `Error in CCW device ID format: ${r.reason}: ${part}\n`
  }
  return null
}

const validHex = (s: string): boolean => /^(0[xX])?[0-9a-fA-F]+$/.test(s)

/** ccw_is_id_similar: xx.xx.xxxx or xxxx, each part hexadecimal of at most 8 digits. */
function ccwSimilar(id: string): boolean {
  if (id.includes(':')) return false
  const parts = id.split('.')
  if (parts.length !== 1 && parts.length < 3) return false
  const check = parts.length === 1 ? parts : [parts[0], parts[1], parts.slice(2).join('.')]
  return check.every((p) => validHex(p) && p.length <= 8)
}

const GROUP_SIZE: Record<string, number> = {qeth: 3, ctc: 2}

export interface Namespace {
  name: NsName
  /** is_id_valid: null when valid, else the message err_print would print. */
  idError(id: string): string | null
  rangeError(range: string): string | null
  similar(id: string): boolean
  /** The namespace has a blacklist (cio_ignore). */
  blacklist: boolean
}

const AP_UNSUPPORTED = 'Error: AP device management is not supported\n'

export const NAMESPACES: Namespace[] = [
  {
    name: 'ccw',
    idError: (id) => {
      const r = ccwParse(id)
      return 'reason' in r ? `Error in CCW device ID format: ${r.reason}: ${id}\n` : null
    },
    rangeError: ccwRangeCheck,
    similar: ccwSimilar,
    blacklist: true,
  },
  {
    // zfcp-lun IDs: <FCP device>:<WWPN>:<LUN> (approximation of zfcp_lun.c).
    name: 'zfcp_lun',
    idError: (id) => {
      const p = id.split(':')
      const ok = p.length === 3 && ccwValid(p[0]) && /^(0x)?[0-9a-f]{1,16}$/i.test(p[1]) && /^(0x)?[0-9a-f]{1,16}$/i.test(p[2])
      return ok ? null : `Unrecognized zfcp-attached SCSI device ID format: ${id}\n`
    },
    rangeError: (r) => `Unrecognized zfcp-attached SCSI device ID range format: ${r}\n`,
    similar: () => false,
    blacklist: false,
  },
  ...(['qeth', 'ctc'] as const).map(
    (name): Namespace => ({
      // CCW group IDs: 1 to N CCW device IDs separated by colons (approximation of ccwgroup.c).
      name,
      idError: (id) => {
        const p = id.split(':')
        return p.length >= 1 && p.length <= GROUP_SIZE[name] && p.every(ccwValid) ? null : `Unrecognized CCW group device ID format: ${id}\n`
      },
      rangeError: (r) => (ccwRangeCheck(r) === null ? null : `Unrecognized CCW group device ID range format: ${r}\n`),
      similar: () => false,
      blacklist: true,
    }),
  ),
  {name: 'ap', idError: () => AP_UNSUPPORTED, rangeError: () => AP_UNSUPPORTED, similar: () => false, blacklist: false},
]

export const nsOf = (st: Subtype): Namespace => NAMESPACES.find((n) => n.name === st.ns)!
export const nsIdValid = (ns: Namespace, id: string): boolean => ns.idError(id) === null
export const nsRangeValid = (ns: Namespace, r: string): boolean => ns.rangeError(r) === null

export function normalizeId(st: Subtype, id: string): string {
  if (st.ns !== 'ccw') return id
  const r = ccwParse(id)
  return 'reason' in r ? id : `${r.cssid.toString(16)}.${r.ssid.toString(16)}.${r.devno.toString(16).padStart(4, '0')}`
}

/** is_devspec: every comma-separated part is an ID or range of the type (or of any namespace). */
export function isDevspec(dt: Devtype | null, st: Subtype | null, spec: string): boolean {
  const nss = st ? [nsOf(st)] : dt ? dt.subtypes.map(nsOf) : NAMESPACES
  return spec.split(',').every((p) => nss.some((ns) => nsIdValid(ns, p) || nsRangeValid(ns, p)))
}

function countNamespaces(dt: Devtype): number {
  return new Set(dt.subtypes.map((s) => s.ns)).size
}

function mostSimilarNs(onlyDt: Devtype | null, id: string): Namespace | null {
  let match: Namespace | null = null
  for (const dt of DEVTYPES) {
    if (onlyDt && dt !== onlyDt) continue
    for (const st of dt.subtypes) {
      const ns = nsOf(st)
      if (!nsIdValid(ns, id) && !ns.similar(id)) continue
      if (match && match !== ns) return null
      match = ns
    }
  }
  return match
}

/** check_devspec of chzdev/lszdev: the message and exit code for the first invalid part. */
export function checkDevspec(o: ZOut, dt: Devtype | null, st: Subtype | null, spec: string, lszdev: boolean): number {
  for (const cur of spec.split(',')) {
    const rc = cur.includes('-') ? checkRange(o, dt, st, cur, lszdev) : checkDevid(o, dt, st, cur)
    if (rc) return rc
  }
  return EXIT.OK
}

function scopeNs(dt: Devtype | null, st: Subtype | null): Namespace[] {
  const out: Namespace[] = []
  for (const d of DEVTYPES) {
    if (dt && d !== dt) continue
    for (const s of d.subtypes) if (!st || s === st) out.push(nsOf(s))
  }
  return out
}

function checkDevid(o: ZOut, dt: Devtype | null, st: Subtype | null, id: string): number {
  if (scopeNs(dt, st).some((ns) => nsIdValid(ns, id))) return EXIT.OK
  let ns: Namespace | null
  if (st) ns = nsOf(st)
  else if (dt && countNamespaces(dt) === 1) ns = nsOf(dt.subtypes[0])
  else ns = mostSimilarNs(dt, id)
  if (ns) {
    const msg = ns.idError(id)
    if (msg === null) return EXIT.OK
    o.error(msg)
    return EXIT.INVALID_ID
  }
  if (dt) {
    o.error(`Unrecognized ${dt.devname} ID format: ${id}\n`)
    return EXIT.INVALID_ID
  }
  o.syntax(`Unknown device type or device ID format: ${id}\n`)
  return EXIT.USAGE_ERROR
}

function checkRange(o: ZOut, dt: Devtype | null, st: Subtype | null, range: string, lszdev: boolean): number {
  if (scopeNs(dt, st).some((ns) => nsRangeValid(ns, range))) return EXIT.OK
  let ns: Namespace | null = null
  if (st) ns = nsOf(st)
  else if (dt && countNamespaces(dt) === 1) ns = nsOf(dt.subtypes[0])
  if (ns) {
    const msg = ns.rangeError(range)
    if (msg === null) return EXIT.OK
    o.error(msg)
    return EXIT.INVALID_ID
  }
  if (dt) {
    o.error(`Unrecognized ${dt.devname} ${lszdev ? 'device ' : ''}ID range format: ${range}\n`)
    return EXIT.INVALID_ID
  }
  o.syntax(`Unknown device type or device ID range format: ${range}\n`)
  return EXIT.USAGE_ERROR
}

// --- selection (select.c) on a host without zdev-managed devices ---------------------------------------

export interface SelectOpts {
  devtype: Devtype | null
  subtype: Subtype | null
  devids: string[]
  byPath: string[]
  byNode: string[]
  byIf: string[]
  byAttr: string[]
  all: boolean
  configured: boolean
  existing: boolean
  online: boolean
  offline: boolean
  failed: boolean
  ipldev: boolean
}

/**
 * The device selection options chzdev and lszdev share: false when `name`
 * is not one of them; otherwise 0, or the exit code of a bad argument.
 */
export function selectionOption(s: SelectOpts, name: string, arg: string, out: {syntax(msg: string): void}): number | false {
  switch (name) {
    case 'all':
    case 'configured':
    case 'existing':
    case 'online':
    case 'offline':
    case 'failed':
    case 'ipldev':
      s[name] = true
      return 0
    case 'by-path':
      s.byPath.push(arg)
      return 0
    case 'by-node':
      s.byNode.push(arg)
      return 0
    case 'by-interface':
      s.byIf.push(arg)
      return 0
    case 'by-attrib':
      if (!arg.includes('=')) {
        out.syntax('--by-attrib requires argument in ATTRIB=VALUE or ATTRIB!=VALUE format\n')
        return EXIT.USAGE_ERROR
      }
      s.byAttr.push(arg)
      return 0
    default:
      return false
  }
}

export const newSelect = (): SelectOpts => ({
  devtype: null,
  subtype: null,
  devids: [],
  byPath: [],
  byNode: [],
  byIf: [],
  byAttr: [],
  all: false,
  configured: false,
  existing: false,
  online: false,
  offline: false,
  failed: false,
  ipldev: false,
})

export const devSpecified = (s: SelectOpts): boolean =>
  s.devids.length > 0 ||
  s.byPath.length > 0 ||
  s.byNode.length > 0 ||
  s.byIf.length > 0 ||
  s.byAttr.length > 0 ||
  s.all ||
  s.configured ||
  s.existing ||
  s.online ||
  s.offline ||
  s.failed ||
  s.ipldev

/** A selected device: on this host only ID specifications that matched nothing. */
export interface Selected {
  dt: Devtype | null
  st: Subtype | null
  id: string
  param: string | null
  rc: number
}

/** Thrown where aplab stops emulating a device path (device creation, type settings of other types). */
export class NotEmulated extends Error {}

export function notEmulated(o: ZOut, what: string): number {
  o.err(`aplab: ${o.shortName}: ${what} is not emulated\n`)
  return EXIT.RUNTIME_ERROR
}

/**
 * select_devices on a host where no CCW, CCW group, zfcp or AP device
 * exists: the -V device count, the cio_ignore look-up of unblacklisting and
 * one "not found" entry per device ID specification. Specifications that
 * would create a device (definable types, persistent-only configuration)
 * are not emulated.
 */
export function selectDevices(
  z: Zdev,
  sel: SelectOpts,
  out: Selected[],
  existing: boolean,
  unblacklist: boolean,
  config: number,
): number {
  const o = z.o
  if (unblacklist) z.unblacklistCheck(sel)
  const byFunction = sel.devids.length === 0 && (sel.byPath.length || sel.byNode.length || sel.byIf.length || sel.byAttr.length)
  if (!byFunction) {
    // select_nocreate: count the devices (there are none).
    const nocreate = (cfg: number) => {
      if (o.quiet) return
      const idc = getConfig(
        sel.existing || sel.all || sel.offline || sel.online || scopeActive(cfg),
        sel.configured || sel.all || scopePersistent(cfg),
        sel.all || scopeAutoconf(cfg),
      )
      o.verb(`Scanning for devices in ${configToStr(idc)} configuration${!scopeSingle(idc) ? 's' : ''}:\n`)
      for (const dt of DEVTYPES) {
        if (sel.devtype && dt !== sel.devtype) continue
        for (const st of dt.subtypes) {
          if (sel.subtype && st !== sel.subtype) continue
          o.verb(`  ${st.devname.padEnd(19)}: 0\n`)
        }
      }
      o.verb('  No device found\n')
    }
    const specs = sel.devids
    let create = false
    if (existing) {
      nocreate(config)
      // select_remaining(define=1)
      for (const spec of specs) {
        const st = sel.subtype ?? deriveSt(spec)
        if (st && st.definable) create = true
      }
    } else if (sel.subtype) {
      if (specs.length) create = true
      else nocreate(config)
    } else {
      nocreate(CONFIG_ALL)
      for (const spec of specs) if (deriveSt(spec)) create = true
    }
    if (create) throw new NotEmulated('configuring a device that does not exist yet')
    for (const spec of specs) {
      out.push({dt: sel.devtype, st: sel.subtype, id: sel.subtype ? normalizeId(sel.subtype, spec) : spec, param: spec, rc: sel.subtype ? EXIT.DEVICE_NOT_FOUND : EXIT.INCOMPLETE_TYPE})
    }
  }
  for (const node of sel.byNode) {
    o.error(`Could not determine device that provides ${node} (${node})\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  for (const path of sel.byPath) {
    if (!z.fs.exists(path)) o.error(`Path not found: ${path}\n`)
    else o.error(`Could not determine device that provides ${path}\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  for (const name of sel.byIf) {
    o.error(`Could not determine device that provides ${name} (${name})\n`)
    return EXIT.DEVICE_NOT_FOUND
  }
  return EXIT.OK
}

/** derive_st: the one subtype whose namespace accepts the specification, else null. */
function deriveSt(spec: string): Subtype | null {
  let result: Subtype | null = null
  for (const dt of DEVTYPES) {
    for (const st of dt.subtypes) {
      const ns = nsOf(st)
      if (!nsIdValid(ns, spec) && !nsRangeValid(ns, spec)) continue
      if (result) return null
      result = st
    }
  }
  return result
}

// --- strings (misc.c) -------------------------------------------------------------------------------

/** quote_str: escape \ " and newline; quote when forced, when there are blanks, or when empty. */
export function quoteStr(value: string, force: boolean): string {
  let special = 0
  let spaces = 0
  for (const c of value) {
    if (c === '\\' || c === '"' || c === '\n') special++
    else if (isWs(c)) spaces++
  }
  if (special === 0) return force || spaces > 0 || value === '' ? `"${value}"` : value
  let s = '"'
  for (const c of value) {
    if (c === '\\' || c === '"') s += '\\' + c
    else if (c === '\n') s += '\\n'
    else s += c
  }
  return s + '"'
}

/** unquote_str: trim, drop the surrounding quotes, resolve backslash escapes. */
export function unquoteStr(value: string): string {
  let first = 0
  while (first < value.length && isWs(value[first])) first++
  let last = value.length - 1
  while (last >= first && isWs(value[last])) last--
  let out = ''
  for (let i = first; i <= last; i++) {
    let c = value[i]
    if (c === '"' && i === first) continue
    if (i === last) {
      if (c === '"') break
    } else if (c === '\\') {
      c = value[++i]
      if (c === 'n') c = '\n'
    }
    out += c ?? ''
  }
  return out
}

const shrinkStr = (s: string): string => s.replace(/^[ \t\n\v\f\r]+/, '').replace(/[ \t\n\v\f\r]+$/, '')

// --- tables (table.c) ----------------------------------------------------------------------------------

export interface Column {
  name: string
  id: string
  def: boolean
  desc: string
}

export function tableGetColumn(columns: Column[], name: string): Column | undefined {
  for (const c of columns) {
    if (c.name.toLowerCase() === name.toLowerCase()) return c
    if (c.name.includes(':') && name.toLowerCase().startsWith(c.name.toLowerCase())) return c
  }
  return undefined
}

/** table_check_columns: every name must be a column. */
export function tableCheckColumns(o: ZOut, columns: Column[], names: string[]): number {
  for (const n of names) {
    if (!tableGetColumn(columns, n)) {
      o.error(`Unknown column name specified: ${n}\n`)
      return EXIT.UNKNOWN_COLUMN
    }
  }
  return EXIT.OK
}

const shellName = (h: string): string =>
  [...h].map((c, i) => (/[A-Za-z0-9_]/.test(c) && !(i === 0 && /[0-9]/.test(c)) ? c : '_')).join('')

/** table_print without wrapping: headings and rows separated by two blanks, or KEY="VALUE" pairs. */
export function tablePrint<T>(
  o: ZOut,
  columns: Column[],
  value: (item: T, id: string, heading: string) => string | null,
  items: T[],
  names: string[] | null,
  heading: boolean,
  pairs: boolean,
  indent: number,
  shell = false,
): number {
  let cells: Array<{heading: string; id: string; width: number}>
  if (!names || names.length === 0) cells = columns.filter((c) => c.def).map((c) => ({heading: c.name, id: c.id, width: 0}))
  else {
    cells = []
    for (const n of names) {
      const c = tableGetColumn(columns, n)
      if (!c) {
        o.error(`Unknown column name specified: ${n}\n`)
        return EXIT.UNKNOWN_COLUMN
      }
      cells.push({heading: n, id: c.id, width: 0})
    }
  }
  const pad = ' '.repeat(indent)
  if (!pairs) {
    for (const c of cells) c.width = c.heading.length
    for (const it of items) for (const c of cells) c.width = Math.max(c.width, (value(it, c.id, c.heading) ?? '').length)
    const line = (texts: string[]) =>
      pad + texts.map((t, i) => (i === texts.length - 1 ? t : t.padEnd(cells[i].width))).join('  ') + '\n'
    if (heading && cells.length) o.out(line(cells.map((c) => c.heading)))
    else if (heading) o.out(pad + '\n')
  }
  for (const it of items) {
    const vals = cells.map((c) => value(it, c.id, c.heading))
    if (pairs) {
      o.out(cells.map((c, i) => `${shell ? shellName(c.heading) : c.heading}=${quoteStr(vals[i] ?? '', true)}`).join(' ') + '\n')
    } else {
      o.out(pad + vals.map((v, i) => (i === vals.length - 1 ? (v ?? '') : (v ?? '').padEnd(cells[i].width))).join('  ') + '\n')
    }
  }
  return EXIT.OK
}

/** --list-types: every devtype with a title, then its subtypes. */
export function tableTypesShow(o: ZOut, columns: string[] | null, headings: boolean, pairs: boolean): number {
  const items: string[] = []
  for (const dt of DEVTYPES) {
    if (dt.title) items.push(dt.name)
    for (const st of dt.subtypes) items.push(st.name)
  }
  const cols: Column[] = [
    {name: 'TYPE', id: 'name', def: true, desc: ''},
    {name: 'DESCRIPTION', id: 'title', def: true, desc: ''},
  ]
  return tablePrint(
    o,
    cols,
    (name, id) => (id === 'name' ? name : (subtypeFind(name)?.st.title ?? devtypeFind(name)?.title ?? null)),
    items,
    columns,
    headings,
    pairs,
    0,
  )
}

/** --list-attributes for type attributes: NAME and DESCRIPTION. */
export function tableAttribsShow(o: ZOut, attribs: Attrib[]): void {
  if (attribs.length === 0) return
  const cols: Column[] = [
    {name: 'NAME', id: 'name', def: true, desc: ''},
    {name: 'DESCRIPTION', id: 'desc', def: true, desc: ''},
  ]
  tablePrint(o, cols, (a: Attrib, id) => (id === 'name' ? a.name : a.title), attribs, null, true, false, 0)
}

/** --help-attribute: the detailed text of each attribute, separated by an empty line. */
export function tableAttribsShowDetails(o: ZOut, attribs: Attrib[]): void {
  attribs.forEach((a, k) => {
    if (k > 0) o.out('\n')
    o.out(`ATTRIBUTE ${a.name}\n\n`)
    o.indent(2, 'DESCRIPTION\n')
    o.indent(4, a.desc)
    if (a.defval) {
      o.out('\n')
      o.indent(2, 'DEFAULT VALUE\n')
      o.indent(4, `The default value is '${a.defval}'.\n`)
    }
    if (!a.readonly) {
      o.out('\n')
      o.indent(2, 'ACCEPTED VALUES\n')
      o.indent(4, 'All values are accepted\n')
    }
  })
}

// --- the run: file system access, --base, dry-run, device types --------------------------------------

export interface DtState {
  def: Devtype
  active: SettingList | null
  persistent: SettingList | null
  activeExists: boolean
  persistentExists: boolean
  processed: boolean
}

const AP_MAX = 255
const DEFAULT_MASK = '0x' + '0'.repeat(64)
export const AP_UDEV_RULE = '/etc/udev/rules.d/41-ap.rules'
const AP_UDEV_RULE_AUTO = '/run/udev/rules.d/41-ap.rules'
const VFIO_AP_CONFIG_PATH = '/etc/mdevctl.d/matrix'
const VFIO_AP_TYPE = 'vfio_ap-passthrough'

/** One chzdev/lszdev process: the file system, the messages and the device type objects. */
export class Zdev {
  private readonly base: Array<{from: string; to: string}> = []
  readonly dts = new Map<string, DtState>()
  dryrun = false
  /** Actions recorded by --dry-run (the tmpfile of misc.c). */
  readonly dryrunLog: string[] = []
  /** ap.c fclose()d the shared dry-run file (--dry-run -V with a rule write). */
  dryrunFileClosed = false
  private cioIgnoreWarned = false
  /** The ap masks of ap.c (static buffers): active and persistent, `0x` + 64 hex digits when valid. */
  apmask = ''
  aqmask = ''
  pApmask = ''
  pAqmask = ''
  validPAp = false
  validPAq = false

  constructor(
    readonly fs: Fs,
    readonly o: ZOut,
    readonly ctx: ZdevContext,
  ) {}

  dt(def: Devtype): DtState {
    let s = this.dts.get(def.name)
    if (!s) this.dts.set(def.name, (s = {def, active: null, persistent: null, activeExists: false, persistentExists: false, processed: false}))
    return s
  }

  /** path_set_base: `--base PATH` and `--base FROM=TO`, longest FROM first. */
  setBase(list: string[]): void {
    for (const b of list) {
      const eq = b.indexOf('=')
      const from = eq < 0 ? '' : b.slice(0, eq)
      const to = eq < 0 ? b : b.slice(eq + 1)
      const at = this.base.findIndex((p) => p.from.length < from.length)
      if (at < 0) this.base.push({from, to})
      else this.base.splice(at, 0, {from, to})
    }
  }

  /** path_get: a path with the --base conversion applied. */
  path(p: string): string {
    for (const b of this.base) if (p.startsWith(b.from)) return b.to + p.slice(b.from.length)
    return p
  }

  /** util_path_sysfs: below SYSFS_ROOT. */
  sysfs(rel: string): string {
    return `${this.ctx.sysfsRoot ?? '/sys'}/${rel}`
  }

  private readdir(path: string): string[] {
    try {
      return this.fs.readdir(path)
    } catch (e) {
      this.o.warn(`Could not open directory ${path}: ${errText(e)}\n`)
      return []
    }
  }

  /** The first line of a file (util_file_read_line into a 67-byte buffer), or null. */
  private readLine(path: string): string | null {
    const t = this.fs.readOrNull(path)
    if (t === null || t === '') return null
    const nl = t.indexOf('\n')
    return (nl < 0 ? t : t.slice(0, nl)).slice(0, 66)
  }

  // --- cio_ignore -----------------------------------------------------------------------------------

  /** unblacklist_devices: a device ID of a namespace with a blacklist makes zdev read /proc/cio_ignore. */
  unblacklistCheck(sel: SelectOpts): void {
    const nss = new Set<Namespace>()
    for (const dt of DEVTYPES) {
      if (sel.devtype && dt !== sel.devtype) continue
      for (const st of dt.subtypes) if (!sel.subtype || st === sel.subtype) nss.add(nsOf(st))
    }
    for (const ns of nss) {
      if (!ns.blacklist) continue
      for (const id of sel.devids) {
        if (nsIdValid(ns, id) || nsRangeValid(ns, id)) this.readCioIgnore()
      }
    }
  }

  private readCioIgnore(): void {
    const path = this.path('/proc/cio_ignore')
    if (this.fs.readOrNull(path) !== null || this.cioIgnoreWarned) return
    this.o.warn(`Failed to read ${path}: Could not access CIO blacklist\n`)
    this.cioIgnoreWarned = true
  }

  // --- files ------------------------------------------------------------------------------------------

  /** remove_file: dry-run aware unlink. */
  removeFile(path: string): number {
    if (this.dryrun) {
      this.dryrunLog.push(`CMD:rm -f ${path}\n`)
      return EXIT.OK
    }
    try {
      this.fs.unlink(path)
      return EXIT.OK
    } catch (e) {
      this.o.delayedErr(`Could not remove file ${path}: ${errText(e)}\n`)
      return EXIT.RUNTIME_ERROR
    }
  }

  /** path_create: create the missing directories of `path` (real even with --dry-run). */
  pathCreate(path: string): number {
    const parts = path.split('/')
    for (let i = 1; i < parts.length - 1; i++) {
      const dir = parts.slice(0, i + 1).join('/')
      if (dir === '') continue
      if (this.fs.exists(dir)) {
        if (!this.fs.isDir(dir)) {
          this.o.error(`Non-directory found in path '${path}': ${dir}\n`)
          return EXIT.RUNTIME_ERROR
        }
        continue
      }
      try {
        this.fs.mkdirp(dir)
      } catch (e) {
        this.o.error(`Could not create directory '${dir}': ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    return EXIT.OK
  }

  /** misc_exit: with --dry-run -V, print the skipped actions (or crash on the closed tmpfile). */
  miscExit(): void {
    if (this.dryrunLog.length === 0 || !this.o.verbose) return
    if (this.dryrunFileClosed) {
      // dryrun_print() works on the FILE that ap.c fclose()d: observed to
      // abort when the tmpfile was first opened for the rule's removal.
      if (this.dryrunLog[0].startsWith('CMD:')) throw new Crash(134, 'free(): invalid pointer\n')
      return
    }
    this.o.info('Skipped actions due to --dry-run:\n')
    let cmd = false
    for (const e of this.dryrunLog) {
      if (!cmd) {
        this.o.info('  Run:\n')
        cmd = true
      }
      this.o.indent(4, e.slice(4))
    }
  }

  // --- device types: read ---------------------------------------------------------------------------

  /** dt->read_settings */
  readSettings(st: DtState, config: number): number {
    if (st.def === AP_DEVTYPE) return this.apRead(st, config)
    if (st.def.moduleParams) {
      // Module parameters: /sys/module/<mod>/parameters and /etc/modprobe.d/s390x-<type>.conf.
      if (scopeActive(config) && !st.active) {
        st.activeExists = false
        if (this.fs.isDir(this.path(`/sys/module/${st.def.moduleParams}`))) throw new NotEmulated(`reading ${st.def.name} module parameters`)
        st.active = new SettingList()
      }
      if (scopePersistent(config) && !st.persistent) {
        st.persistentExists = false
        if (this.fs.exists(this.path(`/etc/modprobe.d/s390x-${st.def.name}.conf`))) throw new NotEmulated(`reading /etc/modprobe.d/s390x-${st.def.name}.conf`)
        st.persistent = new SettingList()
      }
      return EXIT.OK
    }
    st.active = new SettingList()
    st.persistent = new SettingList()
    if (st.def.activeFromModules && scopeActive(config))
      st.activeExists = devtypeModules(st.def).some((m) => this.fs.isDir(this.path(`/sys/module/${m}`)))
    return EXIT.OK
  }

  /** ap_read_sysfs_masks */
  private readSysfsMasks(): {ap: string; aq: string} | null {
    const ap = this.readLine(this.sysfs('bus/ap/apmask'))
    if (ap === null) return null
    const aq = this.readLine(this.sysfs('bus/ap/aqmask'))
    if (aq === null) return null
    return {ap, aq}
  }

  /**
   * ap_read_udev_masks: the first key of each parsed line of the rule; an
   * ATTR{...apmask...} / ATTR{...aqmask...} key gives that mask (66 chars at
   * most). Masks the rule lacks come from sysfs. False on a read error.
   */
  readUdevMasks(path: string): boolean {
    this.validPAp = this.validPAq = false
    if (this.fs.exists(path)) {
      const text = this.fs.readOrNull(path)
      if (text === null) return false
      for (const entries of udevParse(this.o, path, text)) {
        const e = entries[0]
        if (!e || !e.key.startsWith('ATTR{')) continue
        if (e.key.includes('apmask')) {
          this.pApmask = e.value.slice(0, 66)
          this.validPAp = true
        } else if (e.key.includes('aqmask')) {
          this.pAqmask = e.value.slice(0, 66)
          this.validPAq = true
        }
      }
    }
    if (!this.validPAp || !this.validPAq) {
      const sys = this.readSysfsMasks()
      if (!sys) return false
      if (!this.validPAp) this.pApmask = sys.ap
      if (!this.validPAq) this.pAqmask = sys.aq
    }
    return true
  }

  /** ap_devtype_read_settings */
  private apRead(st: DtState, config: number): number {
    st.active = new SettingList()
    st.persistent = new SettingList()
    if (scopeActive(config)) {
      const m = this.readSysfsMasks()
      if (!m) return EXIT.RUNTIME_ERROR
      this.apmask = m.ap
      this.aqmask = m.aq
      st.activeExists = true
    }
    if (scopePersistent(config)) {
      if (this.readUdevMasks(this.path(AP_UDEV_RULE))) st.persistentExists = true
    } else if (scopeAutoconf(config)) {
      if (this.readUdevMasks(this.path(AP_UDEV_RULE_AUTO))) st.persistentExists = true
    }
    const a = (n: string) => st.def.typeAttribs.find((x) => x.name === n) ?? null
    if (st.activeExists) {
      st.active.addRead(a('apmask'), 'apmask', maskToSetting(this.apmask))
      st.active.addRead(a('aqmask'), 'aqmask', maskToSetting(this.aqmask))
    }
    if (st.persistentExists) {
      if (this.validPAp) st.persistent.addRead(a('apmask'), 'apmask', maskToSetting(this.pApmask))
      if (this.validPAq) st.persistent.addRead(a('aqmask'), 'aqmask', maskToSetting(this.pAqmask))
    }
    return EXIT.OK
  }

  // --- device types: write --------------------------------------------------------------------------

  /** dt->write_settings */
  writeSettings(st: DtState, config: number): number {
    if (st.def === AP_DEVTYPE) return this.apWrite(st, config)
    if (st.def.typeAttribs.length === 0) return EXIT.OK
    throw new NotEmulated(`changing ${st.def.name} device type settings`)
  }

  /** ap_devtype_write_settings: validate, check conflicts, then commit (nothing on any failure). */
  private apWrite(st: DtState, config: number): number {
    let writeAp = false
    let writeAq = false
    let writeUdev = false
    const adds = {ap: [] as number[], aq: [] as number[], pap: [] as number[], paq: [] as number[]}
    const validate = (which: 'apmask' | 'aqmask' | 'pApmask' | 'pAqmask', input: string, into: number[]): boolean => {
      const r = validateMaskInput(this[which], input)
      if (r === null) {
        this.o.error(`Invalid input string ${input}\n`)
        return false
      }
      this[which] = r.mask
      into.push(...r.adds)
      return true
    }
    if (scopeActive(config) && st.active) {
      let s = st.active.find('apmask')
      if (s && s.specified) {
        if (!validate('apmask', s.value, adds.ap)) return EXIT.INVALID_SETTING
        writeAp = true
      }
      s = st.active.find('aqmask')
      if (s && s.specified) {
        if (!validate('aqmask', s.value, adds.aq)) return EXIT.INVALID_SETTING
        writeAq = true
      }
    }
    if ((scopePersistent(config) || scopeAutoconf(config)) && st.persistent) {
      let s = st.persistent.find('apmask')
      if (s && s.specified) {
        if (!validate('pApmask', s.value, adds.pap)) return EXIT.INVALID_SETTING
        writeUdev = true
        this.validPAp = true
      } else if (s && s.removed) {
        writeUdev = true
        this.validPAp = false
      }
      s = st.persistent.find('aqmask')
      if (s && s.specified) {
        if (!validate('pAqmask', s.value, adds.paq)) return EXIT.INVALID_SETTING
        writeUdev = true
        this.validPAq = true
      } else if (s && s.removed) {
        writeUdev = true
        this.validPAq = false
      }
    }

    const rc = this.checkMaskChanges(config, adds)
    if (rc !== EXIT.OK) return rc

    // Commit: fopen("w") + fputs, results ignored (also with --dry-run).
    const writeMask = (attr: string, mask: string) => {
      try {
        this.fs.writeFile(this.path(`/sys/bus/ap/${attr}`), mask)
      } catch {
        // write_sysfs_mask ignores the kernel's answer
      }
    }
    if (writeAp) writeMask('apmask', this.apmask)
    if (writeAq) writeMask('aqmask', this.aqmask)
    if (writeUdev) {
      if (scopePersistent(config)) this.writeUdevRule(this.path(AP_UDEV_RULE))
      else if (scopeAutoconf(config)) this.writeUdevRule(this.path(AP_UDEV_RULE_AUTO))
    }
    return EXIT.OK
  }

  /** ap_write_type_udev (its result is ignored by the caller). */
  private writeUdevRule(path: string): void {
    if (this.fs.isFile(path)) {
      if (this.removeFile(path)) {
        this.o.error(`Could not remove file ${path}\n`)
        return
      }
    }
    if (!(this.validPAp || this.validPAq)) return
    if (this.pathCreate(path)) return
    const text =
      '# Generated by chzdev\n' +
      'ACTION=="add", DEVPATH=="/bus/ap", ATTR{bindings_complete_count}!="0", GOTO="cfg_ap"\n' +
      'ACTION=="change", SUBSYSTEM=="ap", DEVPATH=="/devices/ap", ENV{BINDINGS}=="complete", ENV{COMPLETECOUNT}=="1", GOTO="cfg_ap"\n' +
      'GOTO="end_ap"\n\n' +
      'LABEL="cfg_ap"\n\n' +
      (this.validPAp ? `ATTR{../../bus/ap/apmask}="${this.pApmask}"\n` : '') +
      (this.validPAq ? `ATTR{../../bus/ap/aqmask}="${this.pAqmask}"\n` : '') +
      'RUN{builtin}+="kmod load vfio_ap"\n' +
      '\nLABEL="end_ap"\n'
    if (this.dryrun) {
      // misc_fopen: the shared tmpfile with -V (which ap.c then fclose()s), else /dev/null.
      if (this.o.verbose) {
        this.dryrunLog.push(`WRITE:${path}`)
        this.dryrunFileClosed = true
      }
      return
    }
    try {
      this.fs.writeFile(path, text)
    } catch (e) {
      this.o.error(`Could not write to file ${path}: ${errText(e)}\n`)
    }
  }

  /** ap_check_mask_changes: only APQNs given back to the host are checked. */
  private checkMaskChanges(config: number, adds: {ap: number[]; aq: number[]; pap: number[]; paq: number[]}): number {
    let rc: number = EXIT.OK
    let rc2: number = EXIT.OK
    if (scopeActive(config) && (adds.ap.length || adds.aq.length)) {
      const allAp = maskToList(this.apmask)
      const allAq = maskToList(this.aqmask)
      rc = this.checkAgainst(adds.ap, allAq, false, true)
      const r2 = this.checkAgainst(allAp, adds.aq, false, false)
      rc = rc === EXIT.OK ? r2 : rc
    }
    if ((scopePersistent(config) || scopeAutoconf(config)) && (adds.pap.length || adds.paq.length)) {
      const allAp = maskToList(this.pApmask)
      const allAq = maskToList(this.pAqmask)
      rc2 = this.checkAgainst(adds.pap, allAq, true, true)
      const r3 = this.checkAgainst(allAp, adds.paq, true, false)
      rc2 = rc2 === EXIT.OK ? r3 : rc2
    }
    return rc === EXIT.OK ? rc2 : rc
  }

  /** check_mask_changes: the running mdevs (sysfs) or the autostart definitions (/etc/mdevctl.d/matrix). */
  private checkAgainst(adapters: number[], domains: number[], persistent: boolean, typeap: boolean): number {
    let found = false
    const report = (uuid: string, a2: number[], d2: number[]) => {
      for (const a of adapters) {
        if (!a2.includes(a)) continue
        for (const d of domains) {
          if (!d2.includes(d)) continue
          const what = typeap ? 'apmask' : 'aqmask'
          this.o.warnx(
            persistent
              ? `persistent ${what} conflicts with defined autostart mdev ${uuid} APQN ${a >>> 0}.${d >>> 0}`
              : `${what} conflicts with mdev ${uuid} APQN ${a >>> 0}.${d >>> 0}`,
          )
          found = true
        }
      }
    }
    if (persistent) {
      const root = this.path(VFIO_AP_CONFIG_PATH)
      if (this.fs.isDir(root)) {
        for (const name of this.readdir(root)) {
          if (!isValidUuid(name)) continue
          const dev = readVfioApConfig(this.fs.readOrNull(`${root}/${name}`))
          if (!dev) continue
          if (dev.type === null) SIGSEGV() // strcmp(NULL, ...)
          if (dev.type !== VFIO_AP_TYPE || dev.manual) continue
          report(name, dev.adapters, dev.domains)
        }
      }
    } else {
      const root = this.sysfs('devices/vfio_ap/matrix/')
      if (this.fs.isDir(root)) {
        for (const name of this.readdir(root)) {
          if (!isValidUuid(name)) continue
          const text = this.fs.readOrNull(this.sysfs(`devices/vfio_ap/matrix/${name}/matrix`))
          if (text === null) SIGSEGV() // fgets on a NULL FILE
          const m = parseMatrix(text!)
          report(name, m.adapters, m.domains)
        }
      }
    }
    return found ? EXIT.INVALID_CONFIG : EXIT.OK
  }
}

// --- AP masks (ap.c, libap) --------------------------------------------------------------------------

/** get_hexbyte_value: the nibble holding bit n; util_assert on a short or malformed mask. */
function hexNibble(n: number, mask: string): number {
  const i = mask.startsWith('0x') ? 2 : 0
  utilAssert(
    mask.length >= 67 - i - 1,
    '(strlen(hexbytestr) >= (size_t)(AP_MASK_SIZE - i - 1))',
    'get_hexbyte_value',
    249,
    `Invalid hex string provided for mask: ${mask}`,
  )
  // Past the end of a short mask C reads the terminating NUL (and prints it with %c).
  const c = mask[i + Math.trunc(n / 4)] ?? '\0'
  const v = /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1
  utilAssert(v >= 0, 'false', 'get_hexbyte_value', 260, `Could not parse hex digit '${c}'`)
  return v
}

export const apTestBit = (n: number, mask: string): boolean => (hexNibble(n, mask) & (1 << (3 - (n % 4)))) !== 0

/** ap_set_bit (C's division: a negative n, an unsigned ID gone negative, lands on the first digit). */
export function apSetBit(n: number, mask: string, on: boolean): string {
  let v = hexNibble(n, mask)
  const m = 1 << (3 - (n % 4))
  if (on === ((v & m) !== 0)) return mask
  v = on ? v + m : v - m
  utilAssert(v >= 0 && v <= 15, 'false', 'ap_set_bit', 314, `Could not set bit value '${v}'`)
  const i = mask.startsWith('0x') ? 2 : 0
  const at = i + Math.trunc(n / 4)
  return mask.slice(0, at) + v.toString(16) + mask.slice(at + 1)
}

export function maskToList(mask: string): number[] {
  const out: number[] = []
  for (let i = 0; i <= AP_MAX; i++) if (apTestBit(i, mask)) out.push(i)
  return out
}

/** ap_mask_to_setting: ascending IDs, runs of two or more as A-B, comma-separated; empty mask "". */
export function maskToSetting(mask: string): string {
  const bits = maskToList(mask)
  const parts: string[] = []
  for (let i = 0; i < bits.length; ) {
    let j = i
    while (j + 1 < bits.length && bits[j + 1] === bits[j] + 1) j++
    parts.push(i === j ? `${bits[i]}` : `${bits[i]}-${bits[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** parse_mask_entry_single: strtoul(..., 0) of the whole token, at most 255. */
function parseSingle(s: string): number | null {
  const r = strtol(s, 0)
  const end = r.end === 0 ? 0 : r.end
  if (end < s.length) return null
  if (r.value < 0 || r.value > AP_MAX) return null
  return r.value
}

/**
 * ap_validate_mask_input: assignment (from all zeros) or +/- modification
 * of `mask`; null when the input is invalid. Reversed ranges pass and set
 * nothing (the C code compares the addresses, not the values).
 */
export function validateMaskInput(mask: string, input: string): {mask: string; adds: number[]} | null {
  const assign = input[0] !== '+' && input[0] !== '-'
  let m = assign ? DEFAULT_MASK : mask
  const tokens = input.split(',').filter((t) => t !== '')
  if (tokens.length === 0) return null
  for (let tok of tokens) {
    const signed = tok[0] === '+' || tok[0] === '-'
    if (assign === signed) return null
    let on = true
    if (!assign) {
      on = tok[0] === '+'
      tok = tok.slice(1)
      if (tok === '') return null
    }
    let lo: number | null
    let hi: number | null
    const dash = tok.indexOf('-')
    if (dash >= 0) {
      const second = tok.slice(dash + 1)
      if (second === '') return null
      lo = parseSingle(tok.slice(0, dash))
      if (lo === null) return null
      hi = parseSingle(second)
      if (hi === null) return null
    } else {
      lo = hi = parseSingle(tok)
      if (lo === null) return null
    }
    for (let v = lo; v <= hi!; v++) m = apSetBit(v, m, on)
  }
  const adds: number[] = []
  for (let i = 0; i <= AP_MAX; i++) if (!apTestBit(i, mask) && apTestBit(i, m)) adds.push(i)
  return {mask: m, adds}
}

// --- vfio_ap: matrix files and mdevctl definitions (libap) ---------------------------------------------

/** is_valid_uuid: 36 characters that sscanf "%8x-%4x-%4x-%4x-%12x %c" converts to exactly five fields. */
export function isValidUuid(s: string): boolean {
  if (s.length !== 36) return false
  let p = 0
  for (const [w, sep] of [
    [8, '-'],
    [4, '-'],
    [4, '-'],
    [4, '-'],
    [12, ''],
  ] as const) {
    const r = scanHex(s, p, w)
    if (!r) return false
    p = r.end
    if (sep) {
      if (s[p] !== sep) return false
      p++
    }
  }
  while (isWs(s[p])) p++
  return p >= s.length
}

const sortUniq = (xs: number[]): number[] => [...new Set(xs)].sort((a, b) => (a >>> 0) - (b >>> 0))

/** vfio_ap_parse_matrix over the lines of a matrix attribute: `AA.DDDD`, `AA.` or `.DDDD`. */
export function parseMatrix(text: string): {adapters: number[]; domains: number[]} {
  const adapters: number[] = []
  const domains: number[] = []
  const lines = text.split(/(?<=\n)/).filter((l) => l !== '')
  for (const line of lines) {
    let rest: string
    if (line[0] !== '.') {
      const trimmed = line.replace(/^\.+/, '')
      const dot = trimmed.indexOf('.')
      const tok = dot < 0 ? trimmed : trimmed.slice(0, dot)
      adapters.push(parseInt(tok, 16) || 0)
      rest = dot < 0 ? '' : trimmed.slice(dot + 1)
    } else rest = line.slice(1)
    const dom = rest.replace(/^\n+/, '').split('\n')[0]
    if (dom === '') continue
    domains.push(parseInt(dom, 16) || 0)
  }
  return {adapters: sortUniq(adapters), domains: sortUniq(domains)}
}

/** A vfio_ap device definition as libap reads it. */
export interface VfioApConfig {
  /** null when the JSON has no mdev_type (the callers then crash at their type check). */
  type: string | null
  manual: boolean
  adapters: number[]
  domains: number[]
  controls: number[]
}

/**
 * libap vfio_ap_read_device_config (2.43.0) over json-c 0.16, for chzdev,
 * lszdev and ap-check: null (-1) when the file cannot be read, json-c finds
 * no object, or mdev_type or start is wrong. Where the real one dies, this
 * throws Crash: `attrs` that is not an array (json-c's assert), an `attrs`
 * entry that is not an object or a setting that is null (segfaults), a
 * malformed ap_config (util_assert).
 */
export function readVfioApConfig(text: string | null): VfioApConfig | null {
  if (text === null) return null
  const root = jsoncParse(text)
  if (root === null) return null
  const dev: VfioApConfig = {type: null, manual: false, adapters: [], domains: [], controls: []}
  const type = objectGetEx(root, 'mdev_type')
  if (type.found) {
    const val = getString(type.value)
    if (val === null) return null
    dev.type = val
    if (val !== VFIO_AP_TYPE) return null
  }
  const start = objectGetEx(root, 'start')
  if (start.found) {
    const val = getString(start.value)
    if (val === 'auto') dev.manual = false
    else if (val === 'manual') dev.manual = true
    else return null
  }
  const attrs = objectGetEx(root, 'attrs')
  if (attrs.found) {
    const len = arrayLength(attrs.value)
    for (let i = 0; i < len; i++)
      for (const [key, setting] of objectEntries((attrs.value as JsoArray).items[i])) {
        const val = getString(setting)
        if (val === null) SIGSEGV() // load_attr_to_device: util_strdup(NULL)
        loadAttr(dev, key, val!)
      }
  }
  dev.adapters = sortUniq(dev.adapters)
  dev.domains = sortUniq(dev.domains)
  dev.controls = sortUniq(dev.controls)
  return dev
}

/** load_attr_to_device: IDs add to a list (strtol base 0 into an unsigned int); ap_config replaces all three. */
function loadAttr(dev: VfioApConfig, key: string, value: string): void {
  const tokens = value.split(',').filter((t) => t !== '') // strtok(",")
  const list = key === 'assign_adapter' ? dev.adapters : key === 'assign_domain' ? dev.domains : key === 'assign_control_domain' ? dev.controls : null
  if (list) for (const t of tokens) list.push(Number(BigInt.asIntN(32, strtolLong(t))))
  else if (key === 'ap_config') {
    utilAssert(
      tokens.length === 3,
      '(!strtok(NULL, ",")) && adapters && domains && controls',
      'modify_device_ap_config',
      139,
      `Invalid ap_config attribute encountered ${value}`,
    )
    dev.adapters = maskToList(tokens[0])
    dev.domains = maskToList(tokens[1])
    dev.controls = maskToList(tokens[2])
  }
}

// --- udev rules (libutil util_udev.c) ----------------------------------------------------------------------

export interface UdevEntry {
  key: string
  op: string
  value: string
}

/**
 * util_udev_read_file: the entries of each line (comments and empty lines
 * have none). Lines that do not parse are reported on stderr and dropped.
 */
export function udevParse(o: ZOut | null, path: string, text: string): UdevEntry[][] {
  const lines: UdevEntry[][] = []
  let once = false
  for (const line of text.split('\n')) {
    const r = udevLine(line)
    if (r) {
      lines.push(r)
      continue
    }
    if (o) {
      if (!once) o.err(`Unrecognized udev rule in ${path}:\n`)
      once = true
      o.err(`${line}\n`)
    }
  }
  return lines
}

function udevLine(line: string): UdevEntry[] | null {
  if (/^[ \t\n\v\f\r]*(#|$)/.test(line)) return []
  // Commas outside quotes separate the entries.
  const parts: string[] = []
  let cur = ''
  let quoted = ''
  for (const c of line) {
    if (quoted) {
      if (c === quoted) quoted = ''
    } else if (c === '"' || c === "'") quoted = c
    else if (c === ',') {
      parts.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  parts.push(cur)
  const out: UdevEntry[] = []
  for (const p of parts) {
    let s = p.replace(/^[ \t\n\v\f\r]+/, '')
    const km = /^[A-Za-z0-9_]*/.exec(s)![0]
    let key = km
    let rest = s.slice(km.length)
    if (rest[0] === '{') {
      const close = rest.indexOf('}')
      const end = close < 0 ? rest.length : close + 1
      key += rest.slice(0, end)
      rest = rest.slice(end)
    }
    if (key === '') return null
    s = rest.replace(/^[ \t\n\v\f\r]+/, '')
    const op = ['==', '!=', '=', '+=', ':='].find((x) => s.startsWith(x))
    if (!op) return null
    let value = s.slice(op.length).replace(/^[ \t\n\v\f\r]+/, '').replace(/[ \t\n\v\f\r]+$/, '')
    if (value.length >= 2 && ((value[0] === '"' && value.endsWith('"')) || (value[0] === "'" && value.endsWith("'")))) value = value.slice(1, -1)
    else if (value === '"' || value === "'") value = ''
    out.push({key, op, value})
  }
  return out
}

/**
 * ap_read_udev_masks for ap-check: the masks of ROOT's 41-ap.rules as bit
 * lists, from ROOT's sysfs where the rule sets none; null on a read error.
 * util_udev's messages go to `err`; util_assert throws Crash.
 */
export function apUdevMasks(fs: Fs, root: string, err: (s: string) => void): {apmask: number[]; aqmask: number[]} | null {
  const o = new ZOut('ap-check', 'ap-check', false)
  const z = new Zdev(fs, o, {prog: 'ap-check', nodename: '', readFile: () => '', writeFile: () => {}, sysfsRoot: `${root}/sys`})
  try {
    if (!z.readUdevMasks(`${root}${AP_UDEV_RULE}`)) return null
    return {apmask: maskToList(z.pApmask), aqmask: maskToList(z.pAqmask)}
  } finally {
    err(o.std.stderr)
  }
}

// --- export files (export.c) ---------------------------------------------------------------------------

/** is_exportable for type settings (no read-only, mandatory or default-valued ap attributes exist). */
function exportable(s: Setting, config: number): boolean {
  if (!s.attrib) return true
  if (s.attrib.readonly) return false
  if (s.attrib.mandatory) return true
  if (scopeActive(config)) {
    if (!s.attrib.defval || s.attrib.defval !== s.value) return true
  }
  if (scopePersistent(config) || scopeAutoconf(config)) return isSet(s)
  return false
}

export class ExportWriter {
  first = true
  text = ''

  constructor(private readonly nodename: string) {}

  /** export_write_devtype: one section per configuration with settings. */
  devtype(st: DtState, config: number): void {
    if (!scopeSingle(config)) {
      if (scopeActive(config)) this.devtype(st, CONFIG_ACTIVE)
      if (scopePersistent(config)) this.devtype(st, CONFIG_PERSISTENT)
      return
    }
    const list = config === CONFIG_ACTIVE ? st.active : st.persistent
    if (!list || list.countSet() === 0) return
    if (this.first) {
      this.text += `# Generated by chzdev on ${this.nodename}\n`
      this.first = false
    } else this.text += '\n'
    this.text += `[${configToStr(config)} ${st.def.name}]\n`
    for (const s of list.items) if (exportable(s, config)) this.text += `${s.name}=${quoteStr(s.value, false)}\n`
  }
}

export type ImportObject = {kind: 'devtype'; st: DtState} | {kind: 'device'; st: Subtype; id: string; config: number; settings: number}

/** export_read: the devtype and device sections of an export file. */
export function exportRead(z: Zdev, filename: string, text: string, objects: ImportObject[]): number {
  const o = z.o
  let rc: number = EXIT.OK
  let dt: DtState | null = null
  let dev: Extract<ImportObject, {kind: 'device'}> | null = null
  let config = CONFIG_ALL
  let lineno = 0
  let importSite = SITE_FALLBACK
  const fwarn = (msg: string) => o.err(`${filename}:${lineno}: ${msg}`)
  const emptyDevtype = (d: DtState) => (!d.active || d.active.items.length === 0) && (!d.persistent || d.persistent.items.length === 0)
  const checkSection = (): boolean => {
    if (dt && emptyDevtype(dt)) {
      fwarn('Empty device type section\n')
      return false
    }
    if (dev && dev.settings === 0 && importSite === SITE_FALLBACK) {
      fwarn('Empty device section\n')
      return false
    }
    return true
  }
  const lines = text.split(/(?<=\n)/).filter((l) => l !== '')
  for (const raw of lines) {
    if (rc !== EXIT.OK) break
    lineno++
    const l = shrinkStr(raw)
    if (!l || l[0] === '#') continue
    const hdr = parseHeader(l)
    if (hdr) {
      if (!checkSection()) {
        rc = EXIT.FORMAT_ERROR
        break
      }
      importSite = hdr.site
      config = hdr.config
      dt = null
      dev = null
      if (!hdr.id) {
        const def = devtypeFind(hdr.type)
        if (!def) {
          fwarn(`Unknown device type '${hdr.type}' in section header\n`)
          rc = EXIT.FORMAT_ERROR
          continue
        }
        dt = z.dt(def)
        if (scopeActive(config)) dt.active = new SettingList()
        if (scopePersistent(config)) dt.persistent = new SettingList()
        objects.push({kind: 'devtype', st: dt})
      } else {
        const found = subtypeFind(hdr.type)
        if (!found) {
          fwarn(devtypeFind(hdr.type) ? `Ambiguous device type '${hdr.type}' in section header\n` : `Unknown device type '${hdr.type}' in section header\n`)
          rc = EXIT.FORMAT_ERROR
          continue
        }
        if (!nsIdValid(nsOf(found.st), hdr.id)) {
          fwarn(`Unknown device ID format '${hdr.id}' in section header\n`)
          rc = EXIT.FORMAT_ERROR
          continue
        }
        const id = normalizeId(found.st, hdr.id)
        const prev = objects.find((x): x is Extract<ImportObject, {kind: 'device'}> => x.kind === 'device' && x.st === found.st && x.id === id)
        dev = prev ?? {kind: 'device', st: found.st, id, config: 0, settings: 0}
        dev.config |= config
        if (!prev && importSite === SITE_FALLBACK) objects.push(dev)
      }
      continue
    }
    const eq = l.indexOf('=')
    if (eq >= 0) {
      const key = shrinkStr(l.slice(0, eq))
      const value = unquoteStr(l.slice(eq + 1))
      if (!dt && !dev) {
        fwarn('Setting outside of valid section\n')
        rc = EXIT.FORMAT_ERROR
        continue
      }
      if (importSite !== SITE_FALLBACK) continue
      if (dt) {
        const a = dt.def.typeAttribs.find((x) => x.name === key)
        if (!a) {
          fwarn(`Skipping unknown device type setting ${key}=${value}\n`)
          continue
        }
        const scopes = scopeSingle(config) ? [config] : [CONFIG_ACTIVE, CONFIG_PERSISTENT, CONFIG_AUTOCONF].filter((c) => config & c)
        for (const c of scopes) {
          const list = c === CONFIG_ACTIVE ? dt.active : dt.persistent
          if (!list) SIGSEGV()
          list!.apply(a, a.name, value)
        }
      } else if (dev) dev.settings++
      continue
    }
    o.warn(`${filename}:${lineno}: Unrecognized line: ${l}\n`)
    rc = EXIT.FORMAT_ERROR
  }
  if (rc === EXIT.OK && !checkSection()) rc = EXIT.FORMAT_ERROR
  return rc
}

function parseHeader(line: string): {config: number; site: number; type: string; id: string | null} | null {
  if (line[0] !== '[' || line[line.length - 1] !== ']') return null
  const argv = line.slice(1, -1).split(/[ \t\n]+/).filter((x) => x !== '')
  if (argv.length !== 2 && argv.length !== 3) return null
  let config: number | null
  let site = SITE_FALLBACK
  const m = /^site([+-]?\d+)/.exec(argv[0])
  if (m) {
    site = parseInt(m[1], 10)
    config = CONFIG_PERSISTENT
  } else config = strToConfig(argv[0])
  if (config === null) return null
  return {config, site, type: argv[1], id: argv[2] ?? null}
}

export {byteOrder}
