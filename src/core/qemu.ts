// What QEMU 10.1's qemu-system-s390x does with the parts of its command line
// that matter for AP pass-through (-cpu and its AP features, -device, -name,
// -machine/-accel/-enable-kvm, -smp), the HMP device_add/device_del argument
// parsing, and the exact texts QEMU (and libvirt) print around vfio-ap.
//
// Pure: no I/O, no process access. Every message text below is QEMU's own;
// the source file each one comes from is named next to it.
//
// How QEMU reports (util/qemu-error.c): on stderr a message is
//   "<prog>: [<location>: ]<text>"      (error_report)
//   "<prog>: [<location>: ]warning: <text>"  (warn_report)
// where <prog> is the basename of argv[0] and <location> is the command-line
// option being processed (argv words joined by a space, e.g. "-device vfio-ap,x=y").
// Locations exist only while options are parsed and while each -device is
// created; everything after the option loop (machine, accelerator, -cpu,
// CPU creation) prints without one. Inside the HMP monitor there is neither a
// program name nor a location, and command errors get "Error: " (hmp_handle_error).

import {AplabError, ERRNO, type Errno} from './errors.js'
import {own, table} from './table.js'

// ---------------------------------------------------------------------------
// Errors

export interface QemuErrorInit {
  exitCode?: number
  /** Lines QEMU printed on stderr before the error (warnings), without newlines. */
  before?: string[]
  /** What QEMU printed on stdout (rare: HMP string syntax errors, option help). */
  stdout?: string
}

/**
 * QEMU stopped (or, in the monitor, refused a command). `message` is the error
 * as printed: one line, or several when QEMU adds hint lines; no trailing newline.
 * `stderr` is everything QEMU printed on stderr up to and including it.
 */
export class QemuError extends AplabError {
  readonly lines: string[]
  readonly before: string[]
  readonly stdout: string
  constructor(lines: string | string[], init: QemuErrorInit = {}) {
    const ls = typeof lines === 'string' ? [lines] : lines
    super(ls.join('\n'), init.exitCode ?? 1)
    this.lines = ls
    this.before = init.before ?? []
    this.stdout = init.stdout ?? ''
  }
  /** The complete stderr text, one newline after each line. */
  get stderr(): string {
    return [...this.before, ...this.lines].map((l) => l + '\n').join('')
  }
}

// ---------------------------------------------------------------------------
// Small formatting helpers (util/qemu-error.c, qapi/qmp/qerror.h)

export const QEMU_PROG = 'qemu-system-s390x'

/** g_set_prgname(basename(argv[0])) as error_init() does. */
export function progName(argv0: string = QEMU_PROG): string {
  const i = argv0.lastIndexOf('/')
  return i < 0 ? argv0 : argv0.slice(i + 1)
}

function hintLines(hint?: string): string[] {
  if (!hint) return []
  return hint.replace(/\n$/, '').split('\n')
}

/** error_report()/error_report_err() on stderr: the message line, then any hint lines. */
export function stderrError(msg: string, location?: string | null, hint?: string, prog: string = QEMU_PROG): string[] {
  return [`${prog}: ${location ? location + ': ' : ''}${msg}`, ...hintLines(hint)]
}

/** warn_report() on stderr. */
export function stderrWarning(msg: string, location?: string | null, prog: string = QEMU_PROG): string {
  return `${prog}: ${location ? location + ': ' : ''}warning: ${msg}`
}

/** An -device error at startup: "<prog>: -device <arg>: <msg>" (hint lines follow). */
export function startupDeviceError(dev: Pick<QemuDevice, 'location'>, msg: string, hint?: string, prog: string = QEMU_PROG): string[] {
  return stderrError(msg, dev.location ?? null, hint, prog)
}

/** An HMP command error as the monitor shows it (hmp_handle_error: error_reportf_err(err, "Error: ")). */
export function hmpError(msg: string, hint?: string): string[] {
  return [`Error: ${msg}`, ...hintLines(hint)]
}

/** How libvirt reports a failed QMP command (qemuMonitorJSONCheckError), e.g. for device_add. */
export function libvirtQmpError(command: string, desc: string): string {
  return `internal error: unable to execute QEMU command '${command}': ${desc}`
}

const strerr = (e: Errno): string => ERRNO[e][1]

/** QERR_INVALID_PARAMETER_VALUE */
export const invalidParameterValue = (name: string, expected: string): string => `Parameter '${name}' expects ${expected}`
/** QERR_MISSING_PARAMETER */
export const missingParameter = (name: string): string => `Parameter '${name}' is missing`
/** QERR_INVALID_PARAMETER */
export const invalidParameter = (name: string): string => `Invalid parameter '${name}'`
/** qom/object.c object_property_find_err() */
export const propertyNotFound = (type: string, prop: string): string => `Property '${type}.${prop}' not found`
/** qom/object.c object_property_set() on a read-only property */
export const propertyNotWritable = (type: string, prop: string): string => `Property '${type}.${prop}' is not writable`

/** util/qemu-option.c qemu_opts_create(): an id that is not an identifier. */
export const ID_NOT_IDENTIFIER = invalidParameterValue('id', 'an identifier')
export const ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter.\n"

/** util/id.c id_wellformed() */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9\-._]*$/.test(id)
}

// ---------------------------------------------------------------------------
// CPU features (target/s390x/cpu_features_def.h.inc)

export type ApFeature = 'ap' | 'apqci' | 'apft' | 'apqi'
export const AP_FEATURES: readonly ApFeature[] = ['ap', 'apqci', 'apft', 'apqi']

/** The AP features in QEMU's internal feature order (STFL bits 12, 15, 65, then the MISC "ap"). */
const AP_ENUM_ORDER: readonly ApFeature[] = ['apqci', 'apft', 'apqi', 'ap']

/** Feature descriptions, as `-cpu help` lists them. */
export const AP_FEATURE_DESC: Record<ApFeature, string> = {
  ap: 'AP instructions installed',
  apqci: 'Query AP Configuration Information facility',
  apft: 'AP Facilities Test facility',
  apqi: 'AP-Queue interruption facility',
}

/**
 * The AP dependencies of check_consistency() (target/s390x/cpu_models.c), in
 * the order of its table: each is a warning only, the guest still starts.
 */
const AP_DEPENDENCIES: ReadonlyArray<readonly [ApFeature, ApFeature]> = [
  ['apqci', 'ap'],
  ['apft', 'ap'],
  ['apqi', 'ap'],
]

/** The generation whose full feature list (full_GEN12_GA1, gen-features.c) brings all four AP features. */
export const AP_MIN_GENERATION = 12

// Other s390x CPU feature and group names: they are properties of every s390x
// CPU object, so -cpu MODEL,NAME=on|off accepts them. The AP ones are modelled;
// these are only checked for existence and a boolean value.
const OTHER_FEATURES = new Set(
  (
    // STFL(E)
    'esan3 zarch dateh idtes idter asnlxr stfle edat srs csske ctop ipter nonqks etf2 msa-base ldisp ldisphp hfpm eimm etf3 ' +
    'hfpue etf2eh stckf parseh mvcos tods-base etf3eh ectg csst csst2 ginste exrl emon fpe opc sprogp fpseh dfp dfphp pfpo ' +
    'stfle45 cmpsceh dfpzc stfle49 cte ltlbc iacc2 stfle53 eec msa5-base minste2 sema tsi minste3 ri zpci aen ais te sthyi ' +
    'aefsi msa3-base msa4-base edat2 dfppc ppa15 bpb vx iep sea_esop2 gs vxpd vxeh mepoch els tpei irbm msa8-base cmmnt ' +
    'vxeh2 esort-base deflate-base vxpdeh msa9-base etoken unpack nnpa ineff_nc_tx vxpdeh2 beareh rdp pai paie vxeh3 vxpdeh3 ccf-base ' +
    // SCLP, MISC, UV
    'gsls esop hpma2 kss 64bscao cmma pfmfi ibs diag318 sief2 skey gpereh siif sigpif ib cei dateh2 cmm appv appvi ' +
    // groups (cpu_features.c)
    'plo tods gen13ptff msa mepochptff esort deflate'
  ).split(' '),
)
/** Subfunction features (PLO, PTFF, CPACF, SORTL, DFLTCC, PFCR) and MSA groups: accepted by pattern. */
const SUBFUNCTION_RE = /^(?:(?:plo|ptff|kmac|kmc|km|kimd|klmd|pckmo|kmctr|kmf|kmo|pcc|ppno|prno|kma|kdsa|sortl|dfltcc|pfcr|hmac)-[a-z0-9-]+|msa\d+(?:_pckmo)?|gen\d+ptff)$/
/** Writable non-feature properties of an s390x CPU object. */
const CPU_WRITABLE_PROPS = new Set(['core-id', 'socket-id', 'book-id', 'drawer-id', 'dedicated', 'entitlement', 'start-powered-off', 'realized', 'hotplugged'])
/** Read-only ones (cpu_models.c: migration-safe, static, description; QOM/qdev: type, hotpluggable, parent_bus). */
const CPU_READONLY_PROPS = new Set(['migration-safe', 'static', 'description', 'type', 'hotpluggable', 'parent_bus'])

