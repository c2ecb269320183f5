// chzdev (s390-tools 2.43.0): option handling and the actions of chzdev.c,
// complete for device type `ap` (chzdev-ap.md §1). Other device types get
// the real tool's answers on a host that has none of their devices; paths
// that would create devices or change their type settings are not emulated
// (they end with an aplab message).

import type {Stdio} from './libc.js'
import type {Fs} from './sys.js'
import {
  AP_DEVTYPE,
  type Attrib,
  CONFIG_ACTIVE,
  CONFIG_ALL,
  CONFIG_PERSISTENT,
  type DtState,
  DEVTYPES,
  type Devtype,
  EXIT,
  ExportWriter,
  type ImportObject,
  NotEmulated,
  SITE_FALLBACK,
  type SelectOpts,
  type Selected,
  type SettingList,
  type Subtype,
  type ZEvent,
  type ZOpt,
  ZOut,
  Zdev,
  type ZdevContext,
  checkConflict,
  checkDevspec,
  devSpecified,
  devtypeFind,
  errText,
  exitCodeToStr,
  exportRead,
  getConfig,
  isDevspec,
  isValidSite,
  newSelect,
  SELECTION_OPTS,
  selectionOption,
  notEmulated,
  runZdevTool,
  scopeActive,
  scopeAutoconf,
  scopePersistent,
  selectDevices,
  settingChanges,
  subtypeFind,
  tableAttribsShow,
  tableAttribsShowDetails,
  tableTypesShow,
  versionText,
  zdevGetopt,
} from './zdev.js'

export const CHZDEV_USAGE = `Usage: chzdev TYPE DEVICE [SELECTION] [SETTINGS] [ACTION] [OPTIONS]

Use chzdev to manage the configuration of z Systems specific devices in either:
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
  --all                  Select all existing and configured devices
  --configured           Select devices with a persistent configuration
  --existing             Select devices found in the active configuration
  --online/--offline     Select devices that are online/offline
  --failed               Select devices that are not functioning correctly
  --by-path PATH         Select device providing file system path, e.g. /usr
  --by-node NODE         Select device providing device node, e.g. /dev/sda
  --by-interface NAME    Select device providing network interface, e.g. eth0
  --by-attrib KEY=VALUE  Select devices with specified attribute value

SETTINGS
  Specifications in the form ATTRIB=VALUE used to modify device or device type
  settings.  Use --list-attributes (also with --type) to list available
  attributes.

ACTIONS
  -e, --enable           Enable device
  -d, --disable          Disable device
  -l, --list-attributes  List attributes
  -L, --list-types       List supported device types
  -H, --help-attribute   Show detailed help on specified attribute
      --export FILENAME  Export configuration data to file
      --import FILENAME  Import configuration data from file
      --apply            Apply persistent settings to active configuration
  -h, --help             Print usage information, then exit
  -v, --version          Print version information, then exit

OPTIONS
  -a, --active           Apply changes to active configuration only
  -p, --persistent       Apply changes to persistent configuration only
  -t, --type             Apply changes to device type
  -r, --remove ATTRIB    Remove setting for specified attribute
  -R, --remove-all       Remove settings for all attributes
  -f, --force            Override safety checks
  -y, --yes              Answer all confirmation questions with 'yes'
      --no-root-update   Skip root device update
      --dry-run          Display changes without applying
      --base PATH        Use PATH as base for accessing files
      --no-settle        Do not wait for udev to settle
      --auto-conf        Apply changes to auto-configuration only
  -s, --site ID          Apply changes to the specified site only
  -V, --verbose          Print additional run-time information
  -q, --quiet            Print only minimal run-time information
`

/** opt_list of chzdev.c; long-only options carry their OPT_ANONYMOUS_BASE value. */
const OPTS: ZOpt[] = [
  ...SELECTION_OPTS,
  {long: 'type', short: 't', arg: 'none'},
  {long: 'enable', short: 'e', arg: 'none'},
  {long: 'disable', short: 'd', arg: 'none'},
  {long: 'disable-all', short: 'D', arg: 'none'},
  {long: 'list-attributes', short: 'l', arg: 'none'},
  {long: 'help-attribute', short: 'H', arg: 'none'},
  {long: 'list-types', short: 'L', arg: 'none'},
  {long: 'export', arg: 'required', code: 0x8b},
  {long: 'import', arg: 'required', code: 0x8c},
  {long: 'is-owner', arg: 'required', code: 0x8d},
  {long: 'apply', arg: 'none', code: 0x8e},
  {long: 'help', short: 'h', arg: 'none'},
  {long: 'version', short: 'v', arg: 'none'},
  {long: 'active', short: 'a', arg: 'none'},
  {long: 'persistent', short: 'p', arg: 'none'},
  {long: 'auto-conf', arg: 'none', code: 0x93},
  {long: 'remove', short: 'r', arg: 'required'},
  {long: 'remove-all', short: 'R', arg: 'none'},
  {long: 'force', short: 'f', arg: 'none'},
  {long: 'yes', short: 'y', arg: 'none'},
  {long: 'no-root-update', arg: 'none', code: 0x8f},
  {long: 'dry-run', arg: 'none', code: 0x90},
  {long: 'base', arg: 'required', code: 0x91},
  {long: 'verbose', short: 'V', arg: 'none'},
  {long: 'quiet', short: 'q', arg: 'none'},
  {long: 'no-settle', arg: 'none', code: 0x92},
  {long: 'site', short: 's', arg: 'required'},
  {long: 'no-module-load', arg: 'none', code: 0x94},
]

