// lszdev (s390-tools 2.43.0): option handling and the actions of lszdev.c.
// `lszdev --type ap` shows the apmask/aqmask settings (chzdev-ap.md §2);
// device listings answer as on a host without CCW, CCW group or zfcp devices.

import {type Stdio, byteOrder} from '../libc.js'
import type {Fs} from '../sys.js'
import {type Devtype, type Subtype, devtypeFind, devtypeModules, subtypeFind} from './devtype.js'
import {EXIT} from './exit_code.js'
import {NotEmulated, type ZOut, type ZdevContext, notEmulated, quoteStr, runZdevTool, versionText} from './misc.js'
import {checkDevspec, isDevspec} from './namespace.js'
import {SELECTION_OPTS, type ZOpt, checkConflict, siteOption, zdevGetopt} from './opts.js'
import {Zdev} from './process.js'
import {type SelectOpts, type Selected, devSpecified, newSelect, selectDevices, selectionOption} from './select.js'
import {CONFIG_ACTIVE, CONFIG_ALL, CONFIG_AUTOCONF, CONFIG_PERSISTENT, SITE_FALLBACK, type Setting, getConfig, scopeActive, scopeAutoconf, scopePersistent} from './setting.js'
import {type Column, tableCheckColumns, tablePrint, tableTypesShow} from './table.js'

export const LSZDEV_USAGE = `Usage: lszdev [TYPE] [DEVICE] [SELECTION] [ACTION] [OPTIONS]

Use lszdev to view the configuration of z Systems specific devices in either:
 - active configuration (running system), or
 - persistent configuration (configuration files)

Actions apply to both configurations unless specified otherwise.

TYPE
  Device type to which this command applies. Use --list-types to display
  supported types.

DEVICE
  ID                     Select single device by ID, e.g. 0.0.1234
  FROM-TO                Select range of devices between FROM and TO
  DEV1,DEV2,...          Select list of devices or device ranges

SELECTION
  --all                  Select all existing and configured devices (default)
  --configured           Select devices with a persistent configuration
  --existing             Select devices found in the active configuration
  --online/--offline     Select devices that are online/offline
  --failed               Select devices that are not functioning correctly
  --ipldev               Select device used for IPL/boot
  --by-path PATH         Select device providing file system path, e.g. /usr
  --by-node NODE         Select device providing device node, e.g. /dev/sda
  --by-interface NAME    Select device providing network interface, e.g. eth0
  --by-attrib KEY=VALUE  Select devices with specified attribute value

ACTIONS
  -i, --info             Display detailed information
  -l, --list-columns     List available output columns
  -L, --list-types       List supported device types
  -h, --help             Print usage information, then exit
  -v, --version          Print version information, then exit

OPTIONS
  -a, --active           Only show data from the active configuration
  -p, --persistent       Only show data from the persistent configuration
  -t, --type             List information about device type
  -c, --columns COLUMNS  Specify comma-separated list of columns to display
  -n, --no-headings      Do not print column headings
      --base PATH        Use PATH as base for accessing files
      --pairs            Produce output in KEY="VALUE" format
      --shell            Produces KEY="VALUE" format usable as shell variables
      --auto-conf        Only show auto-configuration data
  -s, --site ID          Only show data configured for the specified site
  -V, --verbose          Print additional run-time information
  -q, --quiet            Print only minimal run-time information
`

const OPTS: ZOpt[] = [
  ...SELECTION_OPTS,
  {long: 'type', short: 't', arg: 'none'},
  {long: 'info', short: 'i', arg: 'none'},
  {long: 'list-columns', short: 'l', arg: 'none'},
  {long: 'list-types', short: 'L', arg: 'none'},
  {long: 'help', short: 'h', arg: 'none'},
  {long: 'version', short: 'v', arg: 'none'},
  {long: 'active', short: 'a', arg: 'none'},
  {long: 'persistent', short: 'p', arg: 'none'},
  {long: 'auto-conf', arg: 'none', code: 0x8d},
  {long: 'columns', short: 'c', arg: 'required'},
  {long: 'no-headings', short: 'n', arg: 'none'},
  {long: 'base', arg: 'required', code: 0x8b},
  {long: 'pairs', short: 'P', arg: 'none'},
  {long: 'shell', arg: 'none', code: 0x8c},
  {long: 'verbose', short: 'V', arg: 'none'},
  {long: 'quiet', short: 'q', arg: 'none'},
  {long: 'site', short: 's', arg: 'required'},
]