/** Whether an s390x CPU object has a property of this name (feature, group or other). */
export function isCpuProperty(name: string): boolean {
  return (
    (AP_FEATURES as readonly string[]).includes(name) ||
    OTHER_FEATURES.has(name) ||
    SUBFUNCTION_RE.test(name) ||
    CPU_WRITABLE_PROPS.has(name) ||
    CPU_READONLY_PROPS.has(name)
  )
}

// ---------------------------------------------------------------------------
// CPU models (target/s390x/cpu_models.c s390_cpu_defs[], register_types())

export interface CpuModelInfo {
  /** The name -cpu takes. */
  name: string
  /** QOM type name: NAME-s390x-cpu. */
  typeName: string
  /** Hardware generation (z13 = 13). For host/max: the host's (0 when not known here). */
  generation: number
  /** EC/GA level within the generation. */
  gaLevel?: number
  /** The machine type number (0x2964 for z13). */
  machineType?: number
  /** The description `-cpu help` shows. */
  description: string
  kind: 'model' | 'base' | 'qemu' | 'host' | 'max'
  /** Static base model (NAME-base): features never change between QEMU versions. */
  static: boolean
  migrationSafe: boolean
  /** Only usable under KVM ('host'). */
  kvmRequired: boolean
}

interface CpuDef {
  type: number
  gen: number
  ga: number
  name: string
  desc: string
}

const CPU_DEFS: readonly CpuDef[] = [
  [0x2064, 7, 1, 'z900', 'IBM zSeries 900 GA1'],
  [0x2064, 7, 2, 'z900.2', 'IBM zSeries 900 GA2'],
  [0x2064, 7, 3, 'z900.3', 'IBM zSeries 900 GA3'],
  [0x2066, 7, 3, 'z800', 'IBM zSeries 800 GA1'],
  [0x2084, 8, 1, 'z990', 'IBM zSeries 990 GA1'],
  [0x2084, 8, 2, 'z990.2', 'IBM zSeries 990 GA2'],
  [0x2084, 8, 3, 'z990.3', 'IBM zSeries 990 GA3'],
  [0x2086, 8, 3, 'z890', 'IBM zSeries 880 GA1'],
  [0x2084, 8, 4, 'z990.4', 'IBM zSeries 990 GA4'],
  [0x2086, 8, 4, 'z890.2', 'IBM zSeries 880 GA2'],
  [0x2084, 8, 5, 'z990.5', 'IBM zSeries 990 GA5'],
  [0x2086, 8, 5, 'z890.3', 'IBM zSeries 880 GA3'],
  [0x2094, 9, 1, 'z9EC', 'IBM System z9 EC GA1'],
  [0x2094, 9, 2, 'z9EC.2', 'IBM System z9 EC GA2'],
  [0x2096, 9, 2, 'z9BC', 'IBM System z9 BC GA1'],
  [0x2094, 9, 3, 'z9EC.3', 'IBM System z9 EC GA3'],
  [0x2096, 9, 3, 'z9BC.2', 'IBM System z9 BC GA2'],
  [0x2097, 10, 1, 'z10EC', 'IBM System z10 EC GA1'],
  [0x2097, 10, 2, 'z10EC.2', 'IBM System z10 EC GA2'],
  [0x2098, 10, 2, 'z10BC', 'IBM System z10 BC GA1'],
  [0x2097, 10, 3, 'z10EC.3', 'IBM System z10 EC GA3'],
  [0x2098, 10, 3, 'z10BC.2', 'IBM System z10 BC GA2'],
  [0x2817, 11, 1, 'z196', 'IBM zEnterprise 196 GA1'],
  [0x2817, 11, 2, 'z196.2', 'IBM zEnterprise 196 GA2'],
  [0x2818, 11, 2, 'z114', 'IBM zEnterprise 114 GA1'],
  [0x2827, 12, 1, 'zEC12', 'IBM zEnterprise EC12 GA1'],
  [0x2827, 12, 2, 'zEC12.2', 'IBM zEnterprise EC12 GA2'],
  [0x2828, 12, 2, 'zBC12', 'IBM zEnterprise BC12 GA1'],
  [0x2964, 13, 1, 'z13', 'IBM z13 GA1'],
  [0x2964, 13, 2, 'z13.2', 'IBM z13 GA2'],
  [0x2965, 13, 2, 'z13s', 'IBM z13s GA1'],
  [0x3906, 14, 1, 'z14', 'IBM z14 GA1'],
  [0x3906, 14, 2, 'z14.2', 'IBM z14 GA2'],
  [0x3907, 14, 1, 'z14ZR1', 'IBM z14 Model ZR1 GA1'],
  [0x8561, 15, 1, 'gen15a', 'IBM z15 T01 GA1'],
  [0x8562, 15, 1, 'gen15b', 'IBM z15 T02 GA1'],
  [0x3931, 16, 1, 'gen16a', 'IBM 3931 GA1'],
  [0x3932, 16, 1, 'gen16b', 'IBM 3932 GA1'],
  [0x9175, 17, 1, 'gen17a', 'IBM 9175 GA1'],
  [0x9176, 17, 1, 'gen17b', 'IBM 9176 GA1'],
].map(([type, gen, ga, name, desc]) => ({type, gen, ga, name, desc}) as CpuDef)

/** The definition of the "qemu" model and of the TCG maximum (QEMU_MAX_CPU_TYPE 0x8561, gen 15 GA1). */
const QEMU_MAX_DEF = CPU_DEFS.find((d) => d.name === 'gen15a') as CpuDef

const CPU_TYPE_SUFFIX = '-s390x-cpu'

function defModel(d: CpuDef, base: boolean): CpuModelInfo {
  const name = base ? `${d.name}-base` : d.name
  return {
    name,
    typeName: name + CPU_TYPE_SUFFIX,
    generation: d.gen,
    gaLevel: d.ga,
    machineType: d.type,
    description: d.desc,
    kind: base ? 'base' : 'model',
    static: base,
    migrationSafe: true,
    kvmRequired: false,
  }
}

/**
 * Every CPU model QEMU 10.1 registers for s390x, in `-cpu help` order: qemu,
 * host, max first, then per definition the static base model and the model.
 */
export const CPU_MODELS: CpuModelInfo[] = [
  {
    name: 'qemu',
    typeName: 'qemu' + CPU_TYPE_SUFFIX,
    generation: QEMU_MAX_DEF.gen,
    gaLevel: QEMU_MAX_DEF.ga,
    machineType: QEMU_MAX_DEF.type,
    description: 'QEMU Virtual CPU version 2.5+',
    kind: 'qemu',
    static: false,
    migrationSafe: true,
    kvmRequired: false,
  },
  {
    name: 'host',
    typeName: 'host' + CPU_TYPE_SUFFIX,
    generation: 0,
    description: 'KVM only: All recognized features',
    kind: 'host',
    static: false,
    migrationSafe: false,
    kvmRequired: true,
  },
  {
    name: 'max',
    typeName: 'max' + CPU_TYPE_SUFFIX,
    generation: 0,
    description: 'Enables all features supported by the accelerator in the current host',
    kind: 'max',
    static: false,
    migrationSafe: false,
    kvmRequired: false,
  },
  ...CPU_DEFS.flatMap((d) => [defModel(d, true), defModel(d, false)]),
]

export function findCpuModel(name: string): CpuModelInfo | undefined {
  return CPU_MODELS.find((m) => m.name === name)
}

function cpuDef(name: string): CpuDef | undefined {
  return CPU_DEFS.find((d) => d.name === name.replace(/-base$/, ''))
}

// ---------------------------------------------------------------------------
// The host