const SEL = ['configured', 'existing', 'online', 'offline', 'by-path', 'by-node', 'by-interface', 'by-attrib', 'active', 'persistent', 'failed', 'ipldev', 'disable-all']

/** conflict_list of chzdev.c, by long name. */
const CONFLICTS: Array<[string, string[]]> = [
  ['enable', ['disable', 'list-attributes', 'list-types', 'export', 'import', 'apply', 'type', 'disable-all']],
  ['disable', ['list-attributes', 'help-attribute', 'list-types', 'export', 'import', 'apply', 'remove', 'remove-all', 'type', 'disable-all']],
  ['list-attributes', ['disable', 'help-attribute', 'list-types', 'export', 'import', 'apply', 'remove', 'remove-all', ...SEL]],
  ['list-types', ['disable', 'list-attributes', 'help-attribute', 'export', 'import', 'apply', 'remove', 'remove-all', ...SEL]],
  ['export', ['disable', 'list-attributes', 'help-attribute', 'list-types', 'import', 'apply', 'remove', 'remove-all', 'disable-all']],
  [
    'import',
    ['disable', 'list-attributes', 'help-attribute', 'list-types', 'export', 'apply', 'remove', 'remove-all', 'configured', 'existing', 'by-path', 'by-attrib', 'by-node', 'by-interface', 'disable-all'],
  ],
  ['is-owner', ['disable', 'help-attribute', 'list-types', 'export', 'import', 'apply', 'remove', 'remove-all', ...SEL]],
  ['apply', ['disable', 'list-attributes', 'help-attribute', 'list-types', 'export', 'import', 'remove', 'remove-all', 'active', 'disable-all']],
  ['online', ['offline']],
  ['site', ['type']],
  ['quiet', ['verbose']],
  ['auto-conf', ['type', 'list-attributes', 'list-types']],
]

type Action = 'configure' | 'deconfigure' | 'list-attribs' | 'help-attribs' | 'list-types' | 'export' | 'import' | 'is-owner' | 'apply' | 'help' | 'version'

interface Options {
  select: SelectOpts
  type: boolean
  settings: string[]
  positional: string[]
  enable: boolean
  deconfigure: boolean
  deconfigureAll: boolean
  listAttribs: boolean
  listTypes: boolean
  helpAttribs: boolean
  export: string | null
  import: string | null
  isOwner: string | null
  apply: boolean
  help: boolean
  version: boolean
  config: number
  active: boolean
  persistent: boolean
  autoConf: boolean
  remove: string[]
  removeAll: boolean
  force: boolean
  yes: boolean
  noRootCheck: boolean
  dryrun: boolean
  base: string[]
  verbose: boolean
  quiet: boolean
  siteId: number
}

function getAction(o: Options): Action {
  if (o.help) return 'help'
  if (o.version) return 'version'
  if (o.enable) return 'configure'
  if (o.deconfigure) return 'deconfigure'
  if (o.listAttribs) return 'list-attribs'
  if (o.helpAttribs) return 'help-attribs'
  if (o.listTypes) return 'list-types'
  if (o.export !== null) return 'export'
  if (o.import !== null) return 'import'
  if (o.isOwner !== null) return 'is-owner'
  if (o.apply) return 'apply'
  return 'configure'
}

const ACTION_OPTION: Partial<Record<Action, string>> = {
  deconfigure: '--disable',
  'list-attribs': '--list-attributes',
  'help-attribs': '--help-attributes',
  'list-types': '--list-types',
  export: '--export',
  import: '--import',
  'is-owner': '--is-owner',
  apply: '--apply',
  help: '--help',
  version: '--version',
}

export function runChzdev(argv: string[], fs: Fs, io: Stdio, ctx: ZdevContext): number {
  return runZdevTool(io, ctx, (o) => new Chzdev(fs, o, ctx).main(argv))
}

class Chzdev {
  private readonly z: Zdev
  private opts!: Options
  private persModDevtypes = 0
  private persModDevs = 0

  constructor(
    fs: Fs,
    private readonly o: ZOut,
    private readonly ctx: ZdevContext,
  ) {
    this.z = new Zdev(fs, o, ctx)
  }

