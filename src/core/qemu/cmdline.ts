// qemu-system-s390x's command line as aplab runs it: keyval syntax for
// -machine and -smp (util/keyval.c), then parseQemuArgs: -cpu and its AP
// features, -device, -name, -machine/-accel/-enable-kvm, -smp, with QEMU's
// exact stderr texts and exit codes. Pure. Split out of src/core/qemu.ts.

import {own, table} from '../table.js'
import {AP_DEPENDENCIES, AP_ENUM_ORDER, AP_FEATURES, AP_MIN_GENERATION, type ApFeature, CPU_READONLY_PROPS, CPU_WRITABLE_PROPS, cpuDef, type CpuDef, type CpuModelInfo, findCpuModel, type HostCpuFacts, isCpuProperty, QEMU_MAX_DEF} from './cpu.js'
import {deviceFromPairs, jsonDevice, type QemuDevice} from './devices.js'
import {flagWarning, getOptValue, isHelpOption, type OptionDef, OPTIONS, optsId, optTokens} from './options.js'
import {JsonError, type JVal, qemuJsonParse} from './qobject.js'
import {duplicateOptsId, ID_HINT, ID_NOT_IDENTIFIER, idWellformed, invalidParameter, invalidParameterValue, progName, propertyNotFound, propertyNotWritable, QEMU_PROG, QemuError, stderrError, stderrWarning} from './texts.js'

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
  /** -S: the CPUs do not run until the monitor's `cont` (QEMU's autostart = 0; the run state is prelaunch). */
  freeze: boolean
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
  let freeze = false
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
    freeze,
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
      case 'S':
        freeze = true
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
    freeze,
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