/** What the KVM host offers (from the LPAR: AP instructions with APIE, QCI, APFT, AP interrupts). */
export interface HostCpuFacts {
  ap: boolean
  apqci: boolean
  apft: boolean
  apqi: boolean
  /**
   * The host's CPU model name (e.g. 'gen16a'), if known: models of a later
   * generation or GA level then fail as under real KVM. Unknown: not checked.
   */
  model?: string
}

// ---------------------------------------------------------------------------
// Command-line options (qemu-options.hx, system/vl.c)

interface OptionDef {
  arg: boolean
  /** Not for s390x: "Option not supported for this target". */
  otherArch?: boolean
}

// Every option of qemu-system-s390x 10.1, from the option switch in
// system/vl.c qemu_init() and the DEF() lines of qemu-options.hx.
const OPTIONS: Record<string, OptionDef> = (() => {
  const t = table<OptionDef>()
  const withArg =
    'machine M cpu accel smp numa add-fd set global boot m mem-path k audio audiodev device name uuid ' +
    'fda fdb hda hdb hdc hdd cdrom blockdev drive mtdblock sd pflash fsdev virtfs iscsi usbdevice display vga ' +
    'vnc netdev nic net chardev tpmdev bios kernel shim append initrd dtb compat fw_cfg serial parallel ' +
    'monitor qmp qmp-pretty mon debugcon pidfile overcommit gdb d D dfilter seed L xen-domid action loadvm ' +
    'option-rom rtc icount watchdog-action echr incoming sandbox readconfig trace plugin qtest qtest-log ' +
    'run-with msg dump-vmstate object'
  const noArg =
    'h help version mem-prealloc snapshot usb nographic full-screen preconfig S s enable-kvm xen-attach ' +
    'xen-domid-restrict no-reboot no-shutdown daemonize only-migratable nodefaults no-user-config ' +
    'enable-sync-profile perfmap jitdump'
  for (const o of withArg.split(' ')) t[o] = {arg: true}
  for (const o of noArg.split(' ')) t[o] = {arg: false}
  // Options whose arch mask excludes s390x.
  for (const o of ['g', 'acpitable', 'smbios', 'prom-env', 'semihosting-config']) t[o] = {arg: true, otherArch: true}
  for (const o of ['win2k-hack', 'no-fd-bootchk', 'old-param', 'semihosting']) t[o] = {arg: false, otherArch: true}
  return t
})()

/** Whether qemu-system-s390x knows an option (without its dashes) and whether it takes an argument. */
export function qemuOption(name: string): {takesArgument: boolean; forThisTarget: boolean} | undefined {
  const d = own(OPTIONS, name)
  return d ? {takesArgument: d.arg, forThisTarget: !d.otherArch} : undefined
}

// ---------------------------------------------------------------------------
// QemuOpts syntax (util/qemu-option.c)

interface OptToken {
  name: string
  value: string
  /** "foo" / "nofoo" without '=' (short-form boolean). */
  flag: boolean
  /** "no" when the flag was nofoo. */
  prefix: string
  help: boolean
}

/** get_opt_value(): up to the next single comma; ",," is a literal comma. */
function getOptValue(s: string, p: number): [string, number] {
  let v = ''
  for (;;) {
    const c = s.indexOf(',', p)
    const end = c < 0 ? s.length : c
    if (c >= 0 && s[c + 1] === ',') {
      v += s.slice(p, c + 1)
      p = c + 2
      continue
    }
    v += s.slice(p, end)
    return [v, end]
  }
}

const isHelpOption = (s: string): boolean => s === 'help' || s === '?'

/** get_opt_name_value() over the whole string. */
function optTokens(params: string, firstname: string | null): OptToken[] {
  const out: OptToken[] = []
  let p = 0
  let first = firstname
  while (p < params.length) {
    const rest = params.slice(p)
    const m = /[=,]/.exec(rest)
    const len = m ? m.index : rest.length
    let tok: OptToken
    if (rest[len] !== '=') {
      if (first) {
        const [v, e] = getOptValue(params, p)
        tok = {name: first, value: v, flag: false, prefix: '', help: false}
        p = e
      } else {
        let name = rest.slice(0, len)
        let prefix = ''
        let value = 'on'
        let help = false
        if (name.startsWith('no')) {
          name = name.slice(2)
          value = 'off'
          prefix = 'no'
        } else help = isHelpOption(name)
        tok = {name, value, flag: true, prefix, help}
        p += len
      }
    } else {
      const name = rest.slice(0, len)
      const [v, e] = getOptValue(params, p + len + 1)
      tok = {name, value: v, flag: false, prefix: '', help: false}
      p = e
    }
    if (params[p] === ',') p++
    out.push(tok)
    first = null
  }
  return out
}

/** The warning lines of a short-form boolean (printed at parse time). */
function flagWarning(t: OptToken, location: string | null, prog: string | null): string[] {
  const msg = `short-form boolean option '${t.prefix}${t.name}' deprecated`
  const line = prog === null ? `warning: ${msg}` : stderrWarning(msg, location, prog)
  const please = t.name === 'delay' ? `Please use nodelay=${t.prefix ? 'on' : 'off'} instead` : `Please use ${t.name}=${t.value} instead`
  return [line, please]
}

/** opts_parse_id(): the first "id" item, flags included ("id" alone gives "on"). */
function optsId(params: string): string | undefined {
  return optTokens(params, null).find((t) => t.name === 'id')?.value
}

// ---------------------------------------------------------------------------
// Devices

export interface QemuDevice {
  /** The driver (device type or alias) as given; '' when none was given. */
  driver: string
  id?: string
  /** bus=..., when given (not a property; qdev takes it out). */
  bus?: string
  /** Every other key=value, the last one winning, values as strings. */
  props: Record<string, string>
  /** Given as -device {"driver": ...} (JSON, as libvirt does). */
  json?: boolean
  /** QEMU's message location for this device: "-device <arg>" as on the command line. */
  location?: string
}

/** Aliases qdev resolves on s390x (system/qdev-monitor.c qdev_alias_table, CCW transport). */
const DEVICE_ALIASES: Record<string, string> = table({
  ac97: 'AC97',
  'e1000-82540em': 'e1000',
  es1370: 'ES1370',
  ahci: 'ich9-ahci',
  lsi: 'lsi53c895a',
  'virtio-9p': 'virtio-9p-ccw',
  'virtio-balloon': 'virtio-balloon-ccw',
  'virtio-blk': 'virtio-blk-ccw',
  'virtio-gpu': 'virtio-gpu-ccw',
  'virtio-input-host': 'virtio-input-host-ccw',
  'virtio-keyboard': 'virtio-keyboard-ccw',
  'virtio-mouse': 'virtio-mouse-ccw',
  'virtio-net': 'virtio-net-ccw',
  'virtio-rng': 'virtio-rng-ccw',
  'virtio-scsi': 'virtio-scsi-ccw',
  'virtio-serial': 'virtio-serial-ccw',
  'virtio-tablet': 'virtio-tablet-ccw',
})

/** The device type a driver name means on s390x (aliases resolved). */
export function deviceType(driver: string): string {
  return own(DEVICE_ALIASES, driver) ?? driver
}

function deviceFromPairs(pairs: Array<[string, string]>, id: string | undefined, extra: Partial<QemuDevice>): QemuDevice {
  const d: QemuDevice = {driver: '', props: table(), ...extra}
  if (id !== undefined) d.id = id
  let driver: string | undefined
  for (const [k, v] of pairs) {
    if (k === 'id') continue
    if (k === 'driver') driver = v
    else if (k === 'bus') d.bus = v
    else {
      delete d.props[k]
      d.props[k] = v
    }
  }
  if (driver !== undefined) d.driver = driver
  return d
}

// ---------------------------------------------------------------------------
// JSON as QEMU's parser reads it (qobject/json-lexer.c, json-parser.c, qjson.c)

type JVal = string | number | boolean | null | JVal[] | {[k: string]: JVal}
interface JTok {
  t: '{' | '}' | '[' | ']' | ':' | ',' | 'str' | 'num' | 'kw'
  s: string
  v?: string | number
}

class JsonError extends Error {}