const CONFLICTS: Array<[string, string[]]> = [
  ['info', ['list-columns', 'list-types', 'help', 'version', 'columns', 'no-headings']],
  ['list-columns', ['list-types', 'help', 'version']],
  ['list-types', ['help', 'version']],
  ['help', ['version']],
  ['type', ['configured', 'existing', 'online', 'offline', 'by-path', 'by-node', 'by-interface', 'failed', 'ipldev']],
  ['site', ['type']],
  ['online', ['offline']],
  ['quiet', ['verbose']],
]

/** The columns of the device list (dev_table). */
const DEV_TABLE: Column[] = [
  {name: 'TYPE', id: 'type', def: true, desc: 'Device type'},
  {name: 'ID', id: 'id', def: true, desc: 'Device identifier'},
  {name: 'ON', id: 'online', def: true, desc: 'Device is online in the active configuration'},
  {name: 'EXISTS', id: 'exists', def: false, desc: 'Device exists in the active configuration'},
  {name: 'PERS', id: 'pers', def: true, desc: 'Device is configured persistently'},
  {name: 'AUTO', id: 'auto', def: false, desc: 'Auto-configuration exists for device'},
  {name: 'FAILED', id: 'failed', def: false, desc: 'Device is in error'},
  {name: 'NAMES', id: 'names', def: true, desc: 'Associated Linux device names'},
  {name: 'BLOCKDEVS', id: 'blockdevs', def: false, desc: 'Associated block devices including partitions'},
  {name: 'CHARDEVS', id: 'chardevs', def: false, desc: 'Associated character devices'},
  {name: 'NETDEVS', id: 'netdevs', def: false, desc: 'Associated network interfaces'},
  {name: 'MODULES', id: 'modules', def: false, desc: 'Required kernel modules'},
  {name: 'ATTR:', id: 'attr', def: false, desc: 'Value of specific attribute, e.g. ATTR:online'},
  {name: 'ATTRPATH:', id: 'attrpath', def: false, desc: 'Path to specific attribute in active configuration'},
]

type Action = 'list' | 'info' | 'list-columns' | 'list-types' | 'help' | 'version'

interface Options {
  select: SelectOpts
  type: boolean
  info: number
  listColumns: boolean
  listTypes: boolean
  help: boolean
  version: boolean
  config: number
  active: boolean
  persistent: boolean
  autoConf: boolean
  columns: string[]
  noHeadings: boolean
  base: string[]
  pairs: boolean
  shell: boolean
  verbose: boolean
  quiet: boolean
  siteId: number
}

function getAction(o: Options): Action {
  if (o.help) return 'help'
  if (o.version) return 'version'
  if (o.info) return 'info'
  if (o.listColumns) return 'list-columns'
  if (o.listTypes) return 'list-types'
  return 'list'
}

export function runLszdev(argv: string[], fs: Fs, io: Stdio, ctx: ZdevContext): number {
  return runZdevTool(io, ctx, (o) => new Lszdev(fs, o, ctx).main(argv))
}

class Lszdev {
  private readonly z: Zdev
  private opts!: Options

  constructor(
    fs: Fs,
    private readonly o: ZOut,
    private readonly ctx: ZdevContext,
  ) {
    this.z = new Zdev(fs, o, ctx)
  }

  main(argv: string[]): number {
    const o = this.o
    let drc = this.parseOptions(argv)
    if (!drc) {
      const opts = this.opts
      o.verbose = opts.verbose
      o.quiet = opts.quiet
      this.z.setBase(opts.base)
      if (opts.pairs) o.stdoutData = true
      let rc = 0
      try {
        switch (getAction(opts)) {
          case 'list':
            rc = opts.type ? this.doInfoType() : this.doListDevices()
            break
          case 'info':
            rc = opts.type ? this.doInfoType() : this.doInfoDevices()
            break
          case 'list-columns':
            tablePrint(
              o,
              [
                {name: 'COLUMN', id: 'name', def: true, desc: ''},
                {name: 'DESCRIPTION', id: 'desc', def: true, desc: ''},
              ],
              (c: Column, id) => (id === 'name' ? c.name : c.desc),
              DEV_TABLE,
              opts.columns,
              !opts.noHeadings,
              opts.pairs,
              0,
            )
            break
          case 'list-types':
            rc = tableTypesShow(o, opts.columns, !opts.noHeadings, opts.pairs)
            break
          case 'help':
            o.out(LSZDEV_USAGE)
            break
          case 'version':
            o.out(versionText(this.ctx.prog))
            break
        }
      } catch (e) {
        if (!(e instanceof NotEmulated)) throw e
        return notEmulated(o, e.message)
      }
      if (rc) drc = rc
    }
    o.delayedPrint(0)
    return drc
  }