  main(argv: string[]): number {
    const o = this.o
    let drc = 0
    let rc = this.parseOptions(argv)
    if (rc) drc = rc
    else {
      const opts = this.opts
      o.stdoutData = opts.export === '-'
      o.verbose = opts.verbose
      o.quiet = opts.quiet
      o.force = opts.force
      this.z.dryrun = opts.dryrun
      this.z.setBase(opts.base)
      if (opts.dryrun) o.info('Starting dry-run, configuration will not be changed\n')
      try {
        rc = this.action()
      } catch (e) {
        if (!(e instanceof NotEmulated)) throw e
        o.delayedPrint(4)
        return notEmulated(o, e.message)
      }
      if (rc) drc = rc
      else if ((this.persModDevs || this.persModDevtypes) && !opts.noRootCheck && !opts.dryrun) {
        // initrd check: the root device of the emulated host is none zdev knows.
        o.verb('Note: Could not determine if root device configuration needs to be updated\n')
      }
    }
    o.delayedPrint(0)
    this.z.miscExit()
    if (o.foundForceable && !o.force) o.info('Note: You can use --force to override safety checks (*)\n')
    return drc
  }

  private action(): number {
    const o = this.o
    switch (getAction(this.opts)) {
      case 'configure':
        return this.doConfigure()
      case 'deconfigure':
        this.actionNote('Deconfiguring devices in', this.opts.config)
        return this.configureDevices(1, null, true)
      case 'list-attribs':
        return this.doAttribs(false)
      case 'help-attribs':
        return this.doAttribs(true)
      case 'list-types':
        return tableTypesShow(o, null, true, false)
      case 'export':
        return this.doExport()
      case 'import':
        return this.doImport()
      case 'is-owner':
        return this.doIsOwner()
      case 'apply':
        return this.doApply()
      case 'help':
        o.out(CHZDEV_USAGE)
        return EXIT.OK
      case 'version':
        o.out(versionText(this.ctx.prog))
        return EXIT.OK
    }
  }

  // --- command line -------------------------------------------------------------------------------

  private parseOptions(argv: string[]): number {
    const o = this.o
    const opts: Options = {
      select: newSelect(),
      type: false,
      settings: [],
      positional: [],
      enable: false,
      deconfigure: false,
      deconfigureAll: false,
      listAttribs: false,
      listTypes: false,
      helpAttribs: false,
      export: null,
      import: null,
      isOwner: null,
      apply: false,
      help: false,
      version: false,
      config: 0,
      active: false,
      persistent: false,
      autoConf: false,
      remove: [],
      removeAll: false,
      force: false,
      yes: false,
      noRootCheck: false,
      dryrun: false,
      base: [],
      verbose: false,
      quiet: false,
      siteId: SITE_FALLBACK,
    }
    this.opts = opts
    const specified = new Set<string>()
    const operands: string[] = []
    const events: Generator<ZEvent> = zdevGetopt(argv, OPTS, o, this.ctx, operands)
    for (const ev of events) {
      if (ev.kind === 'error') return ev.rc
      const arg = ev.arg ?? ''
      const selected = selectionOption(opts.select, ev.name, arg, o)
      if (selected !== false && selected !== 0) return selected
      if (selected === false)
        switch (ev.name) {
        case 'type':
          opts.type = true
          break
        case 'enable':
          opts.enable = true
          break
        case 'disable':
          opts.deconfigure = true
          break
        case 'disable-all':
          opts.deconfigure = true
          opts.deconfigureAll = true
          break
        case 'list-attributes':
          opts.listAttribs = true
          break
        case 'list-types':
          opts.listTypes = true
          break
        case 'help-attribute':
          opts.helpAttribs = true
          break
        case 'export':
        case 'import':
        case 'is-owner': {
          const key = ev.name === 'is-owner' ? 'isOwner' : ev.name
          if (opts[key] !== null) {
            o.error(`Cannot specify '--${ev.name}' multiple times\n`)
            return EXIT.USAGE_ERROR
          }
          opts[key] = arg
          break
        }
        case 'apply':
          opts.apply = true
          break
        case 'active':
          opts.active = true
          break
        case 'persistent':
          opts.persistent = true
          break
        case 'auto-conf':
          opts.autoConf = true
          break
        case 'remove':
          opts.remove.push(arg)
          break
        case 'remove-all':
          opts.removeAll = true
          break
        case 'force':
          opts.force = true
          break
        case 'yes':
          opts.yes = true
          break
        case 'no-root-update':
          opts.noRootCheck = true
          break
        case 'dry-run':
          opts.dryrun = true
          break
        case 'base':
          opts.base.push(arg)
          break
        case 'help':
          opts.help = true
          return EXIT.OK
        case 'version':
          opts.version = true
          return EXIT.OK
        case 'verbose':
          opts.verbose = true
          break
        case 'quiet':
          opts.quiet = true
          break
        case 'site':
          if (!isValidSite(arg)) {
            o.syntax('Unsupported site ID\n')
            return EXIT.USAGE_ERROR
          }
          if (opts.siteId !== SITE_FALLBACK) {
            o.syntax("Cannot specify '--site' multiple times\n")
            return EXIT.USAGE_ERROR
          }
          opts.siteId = parseInt(arg, 10)
          opts.persistent = true
          break
        default:
          break
      }
      specified.add(ev.name)
      const rc = checkConflict(ev.name, specified, CONFLICTS, o)
      if (rc) return rc
    }

    if (opts.deconfigureAll) opts.config = CONFIG_ALL
    else if (!opts.active && !opts.persistent && !opts.autoConf) opts.config = CONFIG_ACTIVE | CONFIG_PERSISTENT
    else opts.config = getConfig(opts.active, opts.persistent, opts.autoConf)

    const rc = this.parsePositional(operands)
    if (!devSpecified(opts.select) && getAction(opts) === 'import' && !opts.type) {
      // --import without --type or device selects both type and all devices.
      opts.select.all = true
      opts.type = true
    }
    return rc
  }