function jsonLex(src: string): {toks: JTok[]; stray?: {at: number; text: string}} {
  const toks: JTok[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    if ('{}[]:,'.includes(c)) {
      toks.push({t: c as JTok['t'], s: c})
      i++
      continue
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      let bad = false
      while (j < src.length && src[j] !== c) {
        if (src.charCodeAt(j) < 0x20) {
          bad = true
          break
        }
        j += src[j] === '\\' ? 2 : 1
      }
      if (bad || j >= src.length) return {toks, stray: {at: i, text: src.slice(i, j + 1)}}
      toks.push({t: 'str', s: src.slice(i, j + 1)})
      i = j + 1
      continue
    }
    const num = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))
    if (num && num[0] !== '-') {
      toks.push({t: 'num', s: num[0]})
      i += num[0].length
      continue
    }
    const kw = /^[a-z]+/.exec(src.slice(i))
    if (kw) {
      toks.push({t: 'kw', s: kw[0]})
      i += kw[0].length
      continue
    }
    return {toks, stray: {at: i, text: c}}
  }
  return {toks}
}

function jsonString(tok: JTok): string {
  const s = tok.s
  let out = ''
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i]
    if (c !== '\\') {
      out += c
      continue
    }
    const e = s[++i]
    const map: Record<string, string> = {'"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}
    if (e in map) out += map[e]
    else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16))
      i += 4
    } else throw new JsonError('JSON parse error, invalid escape sequence in string')
  }
  return out
}

function jsonParseValue(toks: JTok[], pos: {i: number}): JVal {
  const tok = toks[pos.i]
  if (!tok) throw new JsonError('JSON parse error, premature EOI')
  if (tok.t === '{') {
    pos.i++
    const obj = table<JVal>()
    if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
    if (toks[pos.i].t === '}') {
      pos.i++
      return obj
    }
    for (;;) {
      if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
      const key = jsonParseValue(toks, pos)
      if (typeof key !== 'string') throw new JsonError('JSON parse error, key is not a string in object')
      const colon = toks[pos.i++]
      if (!colon) throw new JsonError('JSON parse error, premature EOI')
      if (colon.t !== ':') throw new JsonError('JSON parse error, missing : in object pair')
      const value = jsonParseValue(toks, pos)
      if (Object.prototype.hasOwnProperty.call(obj, key)) throw new JsonError('JSON parse error, duplicate key')
      obj[key] = value
      const sep = toks[pos.i++]
      if (!sep) throw new JsonError('JSON parse error, premature EOI')
      if (sep.t === '}') return obj
      if (sep.t !== ',') throw new JsonError('JSON parse error, expected separator in dict')
    }
  }
  if (tok.t === '[') {
    pos.i++
    const list: JVal[] = []
    if (!toks[pos.i]) throw new JsonError('JSON parse error, premature EOI')
    if (toks[pos.i].t === ']') {
      pos.i++
      return list
    }
    for (;;) {
      list.push(jsonParseValue(toks, pos))
      const sep = toks[pos.i++]
      if (!sep) throw new JsonError('JSON parse error, premature EOI')
      if (sep.t === ']') return list
      if (sep.t !== ',') throw new JsonError('JSON parse error, expected separator in list')
    }
  }
  if (tok.t === 'str') {
    pos.i++
    return jsonString(tok)
  }
  if (tok.t === 'num') {
    pos.i++
    return Number(tok.s)
  }
  if (tok.t === 'kw') {
    pos.i++
    if (tok.s === 'true') return true
    if (tok.s === 'false') return false
    if (tok.s === 'null') return null
    throw new JsonError(`JSON parse error, invalid keyword '${tok.s}'`)
  }
  throw new JsonError('JSON parse error, expecting value')
}

/** The end (exclusive) of the first top-level value's tokens, as the JSON streamer splits them. */
function firstValueEnd(toks: JTok[]): number {
  let depth = 0
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i].t
    if (t === '{' || t === '[') depth++
    else if (t === '}' || t === ']') depth--
    if (depth <= 0) return i + 1
  }
  return toks.length
}

/** qobject_from_json(): the value, or QEMU's error text (thrown as JsonError). */
export function qemuJsonParse(src: string): JVal {
  const {toks, stray} = jsonLex(src)
  const end = firstValueEnd(toks)
  // The streamer hands a value to the parser once its brackets balance.
  const firstDone = toks.length > 0 && depthZero(toks.slice(0, end))
  if (stray && !firstDone) throw new JsonError(`JSON parse error, stray '${stray.text}'`)
  if (!firstDone && toks.length === 0) throw new JsonError('Expecting a JSON value')
  const v = jsonParseValue(toks.slice(0, end), {i: 0})
  if (stray || end < toks.length) throw new JsonError('Expecting at most one JSON value')
  return v
}

function depthZero(toks: JTok[]): boolean {
  let d = 0
  for (const t of toks) {
    if (t.t === '{' || t.t === '[') d++
    else if (t.t === '}' || t.t === ']') d--
  }
  return d === 0 && toks.length > 0
}

/** qnum_to_string(): integers as %PRId64, doubles as %.17g. */
function qnumToString(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString()
  let s = n.toPrecision(17)
  if (s.includes('e')) {
    const [m, e] = s.split('e')
    const mm = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m
    const ee = Number(e)
    return `${mm}e${ee < 0 ? '-' : '+'}${String(Math.abs(ee)).padStart(2, '0')}`
  }
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '')
  return s
}

/** qemu_opts_from_qdict(): strings, numbers and booleans become strings; other values are dropped. */
function jsonDevice(obj: {[k: string]: JVal}, location: string): QemuDevice {
  const pairs: Array<[string, string]> = []
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'id') continue
    if (typeof v === 'string') pairs.push([k, v])
    else if (typeof v === 'number') pairs.push([k, qnumToString(v)])
    else if (typeof v === 'boolean') pairs.push([k, v ? 'on' : 'off'])
  }
  const id = own(obj, 'id')
  const idText = typeof id === 'string' ? id : undefined
  return deviceFromPairs(pairs, idText, {json: true, location})
}

// ---------------------------------------------------------------------------
// keyval syntax for -machine and -smp (util/keyval.c), as far as needed here

function keyvalParse(s: string, implied: string | null): {pairs: Array<[string, string]>; help: boolean; error?: string} {
  const pairs: Array<[string, string]> = []
  let p = 0
  let first = true
  let help = false
  while (p < s.length) {
    const rest = s.slice(p)
    const m = /[=,]/.exec(rest)
    const len = m ? m.index : rest.length
    const key = rest.slice(0, len)
    if (len && rest[len] !== '=') {
      if (isHelpOption(key)) {
        help = true
        p += len + (rest[len] === ',' ? 1 : 0)
        first = false
        continue
      }
      if (first && implied) {
        const [v, e] = getOptValue(s, p)
        pairs.push([implied, v])
        p = e + (s[e] === ',' ? 1 : 0)
        first = false
        continue
      }
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) return {pairs, help, error: `Invalid parameter '${key}'`}
    if (rest[len] !== '=') return {pairs, help, error: `Expected '=' after parameter '${key}'`}
    const [v, e] = getOptValue(s, p + len + 1)
    pairs.push([key, v])
    p = e + (s[e] === ',' ? 1 : 0)
    first = false
  }
  return {pairs, help}
}

// ---------------------------------------------------------------------------
// parseQemuArgs

export type Accel = 'kvm' | 'tcg'

export interface ParsedQemu {
  /** -name NAME or -name guest=NAME,... (the last one). */
  name?: string
  /** The CPU model: as given to -cpu, else the machine default ('host' under KVM, 'qemu' under TCG). */
  cpuModel: string
  /** Its QOM type (MODEL-s390x-cpu). */
  cpuType: string
  /** Effective AP features after model defaults and explicit settings. */
  features: Record<ApFeature, boolean>
  /** Other -cpu settings, by property name (value as given). */
  cpuProps: Record<string, string>
  /** Every -device, in command-line order. QEMU creates the non-JSON ones first, then the JSON ones. */
  devices: QemuDevice[]
  /** Full stderr lines QEMU prints on a successful start, in order. */
  warnings: string[]
  accel: Accel
  /** The machine type (aliases resolved): 's390-ccw-virtio-10.1'. */
  machine: string
  /** Number of vCPUs created at startup (-smp). */
  cpus: number
  /** Whether the machine gets an AP bridge and ap-bus (s390_init_ap: only with the ap feature). */
  apBus: boolean
  /** QEMU exits before starting a guest (help, version): nothing after this point was checked. */
  earlyExit?: {reason: 'help' | 'version' | 'cpu-help' | 'device-help' | 'machine-help' | 'accel-help'; exitCode: number}
}

