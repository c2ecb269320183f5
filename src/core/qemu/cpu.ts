// QEMU 10.1's s390x CPU models and features as far as AP pass-through needs
// them: the AP features (ap, apqci, apft, apqi) and their dependencies, the
// other feature and property names -cpu accepts, the CPU model table
// (target/s390x/cpu_models.c), and what the host's KVM offers. Pure.
// Split out of src/core/qemu.ts.

// ---------------------------------------------------------------------------
// CPU features (target/s390x/cpu_features_def.h.inc)

export type ApFeature = 'ap' | 'apqci' | 'apft' | 'apqi'
export const AP_FEATURES: readonly ApFeature[] = ['ap', 'apqci', 'apft', 'apqi']

/** The AP features in QEMU's internal feature order (STFL bits 12, 15, 65, then the MISC "ap"). */
export const AP_ENUM_ORDER: readonly ApFeature[] = ['apqci', 'apft', 'apqi', 'ap']

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
export const AP_DEPENDENCIES: ReadonlyArray<readonly [ApFeature, ApFeature]> = [
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
export const CPU_WRITABLE_PROPS = new Set(['core-id', 'socket-id', 'book-id', 'drawer-id', 'dedicated', 'entitlement', 'start-powered-off', 'realized', 'hotplugged'])
/** Read-only ones (cpu_models.c: migration-safe, static, description; QOM/qdev: type, hotpluggable, parent_bus). */
export const CPU_READONLY_PROPS = new Set(['migration-safe', 'static', 'description', 'type', 'hotpluggable', 'parent_bus'])

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

export interface CpuDef {
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
export const QEMU_MAX_DEF = CPU_DEFS.find((d) => d.name === 'gen15a') as CpuDef

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

export function cpuDef(name: string): CpuDef | undefined {
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
