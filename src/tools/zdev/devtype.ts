// The device type registry of zdev (s390-tools 2.43.0, devtype.c and the
// type files dasd.c, zfcp.c, qeth.c, ctc.c, ap.c, virtio.c, generic_ccw.c):
// every type and subtype with its names, modules and namespace, and the
// type attributes (apmask and aqmask of ap in full; only the names of the
// others, which aplab does not configure).

import type {Attrib} from './setting.js'

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


/** devtype_add_modules with subtypes: the type's modules, then each subtype's, without duplicates. */
export function devtypeModules(dt: Devtype): string[] {
  const out: string[] = []
  for (const m of [...dt.modules, ...dt.subtypes.flatMap((s) => s.modules)]) if (!out.includes(m)) out.push(m)
  return out
}