export interface QemuParseOptions {
  /** argv[0]; its basename is the message prefix and decides the default accelerator. Default 'qemu-system-s390x'. */
  argv0?: string
  /** Whether /dev/kvm works (default true: this is a KVM host). */
  kvmAvailable?: boolean
}

/** `-name ...,help`: qemu_opts_print_help() of qemu_name_opts on stdout, then exit 1. */
const NAME_HELP =
  'name options:\n' +
  '  debug-threads=<bool (on/off)> - When enabled, name the individual threads; defaults off.\n' +
  'NOTE: The thread names are for debugging and not a\n' +
  'stable API.\n' +
  '  guest=<str>            - Sets the name of the guest.\n' +
  'This name will be displayed in the SDL window caption.\n' +
  'The name will also be used for the VNC server\n' +
  '  process=<str>          - Sets the name of the QEMU process, as shown in top etc\n'

export const LATEST_MACHINE = 's390-ccw-virtio-10.1'

function machineKnown(name: string): string | undefined {
  if (name === 's390-ccw-virtio') return LATEST_MACHINE
  if (name === 'none') return name
  const m = /^s390-ccw-virtio-(\d+)\.(\d+)$/.exec(name)
  if (!m) return undefined
  const [maj, min] = [Number(m[1]), Number(m[2])]
  if (maj < 2 || maj > 10 || (maj === 10 && min > 1)) return undefined
  return name
}

interface CpuModelState {
  info: CpuModelInfo
  def?: CpuDef
  ap: Record<ApFeature, boolean>
}

const noAp = (): Record<ApFeature, boolean> => ({ap: false, apqci: false, apft: false, apqi: false})

/**
 * What qemu-system-s390x 10.1 does with its command line up to the point where
 * the guest would run. `argv` are the arguments after the program name.
 * Throws QemuError with QEMU's exact stderr text (and exit code 1) where QEMU
 * exits. Device creation (bus lookup, vfio realize) is not done: see
 * deviceCreateError() and the message functions below.
 */
export function parseQemuArgs(argv: string[], host: HostCpuFacts, options: QemuParseOptions = {}): ParsedQemu {
  const argv0 = options.argv0 ?? QEMU_PROG
  const prog = progName(argv0)
  const kvmAvailable = options.kvmAvailable ?? true
  const warnings: string[] = []
  const fail = (lines: string[], exitCode = 1): never => {
    throw new QemuError(lines, {before: [...warnings], exitCode})
  }
  const err = (msg: string, loc: string | null = null, hint?: string): never => fail(stderrError(msg, loc, hint, prog))

  const lookup = (a: string): OptionDef | undefined => own(OPTIONS, a.startsWith('--') ? a.slice(2) : a.slice(1))

  // First pass: every option must exist and have its argument (lookup_opt()).
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('-')) continue
    const d = lookup(a)
    if (!d) err('invalid option', a)
    if (d!.arg) {
      if (i + 1 >= argv.length) err('requires an argument', a)
      i++
    }
  }

  // Second pass.
  let cpuOption: string | undefined
  let name: string | undefined
  const nameOpts: Array<[string, string]> = []
  const devices: QemuDevice[] = []
  const optsIds = new Set<string>()
  const machineDict = table<string>()
  const accelOpts: string[] = []
  let smp = table<string>()
  const result = (): ParsedQemu => ({
    ...(name !== undefined ? {name} : {}),
    cpuModel: '',
    cpuType: '',
    features: noAp(),
    cpuProps: {},
    devices,
    warnings,
    accel: 'tcg',
    machine: LATEST_MACHINE,
    cpus: 1,
    apBus: false,
  })

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('-')) continue // a disk image (drive_add)
    const opt = a.startsWith('--') ? a.slice(2) : a.slice(1)
    const d = own(OPTIONS, opt)!
    const arg = d.arg ? argv[++i] : undefined
    const loc = d.arg ? `${a} ${arg}` : a
    if (d.otherArch) err('Option not supported for this target', loc)
    switch (opt) {
      case 'h':
      case 'help':
        return {...result(), earlyExit: {reason: 'help', exitCode: 0}}
      case 'version':
        return {...result(), earlyExit: {reason: 'version', exitCode: 0}}
      case 'xen-attach':
      case 'xen-domid-restrict':
        err('Option not supported for this target', loc)
        break
      case 'cpu':
        cpuOption = arg
        break
      case 'enable-kvm':
        machineDict.accel = 'kvm'
        break
      case 'M':
      case 'machine': {
        const kv = keyvalParse(arg!, 'type')
        if (kv.error) err(kv.error, loc)
        for (const [k, v] of kv.pairs) machineDict[k] = v
        if (kv.help) return {...result(), earlyExit: {reason: 'machine-help', exitCode: 0}}
        break
      }
      case 'accel': {
        const toks = optTokens(arg!, 'accel')
        for (const t of toks) if (t.flag && !t.help) warnings.push(...flagWarning(t, loc, prog))
        const acc = toks.filter((t) => t.name === 'accel').pop()?.value
        if (acc === undefined || isHelpOption(acc)) return {...result(), earlyExit: {reason: 'accel-help', exitCode: 0}}
        accelOpts.push(acc)
        break
      }
      case 'smp': {
        const kv = keyvalParse(arg!, 'cpus')
        if (kv.error) err(kv.error, loc)
        for (const [k, v] of kv.pairs) smp[k] = v
        break
      }
      case 'name': {
        // qemu_name_opts: implied "guest", merge_lists, keys guest/process/debug-threads.
        if (optsId(arg!) !== undefined) err(invalidParameter('id'), loc)
        const toks = optTokens(arg!, 'guest')
        for (const t of toks) {
          if (t.help) throw new QemuError([], {before: [...warnings], stdout: NAME_HELP})
          if (t.flag) warnings.push(...flagWarning(t, loc, prog))
          if (t.name === 'id') continue
          if (!['guest', 'process', 'debug-threads'].includes(t.name)) err(invalidParameter(t.name), loc)
          if (t.name === 'debug-threads' && !/^(on|yes|true|y|off|no|false|n)$/.test(t.value)) {
            err(invalidParameterValue('debug-threads', "'on' or 'off'"), loc)
          }
          nameOpts.push([t.name, t.value])
        }
        const g = nameOpts.filter(([k]) => k === 'guest').pop()
        name = g ? g[1] : undefined
        break
      }
      case 'device': {
        if (arg!.startsWith('{')) {
          let obj: JVal
          try {
            obj = qemuJsonParse(arg!)
          } catch (e) {
            if (e instanceof JsonError) err(e.message, loc)
            throw e
          }
          devices.push(jsonDevice(obj as {[k: string]: JVal}, loc))
          break
        }
        const id = optsId(arg!)
        if (id !== undefined) {
          if (!idWellformed(id)) err(ID_NOT_IDENTIFIER, loc, ID_HINT)
          if (optsIds.has(id)) err(duplicateOptsId(id, 'device'), loc)
          optsIds.add(id)
        }
        const toks = optTokens(arg!, 'driver')
        for (const t of toks) if (t.flag && !t.help) warnings.push(...flagWarning(t, loc, prog))
        devices.push(deviceFromPairs(toks.map((t) => [t.name, t.value]), id, {location: loc}))
        break
      }
      default:
        break // consumed quietly
    }
  }

  // qemu_process_help_options(): -cpu help, -device help / -device DRIVER,help.
  if (cpuOption !== undefined && isHelpOption(cpuOption)) return {...result(), earlyExit: {reason: 'cpu-help', exitCode: 0}}
  for (const dv of devices) {
    if (dv.json) continue
    if (isHelpOption(dv.driver) || (dv.driver && Object.keys(dv.props).some(isHelpOption))) {
      return {...result(), earlyExit: {reason: 'device-help', exitCode: 0}}
    }
  }

  // qemu_create_machine(): the machine type.
  const type = own(machineDict, 'type')
  let machine = LATEST_MACHINE
  if (type !== undefined) {
    const known = machineKnown(type)
    if (!known) err(`unsupported machine type: "${type}"`, null, 'Use -machine help to list supported machines\n')
    machine = known!
  }

  // configure_accelerators()
  const accel = configureAccel(own(machineDict, 'accel'), accelOpts, argv0, kvmAvailable, prog, warnings, err)

  // parse_cpu_option(); the default CPU type is "host" under KVM (kvm_arch_init), else "qemu".
  let modelName = accel === 'kvm' ? 'host' : 'qemu'
  let featureText: string | undefined
  if (cpuOption !== undefined) {
    if (cpuOption === '') err('-cpu option cannot be empty')
    const comma = cpuOption.indexOf(',')
    modelName = comma < 0 ? cpuOption : cpuOption.slice(0, comma)
    featureText = comma < 0 ? undefined : cpuOption.slice(comma + 1)
  }
  const info = findCpuModel(modelName)
  if (!info) err(`unable to find CPU model '${modelName}'`)
  const globals: Array<[string, string]> = []
  if (featureText !== undefined) {
    for (const f of featureText.split(',')) {
      if (f === '') continue // strtok() skips empty items
      const eq = f.indexOf('=')
      if (eq < 0) err(`Expected key=value format, found ${f}.`)
      globals.push([f.slice(0, eq), f.slice(eq + 1)])
    }
  }

  // -smp: the number of vCPUs created now (machine_parse_smp_config, simplified).
  const num = (k: string): number => {
    const v = Number(own(smp, k))
    return own(smp, k) !== undefined && Number.isInteger(v) && v > 0 ? v : 0
  }
  let cpus = num('cpus')
  if (!cpus) cpus = num('maxcpus')
  if (!cpus) cpus = ['drawers', 'books', 'sockets', 'cores', 'threads'].reduce((n, k) => n * (num(k) || 1), 1)

  const parsedBase = {
    ...(name !== undefined ? {name} : {}),
    cpuModel: modelName,
    cpuType: info!.typeName,
    devices,
    warnings,
    accel,
    machine,
    cpus,
  }
  if (machine === 'none') {
    // No CPUs are created from the machine and there is no AP bus.
    return {...parsedBase, features: noAp(), cpuProps: table(globals), apBus: false}
  }

  // The CPU objects: object_new() applies the -cpu globals (error_fatal), then realize.
  const st = cpuInitialState(info!, accel, host)
  const cpuProps = table<string>()
  for (const [prop, value] of globals) {
    const m = applyCpuGlobal(st, prop, value)
    if (m) err(`can't apply global ${info!.typeName}.${prop}=${value}: ${m}`)
    if (!(AP_FEATURES as readonly string[]).includes(prop)) cpuProps[prop] = value
  }
  for (let n = 0; n < cpus; n++) {
    // s390_realize_cpu_model()
    if (info!.kvmRequired && accel !== 'kvm') err('CPU definition requires KVM')
    for (const [f, req] of AP_DEPENDENCIES) {
      if (st.ap[f] && !st.ap[req]) warnings.push(stderrWarning(`'${f}' requires '${req}'.`, null, prog))
    }
    const c = checkCompatibility(st, accel, host)
    if (c) err(c)
  }

  return {...parsedBase, features: {...st.ap}, cpuProps, apBus: st.ap.ap}
}