  private parseOptions(argv: string[]): number {
    const o = this.o
    const opts: Options = {
      select: newSelect(),
      type: false,
      info: 0,
      listColumns: false,
      listTypes: false,
      help: false,
      version: false,
      config: 0,
      active: false,
      persistent: false,
      autoConf: false,
      columns: [],
      noHeadings: false,
      base: [],
      pairs: false,
      shell: false,
      verbose: false,
      quiet: false,
      siteId: SITE_FALLBACK,
    }
    this.opts = opts
    const s = opts.select
    const specified = new Set<string>()
    const operands: string[] = []
    for (const ev of zdevGetopt(argv, OPTS, o, this.ctx, operands)) {
      if (ev.kind === 'error') return ev.rc
      const arg = ev.arg ?? ''
      const selected = selectionOption(opts.select, ev.name, arg, o)
      if (selected !== false && selected !== 0) return selected
      if (selected === false)
        switch (ev.name) {
        case 'type':
          opts.type = true
          break
        case 'info':
          opts.info++
          break
        case 'list-columns':
          opts.listColumns = true
          break
        case 'list-types':
          opts.listTypes = true
          break
        case 'help':
          opts.help = true
          return EXIT.OK
        case 'version':
          opts.version = true
          return EXIT.OK
        case 'active':
          opts.active = true
          break
        case 'persistent':
          opts.persistent = true
          break
        case 'auto-conf':
          opts.autoConf = true
          break
        case 'columns':
          opts.columns.push(...arg.split(',').filter((x) => x !== ''))
          break
        case 'no-headings':
          opts.noHeadings = true
          break
        case 'base':
          opts.base.push(arg)
          break
        case 'pairs':
          opts.pairs = true
          break
        case 'shell':
          opts.shell = true
          break
        case 'verbose':
          opts.verbose = true
          break
        case 'quiet':
          opts.quiet = true
          break
        case 'site': {
          const rc = siteOption(opts, arg, o)
          if (rc) return rc
          break
        }
        default:
          break
      }
      specified.add(ev.name)
      const rc = checkConflict(ev.name, specified, CONFLICTS, o)
      if (rc) return rc
    }
    if (opts.shell && (!opts.pairs || opts.columns.length === 0)) {
      o.syntax("'--shell' must be used together with '--pairs' and '--columns'\n")
      return EXIT.USAGE_ERROR
    }
    if (!opts.active && !opts.persistent && !opts.autoConf) opts.config = CONFIG_ACTIVE | CONFIG_PERSISTENT
    else opts.config = getConfig(opts.active, opts.persistent, opts.autoConf)

    const rc = this.parsePositional(operands)
    if (!devSpecified(s) && (getAction(opts) === 'list' || getAction(opts) === 'info') && !opts.type) {
      if (opts.config === CONFIG_ALL) s.all = true
      else if (opts.config === CONFIG_ACTIVE) s.existing = true
      else if (opts.config === CONFIG_PERSISTENT || opts.siteId !== SITE_FALLBACK) s.configured = true
    }
    return rc
  }

  private parsePositional(args: string[]): number {
    const o = this.o
    const opts = this.opts
    const s = opts.select
    type Ex = 'invalid' | 'required' | 'optional'
    let exDev: Ex
    let exDt: Ex
    const action = getAction(opts)
    if (action === 'list' || action === 'info') {
      exDev = opts.type ? 'invalid' : 'optional'
      exDt = opts.type ? 'required' : 'optional'
    } else if (action === 'list-types') {
      exDev = 'invalid'
      exDt = 'optional'
    } else {
      exDev = 'invalid'
      exDt = 'invalid'
    }
    for (const arg of args) {
      const dt: Devtype | undefined = devtypeFind(arg)
      const st: {dt: Devtype; st: Subtype} | undefined = subtypeFind(arg)
      if (exDt !== 'invalid' && st && !s.devtype) {
        s.subtype = st.st
        s.devtype = st.dt
        continue
      }
      if (exDt !== 'invalid' && dt && !s.devtype) {
        s.devtype = dt
        continue
      }
      if (exDev !== 'invalid' && isDevspec(s.devtype, s.subtype, arg)) {
        s.devids.push(...arg.split(',').filter((x) => x !== ''))
        continue
      }
      if (exDt !== 'invalid' && exDev === 'invalid') {
        if (s.devtype) return this.extra(arg)
        o.error(`Unrecognized device type: ${arg}\n`)
        return EXIT.UNKNOWN_DEVTYPE
      }
      if (exDt === 'invalid' && exDev !== 'invalid') return checkDevspec(o, s.devtype, s.subtype, arg, true)
      if (exDt !== 'invalid' && exDev !== 'invalid') {
        if (s.devtype) return checkDevspec(o, s.devtype, s.subtype, arg, true)
        o.syntax(`Unknown device type or device ID specification: ${arg}\n`)
        return EXIT.USAGE_ERROR
      }
      return this.extra(arg)
    }
    if (exDt === 'required' && !s.devtype) {
      o.error(`Please specify a device type\nUse '${this.ctx.prog} --list-types' to get a list of device types\n`)
      return EXIT.USAGE_ERROR
    }
    if (exDev !== 'invalid') {
      for (const id of s.devids) {
        const rc = checkDevspec(o, s.devtype, s.subtype, id, true)
        if (rc) return rc
      }
    }
    return EXIT.OK
  }