  private parsePositional(args: string[]): number {
    const o = this.o
    const opts = this.opts
    const s = opts.select
    const action = getAction(opts)
    let i = 0
    let arg = ''
    const setSt = (f: {dt: Devtype; st: Subtype}) => {
      s.subtype = f.st
      s.devtype = f.dt
    }
    const extra = () => {
      o.syntax(`Extra parameter found: ${arg}\n`)
      return EXIT.USAGE_ERROR
    }
    const unknownDevtype = () => {
      o.error(`Unknown device type: ${arg}\n`)
      return EXIT.UNKNOWN_DEVTYPE
    }
    const invDev = () => checkDevspec(o, s.devtype, s.subtype, arg, false)
    const addDevids = () => s.devids.push(...arg.split(',').filter((x) => x !== ''))
    for (; i < args.length; i++) {
      arg = args[i]
      const dt = devtypeFind(arg)
      const st = subtypeFind(arg)
      switch (action) {
        case 'configure':
          if (st && !s.devtype) setSt(st)
          else if (dt && !s.devtype) s.devtype = dt
          else if (arg.includes('=')) opts.settings.push(arg)
          else if (opts.type) return extra()
          else if (isDevspec(s.devtype, s.subtype, arg)) addDevids()
          else return invDev()
          break
        case 'deconfigure':
        case 'export':
        case 'import':
        case 'apply':
          if (st && !s.devtype) setSt(st)
          else if (dt && !s.devtype) s.devtype = dt
          else if (arg.includes('=')) {
            o.syntax(`Cannot specify '${ACTION_OPTION[action]}' together with setting '${arg}'\n`)
            return EXIT.USAGE_ERROR
          } else if (isDevspec(s.devtype, s.subtype, arg)) addDevids()
          else return invDev()
          break
        case 'list-attribs':
        case 'help-attribs':
          if (st && !s.devtype) setSt(st)
          else if (dt && !s.devtype) s.devtype = dt
          else if (!st && !s.devtype) return unknownDevtype()
          else opts.positional.push(arg)
          break
        case 'list-types':
          if (st || dt) {
            if (s.devtype) return extra()
            if (dt) s.devtype = dt
            else setSt(st!)
          } else if (!s.devtype) return unknownDevtype()
          else return extra()
          break
        default:
          return extra()
      }
    }

    const gotDevspec = devSpecified(s)
    const checkDevspecs = () => {
      for (const id of s.devids) {
        const rc = checkDevspec(o, s.devtype, s.subtype, id, false)
        if (rc) return rc
      }
      return EXIT.OK
    }
    const noSettings = opts.settings.length === 0 && opts.remove.length === 0 && !opts.removeAll
    switch (action) {
      case 'configure':
        if (opts.type) {
          if (gotDevspec) {
            o.error("Cannot specify '--type' and select a device when configuring\n")
            return EXIT.USAGE_ERROR
          }
          if (!s.devtype) return this.errNoDevtype()
          if (noSettings) {
            if (s.devtype.typeAttribs.length) {
              o.error(
                `Please specify a device type setting to configure\nUse '${this.ctx.prog} ${s.devtype.name} --type --list-attributes' to get a list of attributes\n`,
              )
              return EXIT.USAGE_ERROR
            }
            o.error(`Device type ${s.devtype.name} does not provide type attributes\n`)
            return EXIT.ATTRIB_NOT_FOUND
          }
          return EXIT.OK
        }
        if (!opts.enable && noSettings) {
          o.syntax('Please specify an action\n')
          return EXIT.USAGE_ERROR
        }
        if (!gotDevspec) {
          if (opts.enable) {
            o.syntax('Please specify a device to configure\n')
            return EXIT.USAGE_ERROR
          }
          if (!s.devtype) {
            o.syntax('Please specify a device or device type to configure\n')
            return EXIT.USAGE_ERROR
          }
          if (noSettings) {
            o.syntax('Please specify a device or setting to configure\n')
            return EXIT.USAGE_ERROR
          }
          o.syntax('Please specify a device or --type to select device type\n')
          return EXIT.USAGE_ERROR
        }
        return checkDevspecs()
      case 'deconfigure':
        if (!gotDevspec) {
          o.syntax('Please specify a device to deconfigure\n')
          return EXIT.USAGE_ERROR
        }
        return checkDevspecs()
      case 'list-attribs':
      case 'help-attribs':
        if (!s.devtype) return this.errNoDevtype()
        return EXIT.OK
      case 'export':
      case 'apply':
        if (!gotDevspec && !opts.type) {
          o.syntax('Please specify a device or --type to select device type\n')
          return EXIT.USAGE_ERROR
        }
        return checkDevspecs()
      default:
        return EXIT.OK
    }
  }