function configureAccel(
  machineAccel: string | undefined,
  accelOpts: string[],
  argv0: string,
  kvmAvailable: boolean,
  prog: string,
  warnings: string[],
  err: (msg: string, loc?: string | null, hint?: string) => never,
): Accel {
  const available = (a: string): boolean => a === 'tcg' || a === 'kvm'
  const names = {kvm: 'KVM', tcg: 'tcg'} as const
  let list: string[]
  let initFailed = false
  if (accelOpts.length === 0) {
    const spec = machineAccel ?? (argv0.endsWith('kvm') ? 'kvm:tcg' : 'tcg:kvm')
    list = []
    for (const a of spec.split(':')) {
      if (available(a)) list.push(a)
      else {
        initFailed = true
        warnings.push(stderrError(`invalid accelerator ${a}`, null, undefined, prog)[0])
      }
    }
  } else {
    if (machineAccel !== undefined) err('The -accel and "-machine accel=" options are incompatible')
    list = accelOpts
  }
  for (const a of list) {
    if (!available(a)) {
      warnings.push(stderrError(`invalid accelerator ${a}`, null, undefined, prog)[0])
      initFailed = true
      continue
    }
    if (a === 'kvm' && !kvmAvailable) {
      warnings.push(stderrError('Could not access KVM kernel module: No such file or directory', null, undefined, prog)[0])
      warnings.push(stderrError('failed to initialize kvm: No such file or directory', null, undefined, prog)[0])
      initFailed = true
      continue
    }
    if (initFailed) warnings.push(stderrError(`falling back to ${names[a as Accel]}`, null, undefined, prog)[0])
    return a as Accel
  }
  if (initFailed) {
    const last = warnings.pop() as string
    throw new QemuError([last], {before: [...warnings]})
  }
  return err('no accelerator found')
}

function cpuInitialState(info: CpuModelInfo, accel: Accel, host: HostCpuFacts): CpuModelState {
  switch (info.kind) {
    case 'model':
    case 'base':
      // default_feat / base_feat: no default_GENxx or base list has the AP features.
      return {info, def: cpuDef(info.name), ap: noAp()}
    case 'qemu':
      return {info, def: QEMU_MAX_DEF, ap: noAp()}
    case 'host':
    case 'max':
      if (accel === 'kvm') {
        // kvm_s390_get_host_cpu_model(): ap if KVM offers APIE, the others from the facility list.
        const def = host.model ? cpuDef(host.model) : undefined
        return {info, def, ap: {ap: host.ap, apqci: host.apqci, apft: host.apft, apqi: host.apqi}}
      }
      return {info, def: QEMU_MAX_DEF, ap: noAp()}
  }
}

/** set_feature() etc. through the string input visitor: the error text, or null. */
function applyCpuGlobal(st: CpuModelState, prop: string, value: string): string | null {
  const type = st.info.typeName
  if (!isCpuProperty(prop)) return propertyNotFound(type, prop)
  if (CPU_READONLY_PROPS.has(prop)) return propertyNotWritable(type, prop)
  if (CPU_WRITABLE_PROPS.has(prop)) return null
  let on: boolean
  if (['on', 'yes', 'true', 'y'].includes(value)) on = true
  else if (['off', 'no', 'false', 'n'].includes(value)) on = false
  else return invalidParameterValue(prop, "'on' or 'off'")
  if (!(AP_FEATURES as readonly string[]).includes(prop)) return null
  const f = prop as ApFeature
  if (on) {
    // The feature must be in the model's full feature list (introduced by zEC12 GA1).
    const gen = st.def ? st.def.gen : AP_MIN_GENERATION
    if (gen < AP_MIN_GENERATION) {
      return `Feature '${f}' is not available for CPU model '${st.def!.name}', it was introduced with later models.`
    }
  }
  st.ap[f] = on
  return null
}

/** check_compatibility() against the maximum model of the accelerator: the error text, or null. */
function checkCompatibility(st: CpuModelState, accel: Accel, host: HostCpuFacts): string | null {
  const maxDef = accel === 'kvm' ? (host.model ? cpuDef(host.model) : undefined) : QEMU_MAX_DEF
  const maxAp: Record<ApFeature, boolean> =
    accel === 'kvm' ? {ap: host.ap, apqci: host.apqci, apft: host.apft, apqi: host.apqi} : noAp()
  if (maxDef && st.def) {
    if (st.def.gen > maxDef.gen) {
      return `Selected CPU generation is too new. Maximum supported model in the configuration: '${maxDef.name}'`
    }
    if (st.def.gen === maxDef.gen && st.def.ga > maxDef.ga) {
      return `Selected CPU GA level is too new. Maximum supported model in the configuration: '${maxDef.name}'`
    }
  }
  const missing = AP_ENUM_ORDER.filter((f) => st.ap[f] && !maxAp[f])
  if (missing.length === 0) return null
  return missingFeatures(missing)
}

/**
 * "Some features requested in the CPU model are not available in the
 * configuration: ..." QEMU starts from " " and prepends "NAME " for each
 * missing feature in its feature order, so the names come out in reverse
 * order and the line ends with two spaces.
 */
export function missingFeatures(names: readonly string[]): string {
  const order = (n: string): number => {
    const i = AP_ENUM_ORDER.indexOf(n as ApFeature)
    return i < 0 ? -1 : i
  }
  const sorted = [...names].sort((a, b) => order(a) - order(b))
  let s = ' '
  for (const n of sorted) s = `${n} ${s}`
  return 'Some features requested in the CPU model are not available in the configuration: ' + s
}

// ---------------------------------------------------------------------------
// Device creation (system/qdev-monitor.c qdev_device_add_from_qdict)