  private extra(arg: string): number {
    this.o.syntax(`Unexpected parameter found: ${arg}\n`)
    return EXIT.USAGE_ERROR
  }

  /** do_info_type: the device type's state and its settings table. */
  private doInfoType(): number {
    const o = this.o
    const opts = this.opts
    const def = opts.select.devtype!
    const st = this.z.dt(def)
    const rc = this.z.readSettings(st, opts.config)
    if (rc) return rc
    if (st.persistent) st.persistent.items.splice(0, st.persistent.items.length, ...st.persistent.items.filter((x) => !x.derived))
    const desc = def.title ? def.title : def.subtypes[0].title
    const modules = devtypeModules(def).join(' ')
    const yesno = (b: boolean) => (b ? 'yes' : 'no')
    const info = (key: string, value: string) => o.out(`  ${key.padEnd(19)}${key ? ':' : ' '} ${value || '-'}\n`)
    const pair = (key: string, value: string) => o.out(`${key}=${quoteStr(value, true)}\n`)
    if (opts.pairs) {
      pair('TYPE', def.name)
      pair('DESCRIPTION', desc)
      pair('MODULES', modules)
      pair('ACTV', yesno(st.activeExists))
      pair('PERS', yesno(st.persistentExists))
    } else {
      o.out(`DEVICE TYPE ${def.name}\n`)
      info('Description', desc)
      info('Modules', modules)
      info('Active', yesno(st.activeExists))
      info('Persistent', yesno(st.persistentExists))
      o.out('\n')
    }
    if (def.typeAttribs.length === 0) {
      if (!opts.pairs) o.indent(2, 'Device type does not provide type attributes\n')
      return rc
    }
    const active = scopeActive(opts.config) ? st.active : null
    const persistent = scopePersistent(opts.config) ? st.persistent : null
    const nameSet = new Set<string>()
    for (const s of active?.items ?? []) if (!s.attrib?.readonly) nameSet.add(s.name)
    for (const s of persistent?.items ?? []) nameSet.add(s.name)
    const items = [...nameSet].sort(byteOrder)
    if (items.length === 0) {
      if (!opts.pairs) o.indent(2, 'No settings found\n')
      return rc
    }
    const cols: Column[] = [
      {name: 'ATTRIBUTE', id: 'attribute', def: true, desc: ''},
      {name: 'READONLY', id: 'readonly', def: false, desc: ''},
      {name: 'ACTIVE', id: 'active', def: scopeActive(opts.config), desc: ''},
      {name: 'PERSISTENT', id: 'persistent', def: opts.siteId === SITE_FALLBACK && scopePersistent(opts.config), desc: ''},
      {name: 'AUTOCONF', id: 'autoconf', def: scopeAutoconf(opts.config), desc: ''},
    ]
    const value = (name: string, id: string): string => {
      if (id === 'attribute' || id === 'readonly') return name
      const list = id === 'active' ? st.active : id === 'persistent' ? st.persistent : null
      const s: Setting | undefined = list?.find(name)
      if (s && !(id === 'persistent' && s.derived)) return opts.pairs ? s.value : quoteStr(s.value, true)
      return opts.pairs ? '' : '-'
    }
    tablePrint(o, cols, value, items, null, true, opts.pairs, 2, opts.shell)
    return rc
  }

  /** The devices of this host: none that zdev manages. */
  private select(): {rc: number; selected: Selected[]} {
    const opts = this.opts
    let config = opts.config
    if (!opts.active && !opts.persistent && !opts.autoConf) config |= CONFIG_AUTOCONF
    const selected: Selected[] = []
    const rc = selectDevices(this.z, opts.select, selected, true, false, config)
    return {rc, selected}
  }

  private doListDevices(): number {
    const o = this.o
    let rc = tableCheckColumns(o, DEV_TABLE, this.opts.columns)
    if (rc) return rc
    rc = this.select().rc
    if (rc) return rc
    o.error('No device was selected!\n')
    return EXIT.EMPTY_SELECTION
  }

  private doInfoDevices(): number {
    this.select()
    this.o.error('No device was selected!\n')
    return EXIT.EMPTY_SELECTION
  }
}