  private errNoDevtype(): number {
    this.o.error(`Please specify a device type\nUse '${this.ctx.prog} --list-types' to get a list of device types\n`)
    return EXIT.USAGE_ERROR
  }

  private actionNote(msg: string, config: number): void {
    if (config === CONFIG_ACTIVE) this.o.info(`${msg} the active configuration only\n`)
    else if (config === CONFIG_PERSISTENT) {
      if (this.opts.siteId === SITE_FALLBACK) this.o.info(`${msg} the persistent configuration only\n`)
      else this.o.info(`${msg} the site ${this.opts.siteId} configuration only\n`)
    } else if (config === 4) this.o.info(`${msg} the auto-configuration only\n`)
  }

  // --- device types -------------------------------------------------------------------------------

  private doConfigure(): number {
    if (this.opts.type) {
      this.actionNote('Configuring device type in', this.opts.config)
      return this.configureDevtype()
    }
    this.actionNote('Configuring devices in', this.opts.config)
    return this.configureDevices(1, null, false)
  }

  private needsWriting(st: DtState, config: number): boolean {
    return (scopeActive(config) && !!st.active && st.active.modified()) || (scopePersistent(config) && !!st.persistent && st.persistent.modified())
  }

  /** apply_setting of devtype.c: known or unknown attribute, one value each. */
  private applySetting(st: DtState, config: number, key: string, value: string, processed: string[]): number {
    const o = this.o
    const a = st.def.typeAttribs.find((x) => x.name === key) ?? null
    if (a) {
      if (!o.force && !a.multi && processed.includes(key)) {
        o.delayedForceable(`Cannot specify multiple values for attribute '${key}'\n`)
        return EXIT.INVALID_SETTING
      }
    } else {
      if (!st.def.unknownTypeAttribs) {
        o.delayedErr(`Unknown device type attribute specified: ${key}\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
      if (!o.force) {
        o.delayedForceable(`Unknown device type attribute specified: ${key}\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
    }
    processed.push(key)
    if (scopeActive(config)) st.active?.applySpecified(a, key, value)
    if (scopePersistent(config)) st.persistent?.applySpecified(a, key, value)
    return EXIT.OK
  }

  private applyStrlist(st: DtState, config: number, settings: string[]): number {
    const processed: string[] = []
    for (const kv of settings) {
      const eq = kv.indexOf('=')
      const rc = this.applySetting(st, config, kv.slice(0, eq), kv.slice(eq + 1), processed)
      if (rc) return rc
    }
    return EXIT.OK
  }

  private applySettings(st: DtState, config: number, list: SettingList): number {
    const processed: string[] = []
    for (const s of list.items) {
      const rc = this.applySetting(st, config, s.name, s.value, processed)
      if (rc) return rc
    }
    return EXIT.OK
  }

  private removable(list: SettingList | null, active: boolean): number {
    if (!list) return 0
    return list.items.filter((s) => (!active || (s.attrib && s.attrib.activerem)) && !s.derived && !(s.attrib && s.attrib.mandatory)).length
  }

  private removeAll(st: DtState, config: number): number {
    const act = scopeActive(config) ? this.removable(st.active, true) : 0
    const pers = scopePersistent(config) ? this.removable(st.persistent, false) : 0
    if (act === 0 && pers === 0) {
      this.o.delayedErr('No removable settings found\n')
      return EXIT.SETTING_NOT_FOUND
    }
    const mark = (list: SettingList | null, active: boolean) => {
      for (const s of list?.items ?? []) {
        if ((active && !(s.attrib && s.attrib.activerem)) || s.derived || (s.attrib && s.attrib.mandatory)) continue
        s.removed = true
        s.modified = true
      }
    }
    if (act) mark(st.active, true)
    if (pers) mark(st.persistent, false)
    return EXIT.OK
  }

  private removeSettings(st: DtState, config: number, names: string[]): number {
    const notfound: string[] = []
    const remove = (list: SettingList | null, checkActiverem: boolean): number => {
      for (const name of names) {
        const s = list?.find(name)
        if (s && !s.derived) {
          if (s.attrib && s.attrib.mandatory) {
            this.o.delayedErr(`Cannot remove setting for mandatory attribute '${name}'\n`)
            return EXIT.USAGE_ERROR
          }
          if (checkActiverem && s.attrib && !s.attrib.activerem) {
            this.o.delayedErr(`Cannot remove setting '${name}' from the active configuration\n`)
            return EXIT.USAGE_ERROR
          }
          s.removed = true
          s.modified = true
          continue
        }
        if (!notfound.includes(name)) notfound.push(name)
      }
      return EXIT.OK
    }
    let rc = EXIT.OK as number
    if (scopeActive(config)) rc = remove(st.active, true)
    if (!rc && scopePersistent(config)) rc = remove(st.persistent, false)
    if (rc) return rc
    if (notfound.length) {
      this.o.delayedErr(`Setting not found: ${notfound.join(' ')}\n`)
      return EXIT.SETTING_NOT_FOUND
    }
    return EXIT.OK
  }

  private printDevtypeResult(st: DtState, config: number, rc: number): void {
    const o = this.o
    if (rc) {
      o.warn(`${st.def.name} device type configure failed\n`)
      if (o.delayedErrors === 0) o.delayedErr(`${exitCodeToStr(rc)}\n`)
    } else if (!this.needsWriting(st, config)) o.out(`${st.def.name} device type already configured\n`)
    else {
      o.out(`${st.def.name} device type configured\n`)
      if (o.verbose) {
        const changes = settingChanges(scopeActive(config) ? st.active : null, scopePersistent(config) ? st.persistent : null)
        if (changes) o.info(`    Changes: ${changes}\n`)
      }
    }
    o.delayedPrint(4)
  }

  private configureDevtype(): number {
    const opts = this.opts
    const st = this.z.dt(opts.select.devtype!)
    let rc = this.z.readSettings(st, opts.config)
    if (!rc && opts.removeAll) rc = this.removeAll(st, opts.config)
    if (!rc && opts.remove.length) rc = this.removeSettings(st, opts.config, opts.remove)
    if (!rc) rc = this.applyStrlist(st, opts.config, opts.settings)
    if (!rc && this.needsWriting(st, opts.config)) {
      if (scopePersistent(opts.config)) this.persModDevtypes++
      rc = this.z.writeSettings(st, opts.config)
    }
    this.printDevtypeResult(st, opts.config, rc)
    return rc
  }

  private applyDevtype(def: Devtype, specified: boolean, found: {n: number}): number {
    const st = this.z.dt(def)
    let rc = this.z.readSettings(st, CONFIG_ALL)
    if (rc) return rc
    if (!st.persistent || st.persistent.countSet() === 0) {
      if (!specified) return EXIT.OK
      rc = EXIT.NO_DATA
    } else {
      found.n++
      rc = this.applySettings(st, CONFIG_ACTIVE, st.persistent)
      if (!rc && this.needsWriting(st, CONFIG_ACTIVE)) rc = this.z.writeSettings(st, CONFIG_ACTIVE)
    }
    this.printDevtypeResult(st, CONFIG_ACTIVE, rc)
    return rc
  }

  private doApply(): number {
    const opts = this.opts
    let drc = 0
    const found = {n: 0}
    let specified = 0
    if (opts.type) {
      let rc = 0
      if (opts.select.devtype) {
        specified++
        rc = this.applyDevtype(opts.select.devtype, true, found)
      } else {
        for (const def of DEVTYPES) {
          const r = this.applyDevtype(def, false, found)
          if (r && !rc) rc = r
        }
      }
      if (rc && !drc) drc = rc
    }
    if (devSpecified(opts.select)) {
      specified++
      const rc = this.configureDevices(1, found, false)
      if (rc && !drc) drc = rc
    }
    if (!found.n && !specified) {
      this.o.error('No configuration data found\n')
      if (!drc) drc = EXIT.NO_DATA
    }
    return drc
  }

  private doAttribs(details: boolean): number {
    const o = this.o
    const opts = this.opts
    const def = opts.select.devtype!
    const names = opts.positional.length ? opts.positional : null
    let attribs: Attrib[] | null
    if (opts.type) {
      if (!details && def.typeAttribs.length === 0) {
        o.error(`Device type ${def.name} does not provide type attributes\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
      if (def !== AP_DEVTYPE && def.typeAttribs.length) throw new NotEmulated(`describing ${def.name} device type attributes`)
      attribs = []
      for (const n of names ?? def.typeAttribs.map((a) => a.name)) {
        const a = def.typeAttribs.find((x) => x.name === n)
        if (!a) {
          o.error(`${def.name} type attribute '${n}' not found!\n`)
          attribs = null
          break
        }
        attribs.push(a)
      }
    } else {
      if (def !== AP_DEVTYPE) throw new NotEmulated(`describing ${def.name} device attributes`)
      // The ap device type has no device attributes.
      attribs = []
      if (names) {
        o.error(`${opts.select.subtype ? opts.select.subtype.devname : def.devname} attribute '${names[0]}' not found!\n`)
        attribs = null
      }
    }
    if (!attribs) return EXIT.ATTRIB_NOT_FOUND
    if (details) tableAttribsShowDetails(o, attribs)
    else tableAttribsShow(o, attribs)
    return EXIT.OK
  }

  // --- devices --------------------------------------------------------------------------------------

  /**
   * configure_devices / deconfigure_devices on a host with no such devices:
   * every selected ID ends in "not found" (or "already deconfigured").
   */
  private configureDevices(specified: number, found: {n: number} | null, deconfigure: boolean): number {
    const o = this.o
    const opts = this.opts
    const config = opts.config
    const sel = opts.select
    let existing = true
    if (!deconfigure && ((!scopeActive(config) && (scopePersistent(config) || scopeAutoconf(config))) || (sel.subtype && sel.subtype.definable))) existing = false
    const selected: Selected[] = []
    const rc = selectDevices(this.z, sel, selected, existing, !deconfigure, config)
    if (rc) return rc
    if (selected.length === 0) {
      if (!specified) return EXIT.OK
      o.error('No device was selected!\n')
      return EXIT.EMPTY_SELECTION
    }
    if (opts.siteId !== SITE_FALLBACK) {
      for (const s of selected) {
        if (s.dt && s.dt.name !== 'dasd') {
          o.error(`Site specific configuration is not supported for ${s.dt.devname} devices\n`)
          return EXIT.OK
        }
      }
    }
    let drc = 0
    for (const s of selected) {
      let r = deconfigure ? EXIT.DEVICE_NOT_FOUND : s.rc
      if (!deconfigure && r === EXIT.INCOMPLETE_TYPE && scopeActive(config)) r = EXIT.DEVICE_NOT_FOUND
      r = this.printConfigResult(s, config, r, deconfigure)
      if (r && !drc) drc = r
    }
    void found
    return drc
  }

  private printConfigResult(sel: Selected, config: number, rc: number, deconfigure: boolean): number {
    const o = this.o
    const op = deconfigure ? 'deconfigure' : 'configure'
    const verb = deconfigure ? 'deconfigured' : 'configured'
    let already = false
    if (deconfigure && rc === EXIT.DEVICE_NOT_FOUND && !scopeActive(config) && (scopePersistent(config) || scopeAutoconf(config))) {
      rc = EXIT.OK
      already = true
    }
    if (o.force) already = false
    const devname = sel.st ? sel.st.devname : sel.dt ? sel.dt.devname : 'Device'
    const devid = sel.id || (sel.param ?? '')
    if (rc) {
      o.warn(`${devname} ${devid} ${op} failed\n`)
      if (o.delayedErrors === 0) o.delayedErr(`${exitCodeToStr(rc)}\n`)
    } else if (already) o.out(`${devname} ${devid} already ${verb}\n`)
    else o.out(`${devname} ${devid} ${verb}\n`)
    o.delayedPrint(4)
    return rc
  }

  // --- export and import ----------------------------------------------------------------------------

  private doExport(): number {
    const o = this.o
    const opts = this.opts
    const file = opts.export!
    const toStdout = file === '-'
    if (toStdout) o.info('Exporting data to standard output\n')
    else {
      o.info(`Exporting data to ${file}\n`)
      try {
        this.ctx.writeFile(file, '')
      } catch (e) {
        o.error(`Could not write to file ${file}: ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    const w = new ExportWriter(this.ctx.nodename)
    let rc = EXIT.OK as number
    const devices = devSpecified(opts.select)
    if (opts.type && !devices) {
      for (const def of DEVTYPES) {
        if (opts.select.devtype && def !== opts.select.devtype) continue
        rc = this.exportDevtype(w, def)
        if (rc) break
      }
    }
    if (!rc && devices) {
      const selected: Selected[] = []
      rc = selectDevices(this.z, opts.select, selected, true, false, opts.config)
      if (!rc) {
        let drc = 0
        for (const s of selected) {
          const devname = s.st ? s.st.devname : s.dt ? s.dt.devname : 'Device'
          o.warn(`${devname} ${s.id} export failed\n`)
          o.warn(`    Error: ${exitCodeToStr(s.rc)}\n`)
          if (!drc) drc = s.rc
        }
        rc = drc
      }
    }
    if (rc === EXIT.OK && w.first) {
      o.error('No settings found to export\n')
      rc = EXIT.EMPTY_SELECTION
    }
    if (toStdout) o.out(w.text)
    else {
      try {
        this.ctx.writeFile(file, w.text)
      } catch {
        // fclose() result is not checked
      }
    }
    return rc
  }

  private exportDevtype(w: ExportWriter, def: Devtype): number {
    const st = this.z.dt(def)
    const rc = this.z.readSettings(st, this.opts.config)
    if (rc || st.processed) return rc
    st.processed = true
    w.devtype(st, this.opts.config)
    return EXIT.OK
  }

  private doImport(): number {
    const o = this.o
    const opts = this.opts
    const file = opts.import!
    let text: string
    let filename: string
    if (file === '-') {
      filename = 'Standard input'
      text = this.ctx.stdin ?? ''
    } else {
      filename = file
      try {
        text = this.ctx.readFile(file)
      } catch (e) {
        o.error(`Could not open file ${file}: ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    o.info(`Importing data from ${filename}\n`)
    const objects: ImportObject[] = []
    const rc = exportRead(this.z, filename, text, objects)
    if (rc) return rc
    const found = objects.length > 0
    const kept = objects.filter((obj) => (obj.kind === 'devtype' ? this.importDevtypeSelected(obj.st) : this.importDeviceSelected(obj)))
    if (kept.length === 0) {
      if (found) {
        o.error(`${filename}: Imported configuration data did not match selection\n`)
        return EXIT.EMPTY_SELECTION
      }
      o.info(`${filename}: No settings found to import\n`)
      return EXIT.OK
    }
    let drc = 0
    for (const obj of kept) {
      const r = obj.kind === 'devtype' ? this.importDevtype(obj.st) : this.importDevice(obj)
      if (r && !drc) drc = r
    }
    return drc
  }

  private importDevtypeSelected(st: DtState): boolean {
    const opts = this.opts
    if (!opts.type) return false
    if (opts.config === CONFIG_ACTIVE && (!st.active || st.active.items.length === 0)) return false
    if (opts.config === CONFIG_PERSISTENT && (!st.persistent || st.persistent.items.length === 0)) return false
    return true
  }

  private importDeviceSelected(dev: Extract<ImportObject, {kind: 'device'}>): boolean {
    const s = this.opts.select
    if (!devSpecified(s)) return false
    if ((dev.config & this.opts.config) === 0) return false
    if (s.devtype && !s.devtype.subtypes.includes(dev.st)) return false
    if (s.subtype && dev.st !== s.subtype) return false
    if (s.devids.length) return s.devids.includes(dev.id)
    return !(s.online || s.failed)
  }

  private importDevtype(st: DtState): number {
    const opts = this.opts
    if (st.processed) return EXIT.OK
    const active = st.active ? st.active.copy() : null
    const persistent = st.persistent ? st.persistent.copy() : null
    st.active = null
    st.persistent = null
    let rc = this.z.readSettings(st, opts.config)
    if (!rc) {
      st.processed = true
      if (active) rc = this.applySettings(st, CONFIG_ACTIVE, active)
      if (!rc && persistent) rc = this.applySettings(st, CONFIG_PERSISTENT, persistent)
      if (!rc && this.needsWriting(st, opts.config)) {
        if (scopePersistent(opts.config)) this.persModDevtypes++
        rc = this.z.writeSettings(st, opts.config)
      }
    }
    this.printDevtypeResult(st, opts.config, rc)
    return rc
  }

  /** import_device: the device does not exist on this host. */
  private importDevice(dev: Extract<ImportObject, {kind: 'device'}>): number {
    const config = dev.config & this.opts.config
    if (!scopeActive(config) || dev.st.definable) throw new NotEmulated(`importing the configuration of ${dev.st.devname} ${dev.id}`)
    this.o.warn(`${dev.st.devname} ${dev.id} configure failed\n`)
    if (this.o.delayedErrors === 0) this.o.delayedErr(`${exitCodeToStr(EXIT.DEVICE_NOT_FOUND)}\n`)
    this.o.delayedPrint(4)
    return EXIT.DEVICE_NOT_FOUND
  }

  /** --is-owner FILE: was the file generated by chzdev? */
  private doIsOwner(): number {
    const file = this.opts.isOwner!
    const fs = this.z.fs
    let text: string
    try {
      text = fs.read(file)
    } catch (e) {
      this.o.error(`Could not open file ${file}: ${errText(e)}\n`)
      return EXIT.RUNTIME_ERROR
    }
    if (text === '') return EXIT.RUNTIME_ERROR
    // EXIT_UNKNOWN_FILE (value not in the sources read; assumed next after EXIT_UNGROUP_FAILED).
    return text.startsWith('# Generated by chzdev') ? EXIT.OK : 33
  }
}