export interface DeviceCreateContext {
  /** The machine has an ap-bus (the guest CPU has the ap feature). */
  apBus: boolean
  /** A vfio-ap device already sits on it (max_dev = 1). */
  apBusOccupied: boolean
  /** Ids of the devices that exist already (qdev's /machine/peripheral). */
  existingIds?: readonly string[]
}

/**
 * The error qdev gives when creating this device (before vfio-ap's realize),
 * as the bare message (no prefix), or null if creation gets as far as realize.
 * Only vfio-ap is modelled; other drivers give null.
 * Wrap it with startupDeviceError(), hmpError() or libvirtQmpError().
 */
export function deviceCreateError(dev: QemuDevice, ctx: DeviceCreateContext): {msg: string; hint?: string} | null {
  // qmp_device_add() -> qemu_opts_from_qdict(): the id of a JSON device is checked only now.
  if (dev.json && dev.id !== undefined && !idWellformed(dev.id)) return {msg: ID_NOT_IDENTIFIER, hint: ID_HINT}
  if (!dev.driver) return {msg: missingParameter('driver')}
  const type = deviceType(dev.driver)
  if (notAQemuType(type)) return {msg: notValidDeviceModel(dev.driver)}
  if (type === 'ap-device') return {msg: invalidParameterValue('driver', 'a non-abstract device type')}
  if (type === 'ap-bridge') return {msg: invalidParameterValue('driver', 'a pluggable device type')}
  if (type !== 'vfio-ap') return null
  if (dev.bus !== undefined) {
    if (dev.bus === 'ap-bus') {
      if (!ctx.apBus) return {msg: busNotFound('ap-bus')}
      if (ctx.apBusOccupied) return {msg: busFull('ap-bus')}
    } else if (dev.bus === 'main-system-bus') {
      return {msg: deviceCantGoOnBus('vfio-ap', 'System')}
    } else return {msg: busNotFound(dev.bus.replace(/\/.*$/, ''))}
  } else if (!ctx.apBus || ctx.apBusOccupied) return {msg: noApBus()}
  if (dev.id !== undefined && ctx.existingIds?.includes(dev.id)) return {msg: duplicateDeviceId(dev.id)}
  for (const k of Object.keys(dev.props)) {
    if (!VFIO_AP_PROPS.has(k)) return {msg: propertyNotFound('vfio-ap', k)}
  }
  return null
}

/** QEMU's vfio device types on s390x; the AP ones besides. */
const VFIO_TYPES = new Set(['vfio-ap', 'vfio-ccw', 'vfio-pci', 'vfio-pci-nohotplug', 'vfio-user-pci'])
const AP_TYPES = ['vfio-ap', 'ap-bridge', 'ap-device']

/**
 * A driver name QEMU has no type for, as far as aplab can tell: QEMU models
 * many devices aplab does not, so only near misses of the AP and vfio types
 * are refused (`vfio_ap`, `VFIO-AP`, `vfio-apx`); other names pass.
 */
function notAQemuType(type: string): boolean {
  if (AP_TYPES.includes(type) || VFIO_TYPES.has(type)) return false
  return AP_TYPES.includes(type.toLowerCase().replace(/_/g, '-')) || /^vfio/i.test(type)
}

/** Properties of vfio-ap (hw/vfio/ap.c: sysfsdev, iommufd with CONFIG_IOMMUFD, fd) and of every device. */
const VFIO_AP_PROPS = new Set(['sysfsdev', 'iommufd', 'fd', 'realized', 'hotplugged', 'hotpluggable', 'parent_bus', 'type'])

/** QEMU creates the non-JSON -device options first, then the JSON ones (qemu_create_cli_devices). */
export function devicesInCreationOrder(devices: readonly QemuDevice[]): QemuDevice[] {
  return [...devices.filter((d) => !d.json), ...devices.filter((d) => d.json)]
}

// ---------------------------------------------------------------------------
// HMP: device_add, device_del (monitor/hmp.c, system/qdev-monitor.c)

const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c)

/** monitor/hmp.c get_str(): a "quoted" string with \n \r \\ \' \" escapes, or a word up to white space. */
function hmpGetStr(s: string, p: number): {value: string; end: number; stdout?: string} | null {
  while (isSpace(s[p])) p++
  if (p >= s.length) return null
  let v = ''
  if (s[p] === '"') {
    p++
    while (p < s.length && s[p] !== '"') {
      if (s[p] === '\\') {
        p++
        const c = s[p++]
        const map: Record<string, string> = {n: '\n', r: '\r', '\\': '\\', "'": "'", '"': '"'}
        if (c === undefined || !(c in map)) return {value: '', end: -1, stdout: `unsupported escape code: '\\${c ?? ''}'\n`}
        v += map[c]
      } else v += s[p++]
    }
    if (s[p] !== '"') return {value: '', end: -1, stdout: 'unterminated string\n'}
    p++
  } else {
    while (p < s.length && !isSpace(s[p])) v += s[p++]
  }
  return {value: v.slice(0, 1023), end: p}
}

const tryHelp = (cmd: string): string => `Try "help ${cmd}" for more information`

export interface HmpDeviceAdd {
  device: QemuDevice
  /** Lines the monitor printed while parsing (short-form boolean warnings). */
  monitor: string[]
}

/**
 * HMP `device_add ARG` (ARG is everything after the command name): the device,
 * or QemuError whose message is what the monitor prints (no program prefix).
 */
export function parseDeviceAddFull(arg: string): HmpDeviceAdd {
  let p = 0
  while (isSpace(arg[p])) p++
  const monitor: string[] = []
  if (p >= arg.length) throw new QemuError(hmpError(missingParameter('driver')))
  const g = hmpGetStr(arg, p)!
  if (g.end < 0) throw new QemuError([tryHelp('device_add')], {stdout: g.stdout})
  const params = g.value
  // qemu_opts_parse_noisily(device opts, params, true): errors via error_report_err, no "Error: ".
  const id = optsId(params)
  if (id !== undefined && !idWellformed(id)) {
    throw new QemuError([ID_NOT_IDENTIFIER, ...hintLines(ID_HINT), tryHelp('device_add')])
  }
  const toks = optTokens(params, 'driver')
  for (const t of toks) if (t.flag && !t.help) monitor.push(...flagWarning(t, null, null))
  let q = g.end
  while (isSpace(arg[q])) q++
  if (q < arg.length) {
    throw new QemuError([...monitor, 'device_add: extraneous characters at the end of line', tryHelp('device_add')])
  }
  const device = deviceFromPairs(
    toks.map((t) => [t.name, t.value]),
    id,
    {},
  )
  if (!device.driver) throw new QemuError([...monitor, ...hmpError(missingParameter('driver'))])
  return {device, monitor}
}

/** HMP `device_add ARG`: the device, or QemuError with the monitor's text. */
export function parseDeviceAdd(arg: string): QemuDevice {
  return parseDeviceAddFull(arg).device
}

/** HMP `device_del ID`: the id, or QemuError with the monitor's text. */
export function parseDeviceDel(arg: string): string {
  const g = hmpGetStr(arg, 0)
  if (!g) throw new QemuError(['device_del: string expected', tryHelp('device_del')])
  if (g.end < 0) throw new QemuError(['device_del: string expected', tryHelp('device_del')], {stdout: g.stdout})
  let q = g.end
  while (isSpace(arg[q])) q++
  if (q < arg.length) throw new QemuError(['device_del: extraneous characters at the end of line', tryHelp('device_del')])
  return g.value
}

// ---------------------------------------------------------------------------
// Message texts (bare: wrap with startupDeviceError / hmpError / libvirtQmpError)

/** system/qdev-monitor.c: no ap-bus (ap=off), or the ap-bus already has its one device. */
export const noApBus = (): string => `No 'ap-bus' bus found for device 'vfio-ap'`
/** qdev-monitor.c qbus_find(): bus=NAME that does not exist (e.g. bus=ap-bus with ap=off). */
export const busNotFound = (name: string): string => `Bus '${name}' not found`
/** qdev-monitor.c qbus_find(): bus=ap-bus when it already has a device. */
export const busFull = (path: string): string => `Bus '${path}' is full`
/** qdev-monitor.c: bus=NAME of the wrong type (busType is the QOM type, "System" for the main system bus). */
export const deviceCantGoOnBus = (driver: string, busType: string): string => `Device '${driver}' can't go on ${busType} bus`
/** qdev-monitor.c qdev_get_device_class() */
export const notValidDeviceModel = (driver: string): string => `'${driver}' is not a valid device model name`
/** qdev-monitor.c qdev_set_id(): id already used by a created device. */
export const duplicateDeviceId = (id: string): string => `Duplicate device ID '${id}'`
/** util/qemu-option.c: a second -device with the same id while options are parsed. */
export const duplicateOptsId = (id: string, list = 'device'): string => `Duplicate ID '${id}' for ${list}`
/** qdev-monitor.c find_device_state(): device_del of an unknown id. */
export const deviceNotFound = (id: string): string => `Device '${id}' not found`

