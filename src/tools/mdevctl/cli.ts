// mdevctl's command line (cli.rs): the subcommands of mdevctl and lsmdev's
// options as clap's derive defines them, with their help texts, groups,
// conflicts and requirements. The parser is in clap.ts.

import type {ClapArg, ClapCmd, ClapGroup} from '../../views/mdevctl.js'
import {CLAP_HELP} from './clap.js'

export const MDEVCTL_VERSION = '1.4.0'

const FORCE_HELP = 'Force command execution even if device-specific callout script fails\nNOTE: only use this option if you are sure you know what you are doing'

const LIST_LONG_ABOUT =
  'List mediated devices\n\n' +
  'With no options, information about the currently running mediated devices is ' +
  "provided. Specifying 'defined' lists the configuration of defined devices, " +
  'regardless of their running state. This may be further reduced by specifying ' +
  "specific 'uuid' or 'parent' devices to list. The 'dumpjson' option provides output " +
  "listing in machine readable JSON format. When a 'uuid' option is provided and the " +
  'result is a single device, the output contains only the JSON fields necessary to ' +
  'recreate a config file for the device (minus attributes for listings of running ' +
  'devices). When the verbose option is provided, the human readable listing will ' +
  'include attributes for the device(s).'

type ArgSpec = Omit<ClapArg, 'order'>

interface CmdSpec {
  about?: string
  longAbout?: string
  version?: string
  args: ArgSpec[]
  /** The implicit group clap's derive adds for the variant or struct (multiple, not required). */
  implicitGroup?: string
  groups?: ClapGroup[]
  hidden?: boolean
}

function command(name: string, bin: string, display: string, spec: CmdSpec, order: number): ClapCmd {
  let next = 0
  const args: ClapArg[] = spec.args.map((a) => ({...a, order: a.action === 'pos' ? 0 : next++}))
  const groups: ClapGroup[] = []
  if (spec.implicitGroup) groups.push({id: spec.implicitGroup, args: spec.args.map((a) => a.id), required: false, multiple: true})
  groups.push(...(spec.groups ?? []))
  const longHelp = spec.longAbout !== undefined || args.some((a) => a.longHelp !== undefined)
  args.push(
    longHelp
      ? {id: 'help', short: 'h', long: 'help', action: 'help', help: "Print help (see more with '--help')", longHelp: "Print help (see a summary with '-h')", order: 999}
      : {id: 'help', short: 'h', long: 'help', action: 'help', help: 'Print help', order: 999},
  )
  if (spec.version) args.push({id: 'version', short: 'V', long: 'version', action: 'version', help: 'Print version', order: 999})
  const cmd: ClapCmd = {name, bin, display, args, groups, subcommands: [], order}
  if (spec.about !== undefined) cmd.about = spec.about
  if (spec.longAbout !== undefined) cmd.longAbout = spec.longAbout
  if (spec.version !== undefined) cmd.version = spec.version
  if (spec.hidden) cmd.hidden = true
  return cmd
}

const UUID = (help: string, extra: Partial<ArgSpec> = {}): ArgSpec => ({id: 'uuid', short: 'u', long: 'uuid', action: 'opt', valueName: 'UUID', parser: 'uuid', help, ...extra})
const PARENT = (help: string, extra: Partial<ArgSpec> = {}): ArgSpec => ({id: 'parent', short: 'p', long: 'parent', action: 'opt', valueName: 'PARENT', parser: 'string', help, ...extra})
const TYPE = (help: string): ArgSpec => ({id: 'type', short: 't', long: 'type', action: 'opt', valueName: 'type', parser: 'string', help})
const JSONFILE = (help: string, conflicts: string[]): ArgSpec => ({id: 'jsonfile', long: 'jsonfile', action: 'opt', valueName: 'JSONFILE', parser: 'path', help, conflicts})
const FORCE: ArgSpec = {id: 'force', short: 'f', long: 'force', action: 'flag', help: FORCE_HELP}

const LSMDEV_ARGS: ArgSpec[] = [
  {id: 'defined', short: 'd', long: 'defined', action: 'flag', help: 'Show defined devices'},
  {id: 'dumpjson', long: 'dumpjson', action: 'flag', help: 'Output device list in json format'},
  {id: 'verbose', short: 'v', long: 'verbose', action: 'flag', help: 'Print additional information about the devices'},
  UUID('List devices matching the specified UUID'),
  PARENT('List devices associated with the specified Parent device'),
]

function subcommandSpecs(): Array<[string, CmdSpec]> {
  return [
    [
      'define',
      {
        about: 'Define a persistent mediated device',
        longAbout:
          'Define a persistent mediated device\n\n' +
          "If the device specified by the UUID currently exists, 'parent' and 'type' may be " +
          "omitted to use the existing values. The 'auto' option marks the device to start on " +
          "parent availability.  If defined via 'jsonfile', then 'type', 'startup', and any " +
          'attributes are provided via the file.\n\n' +
          'Running devices are unaffected by this command.',
        implicitGroup: 'Define',
        args: [
          UUID('Assign UUID to the device', {requiredUnless: ['parent']}),
          {id: 'auto', short: 'a', long: 'auto', action: 'flag', help: 'Automatically start device on parent availability'},
          PARENT('Specify the parent of the device', {requiredUnless: ['uuid']}),
          TYPE('Specify the mdev type of the device'),
          JSONFILE('Specify device details in JSON format', ['type', 'auto']),
          FORCE,
        ],
      },
    ],
    [
      'undefine',
      {
        about: 'Undefine a persistent mediated device',
        longAbout:
          'Undefine, or remove a config for an mdev device\n\n' +
          'If a UUID exists for multiple parents, all will be removed unless a parent is\n' +
          '                specified. \n\n' +
          'Running devices are unaffected by this command.',
        implicitGroup: 'Undefine',
        args: [UUID('UUID of the device to be undefined', {required: true}), PARENT('Parent of the device to be undefined'), FORCE],
      },
    ],
    [
      'modify',
      {
        about: 'Modify the definition of a mediated device',
        longAbout:
          'Modify the definition of a mediated device\n\n' +
          "The 'parent' option further identifies a UUID if it is not unique. The parent for a " +
          'device cannot be modified via this command; undefine and re-define should be used ' +
          'instead. An attribute can be added or removed, which correlates to a sysfs ' +
          "attribute under the created device. Unless an 'index' value is provided, operations " +
          "are performed at the end of the attribute list. 'value' is to be specified in the " +
          'format that is accepted by the attribute. Upon device start, mdevctl will go ' +
          'through each attribute in order, writing the value into the corresponding sysfs ' +
          'attribute for the device. The startup mode of the device can also be selected, auto ' +
          "or manual. Alternatively, the 'jsonfile' option may be used to replace the startup " +
          'mode and any attributes with the contents of the specified file.\n\n' +
          'Running devices are unaffected by this command.',
        implicitGroup: 'Modify',
        groups: [{id: 'modify', args: ['auto', 'manual', 'addattr', 'delattr', 'jsonfile'], required: true, multiple: false}],
        args: [
          UUID('UUID of the mdev to modify', {required: true}),
          PARENT('Parent of the mdev to modify'),
          TYPE('Modify the mdev type for this device'),
          {id: 'addattr', long: 'addattr', action: 'opt', valueName: 'attr_name', parser: 'string', help: 'Add a new attribute', requires: ['value']},
          {id: 'delattr', long: 'delattr', action: 'flag', help: 'Delete an attribute'},
          {id: 'index', short: 'i', long: 'index', action: 'opt', valueName: 'INDEX', parser: 'u32', help: 'Index of the attribute to modify'},
          {
            id: 'value',
            long: 'value',
            action: 'opt',
            valueName: 'attr_value',
            parser: 'string',
            help: 'Value for the attribute specified by --addattr',
            conflicts: ['delattr'],
            requires: ['addattr'],
          },
          {id: 'auto', short: 'a', long: 'auto', action: 'flag', help: 'Device will be started automatically', conflicts: ['index', 'value']},
          {id: 'manual', short: 'm', long: 'manual', action: 'flag', help: 'Device must be started manually', conflicts: ['index', 'value']},
          {
            id: 'live',
            short: 'l',
            long: 'live',
            action: 'flag',
            help: 'Modify the running device definition only unless used together with defined option',
            conflicts: ['type', 'index', 'value'],
            requires: ['jsonfile'],
          },
          {id: 'defined', short: 'd', long: 'defined', action: 'flag', help: 'Modify the stored device definition'},
          JSONFILE('Specify device details in JSON format', ['type', 'index', 'value']),
          FORCE,
        ],
      },
    ],
    [
      'start',
      {
        about: 'Start a mediated device',
        longAbout:
          'Start a mediated device\n\n' +
          'If the UUID is previously defined and unique, the UUID is sufficient to start the ' +
          'device (UUIDs may not collide between running devices). If a UUID is used in ' +
          "multiple defined configurations, the 'parent' is necessary to identify the device " +
          "to be started.  When specified with 'parent' and 'type', the device is fully " +
          'specified and will be started based only on these parameters.  The UUID is optional ' +
          'in this case. If not provided, a UUID is generated and returned as output. A ' +
          "'jsonfile' may replace the 'type' specification and also include additional " +
          'attributes to be applied to the started device.',
        implicitGroup: 'Start',
        args: [
          UUID('UUID of the device to start', {requiredUnless: ['parent']}),
          PARENT('Parent of the device to start', {requiredUnless: ['uuid']}),
          TYPE('Mdev type of the device to start'),
          JSONFILE('Details of the device to be started, in JSON format', ['type']),
          FORCE,
        ],
      },
    ],
    ['stop', {about: 'Stop a mediated device', implicitGroup: 'Stop', args: [UUID('UUID of the device to stop', {required: true}), FORCE]}],
    ['list', {about: 'List mediated devices', longAbout: LIST_LONG_ABOUT, version: MDEVCTL_VERSION, implicitGroup: 'LsmdevOptions', args: LSMDEV_ARGS}],
    [
      'types',
      {
        about: 'List available mediated device types',
        longAbout:
          'List available mediated device types\n\n' +
          "Specifying a 'parent' lists only the types provided by the given parent device. " +
          "The 'dumpjson' option provides output in machine readable JSON format.",
        implicitGroup: 'Types',
        args: [PARENT('Show supported types for the specified parent'), {id: 'dumpjson', long: 'dumpjson', action: 'flag', help: 'Output mdev types list in JSON format'}],
      },
    ],
    [
      'start-parent-mdevs',
      {hidden: true, implicitGroup: 'StartParentMdevs', args: [{id: 'parent', action: 'pos', index: 1, valueName: 'PARENT', parser: 'string', required: true}]},
    ],
  ]
}