const VFIO_PREFIX = (name: string): string => `vfio ${name}: `

/**
 * hw/vfio/device.c vfio_device_get_name(): the sysfsdev path does not exist
 * (stat fails). Without sysfsdev QEMU stats NULL: "vfio (null): ...: Bad address".
 */
export function noSuchHostDevice(sysfsdev: string | undefined, errno: Errno | 'EFAULT' = 'ENOENT'): string {
  const text = errno === 'EFAULT' || sysfsdev === undefined ? 'Bad address' : strerr(errno)
  return `${VFIO_PREFIX(sysfsdev ?? '(null)')}no such host device: ${text}`
}

/** The vfio device name QEMU uses in messages: the basename of sysfsdev (g_path_get_basename). */
export function vfioName(sysfsdev: string): string {
  const t = sysfsdev.replace(/\/+$/, '')
  if (t === '') return sysfsdev === '' ? '.' : '/'
  return t.slice(t.lastIndexOf('/') + 1)
}

/** hw/vfio/container.c: the path exists but has no iommu_group link. */
export function noIommuGroup(sysfsdev: string, errno: Errno = 'ENOENT'): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}no iommu_group found: ${strerr(errno)}`
}

/**
 * The mdev is already open in another QEMU: opening its VFIO group
 * /dev/vfio/GROUP fails with EBUSY (util/osdep.c qemu_open: "Could not open").
 */
export function deviceBusy(sysfsdev: string, group: number | string): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}Could not open '/dev/vfio/${group}': ${strerr('EBUSY')}`
}

/**
 * QEMU may not open the VFIO group /dev/vfio/GROUP (root's, 0600, unless
 * libvirt or udev hand it over): the same qemu_open failure with EACCES.
 */
export function groupAccessDenied(sysfsdev: string, group: number | string): string {
  return `${VFIO_PREFIX(vfioName(sysfsdev))}Could not open '/dev/vfio/${group}': ${strerr('EACCES')}`
}

/**
 * VFIO_GROUP_GET_DEVICE_FD failed (e.g. EPERM: vfio_ap's open_device found
 * another mdev on this KVM; EINVAL: no KVM). Two lines: message and QEMU's hint.
 */
export function deviceFdError(sysfsdev: string, group: number | string, errno: Errno): {msg: string; hint: string} {
  return {
    msg: `${VFIO_PREFIX(vfioName(sysfsdev))}error getting device from group ${group}: ${strerr(errno)}`,
    hint: `Verify all devices in group ${group} are bound to vfio-<bus> or pci-stub and not already in use\n`,
  }
}

/** hw/vfio/ap.c realize: an IRQ the kernel lacks is only warned about (warn_report_err). */
export function irqNotAvailable(irq: number, numIrqs: number): string {
  return `vfio: IRQ ${irq} not available (number of irqs ${numIrqs})`
}

/** hw/vfio/ap.c vfio_ap_reset(): VFIO_DEVICE_RESET failed (error_report). */
export function resetFailed(name: string, errno: Errno): string {
  return `vfio_ap_reset: failed to reset ${name} device: ${strerr(errno)}`
}

// ---------------------------------------------------------------------------
// Migration (migration/savevm.c, migration/migration.c; libvirt qemu_migration.c)

/**
 * The savevm id of a vfio-ap device: qdev_get_dev_path() of the ap-bus is
 * always "/1" (hw/s390x/ap-bridge.c), then "/" and the vmsd name "vfio-ap".
 * It does not depend on the device's id.
 */
export const VFIO_AP_VMSTATE_ID = '/1/vfio-ap'

/** `migrate` / `savevm` with a vfio-ap attached (qemu_savevm_state_blocked). */
export const NON_MIGRATABLE = (vmstateId: string = VFIO_AP_VMSTATE_ID): string => `State blocked by non-migratable device '${vmstateId}'`

/** query-migrate "blocked-reasons" entry for it (qemu_savevm_non_migratable_list). */
export const NON_MIGRATABLE_REASON = (vmstateId: string = VFIO_AP_VMSTATE_ID): string => `non-migratable device: ${vmstateId}`

// libvirt's own refusals before it runs QEMU (kernel-qemu.md section 5), in the
// order it checks: the domain's definition, then the mdev, then who holds it.

/** qemu_validate.c, VIR_ERR_CONFIG_UNSUPPORTED. */
export const LIBVIRT_ONE_VFIO_AP = 'unsupported configuration: Only one hostdev of model vfio-ap is supported'
/** virmdev.c: the mdev's sysfs directory does not exist. */
export const libvirtMdevNotFound = (uuid: string): string => `device not found: mediated device '${uuid}' not found`
/** virmdev.c: another running domain has it (VIR_ERR_OPERATION_INVALID). */
export const libvirtMdevInUse = (uuid: string, domain: string): string =>
  `Requested operation is not valid: mediated device /sys/bus/mdev/devices/${uuid} is in use by driver QEMU, domain ${domain}`
/** virsh start: its own line, then libvirt's error. */
export const virshStartFailed = (domain: string, msg: string): string => `error: Failed to start domain '${domain}'\nerror: ${msg}\n`

/**
 * libvirt without QEMU's blocked-reasons (qemuMigrationSrcIsAllowedHostdev):
 * VIR_ERR_OPERATION_UNSUPPORTED.
 */
export const LIBVIRT_MDEV_NOT_MIGRATABLE = `Operation not supported: cannot migrate a domain with <hostdev mode='subsystem' type='mdev'>`

/**
 * libvirt with QEMU >= 6.0 (QEMU_CAPS_MIGRATION_BLOCKED_REASONS, so also with
 * QEMU 10.1) asks QEMU instead: VIR_ERR_OPERATION_INVALID with the reasons joined by "; ".
 */
export function libvirtMigrationBlocked(reasons: readonly string[] = [NON_MIGRATABLE_REASON()]): string {
  return `Requested operation is not valid: cannot migrate domain: ${reasons.join('; ')}`
}

// ---------------------------------------------------------------------------
// sysfsdev paths

// sysfs names an mdev by its UUID in lower case (the kernel prints it with %pUl), and paths are case-sensitive.
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const MDEV_PATHS = [
  '/sys/bus/mdev/devices/',
  '/sys/devices/vfio_ap/matrix/',
  '/sys/bus/mdev/drivers/vfio_ap_mdev/',
  '/sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/',
  '/sys/class/mdev_bus/matrix/',
]
const MDEV_PATH_RE = new RegExp(`^(?:${MDEV_PATHS.map((p) => p.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})(${UUID})$`)

/**
 * The mdev UUID a vfio-ap sysfsdev names, for every path form of the kernel
 * documentation: /sys/bus/mdev/devices/UUID, /sys/devices/vfio_ap/matrix/UUID,
 * /sys/bus/mdev/drivers/vfio_ap_mdev/UUID,
 * /sys/devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough/devices/UUID,
 * /sys/class/mdev_bus/matrix/UUID; with trailing slashes, repeated slashes,
 * "." components, and one pair of surrounding shell quotes. The UUID is
 * in lower case, as sysfs names it (a path with upper-case digits names
 * nothing: sysfs is case-sensitive); null if not an mdev path.
 * Every form is one the emulated /sys resolves to the mdev (Linux 6.15 has
 * no generic vfio_mdev driver, so /sys/bus/mdev/drivers/vfio_mdev is none).
 */
export function mdevUuidFromSysfsdev(path: string): string | null {
  let p = path.trim()
  const q = /^(["'])(.*)\1$/.exec(p)
  if (q) p = q[2]
  if (!p.startsWith('/')) return null
  p = p.replace(/\/+/g, '/').replace(/\/\.(?=\/|$)/g, '').replace(/\/+$/, '')
  const m = MDEV_PATH_RE.exec(p)
  return m ? m[1] : null
}