export function buildMdevctl(): ClapCmd {
  const top = command('mdevctl', 'mdevctl', 'mdevctl', {about: 'A mediated device management utility for Linux', version: MDEVCTL_VERSION, args: []}, 0)
  top.subcommandRequired = true
  top.argRequiredElseHelp = true
  top.subcommands = subcommandSpecs().map(([name, spec], i) => command(name, `mdevctl ${name}`, `mdevctl-${name}`, spec, i))
  const help: ClapCmd = {
    name: 'help',
    bin: 'mdevctl help',
    display: 'mdevctl-help',
    about: 'Print this message or the help of the given subcommand(s)',
    args: [{id: 'subcommand', action: 'pos', index: 1, multiple: true, valueName: 'COMMAND', help: 'Print help for the subcommand(s)', order: 0}],
    groups: [],
    subcommands: [],
    order: 999,
  }
  ;(help as ClapCmd & {[CLAP_HELP]?: true})[CLAP_HELP] = true
  top.subcommands.push(help)
  return top
}

export function buildLsmdev(): ClapCmd {
  return command('lsmdev', 'lsmdev', 'lsmdev', {about: 'List mediated devices', longAbout: LIST_LONG_ABOUT, version: MDEVCTL_VERSION, implicitGroup: 'LsmdevOptions', args: LSMDEV_ARGS}, 0)
}

/** The clap commands of mdevctl and lsmdev, for help texts and man pages. */
