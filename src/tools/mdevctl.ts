// mdevctl 1.4.0 (upstream HEAD bd7f10a): the clap 4 command line, the
// definitions under /etc/mdevctl.d, the active devices in sysfs, callouts and
// notifiers, with the real tool's output, messages (anyhow's `Error:` and
// `Caused by:`, clap's usage errors, env_logger's warnings) and exit codes.
// Everything goes through an abstract file system: the emulated host (root
// '') or a real directory tree (MDEVCTL_ENV_ROOT).

import {now} from '../core/clock.js'
import {ERRNO, KernelError} from '../core/errors.js'
import {
  type ClapArg,
  type ClapCmd,
  type ClapGroup,
  JObj,
  type JVal,
  type MdevView,
  type TypeView,
  argText,
  attrsText,
  clapError,
  deviceJson,
  didYouMean,
  findArg,
  findGroup,
  groupsForArg,
  helpText,
  isNum,
  jsonCompact,
  jsonPretty,
  listJson,
  listLine,
  numText,
  requiredGraph,
  requiredUsage,
  similarText,
  typesJson,
  typesText,
  usageTitled,
  versionText,
} from '../views/mdevctl.js'
import {type Stdio, byteOrder} from './libc.js'
import {type Fs, RealSys} from './sys.js'

export const MDEVCTL_VERSION = '1.4.0'

export interface CalloutResult {
  code: number
  stdout: string
  stderr: string
  /** The script died from a signal: Rust's ExitStatus::code() is then None. */
  signal?: string
}

export interface MdevctlEnv {
  fs: Fs
  /** '' for the emulated host, else the MDEVCTL_ENV_ROOT directory without trailing slash. */
  root: string
  prog: 'mdevctl' | 'lsmdev'
  /**
   * Run a callout or notifier script (`-t TYPE -e EVENT -a ACTION -s STATE -u UUID -p PARENT`)
   * with `stdin` (null: nothing). Throw a KernelError when it cannot be executed.
   */
  callout: (script: string, args: string[], stdin: string | null) => CalloutResult
  /** Uuid::new_v4, lowercase hyphenated. */
  newUuid: () => string
  /**
   * Read a file named by --jsonfile (relative to the caller's working
   * directory): its text, or its bytes (checked as UTF-8 like
   * read_to_string). Throw a KernelError, or Node's fs error, as open/read
   * would fail. Default: read it from `fs` (relative paths from `/`).
   */
  readJsonFile?: (path: string) => string | Uint8Array
}

// --- Rust's error reporting -------------------------------------------------------

/** An anyhow::Error: the message, then its causes. */
class RustError extends Error {
  constructor(readonly chain: string[]) {
    super(chain[0])
  }
}

/** A panic (exit 101). */
class Panic extends Error {
  constructor(
    readonly location: string,
    readonly text: string,
  ) {
    super(text)
  }
}

/** clap's exit: help/version on stdout (0) or a usage error on stderr (2). */
class ClapExit extends Error {
  constructor(
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super('clap')
  }
}

class Utf8Error extends Error {}

const fail = (msg: string): never => {
  throw new RustError([msg])
}

/** io::Error's Display. */
function ioText(e: unknown): string {
  if (e instanceof KernelError) {
    const [n, text] = ERRNO[e.errno]
    return `${text} (os error ${n})`
  }
  if (e instanceof Utf8Error) return 'stream did not contain valid UTF-8'
  if (e instanceof RustError) return e.chain[0]
  throw e
}

const io = (e: unknown): RustError => (e instanceof RustError ? e : new RustError([ioText(e)]))
const context = (msg: string, e: unknown): RustError => new RustError([msg, ...io(e).chain])

/** anyhow's Debug format as `fn main() -> Result<()>` prints it. */
function errorReport(chain: string[]): string {
  let out = 'Error: ' + chain[0]
  if (chain.length > 1) {
    out += '\n\nCaused by:'
    const numbered = chain.length > 2
    chain.slice(1).forEach((c, n) => {
      out += '\n' + (numbered ? `${String(n).padStart(5)}: ` : '    ')
      out += c.split('\n').join('\n' + (numbered ? '       ' : '    '))
    })
  }
  return out + '\n'
}

/** Rust's Debug of a str or a Path: quoted, with escape_debug. */
export function rustDebug(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (ch === '\0') out += '\\0'
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`
    else out += ch
  }
  return out + '"'
}

/** str::parse::<i32>() of a trimmed string, with the ParseIntError texts. */
function parseI32(s: string): number {
  if (s === '') fail('cannot parse integer from empty string')
  if (!/^[+-]?\d+$/.test(s)) fail('invalid digit found in string')
  const v = Number(s)
  if (v > 2147483647) fail('number too large to fit in target type')
  if (v < -2147483648) fail('number too small to fit in target type')
  return v
}

const rustTrim = (s: string): string => s.replace(/^[\s\u0085]+|[\s\u0085]+$/gu, '')
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1)
const dirname = (p: string): string => p.slice(0, Math.max(p.lastIndexOf('/'), 0)) || '/'

// --- the uuid crate ----------------------------------------------------------------

const HEX = /^[0-9a-fA-F]$/

/** Uuid::parse_str: hyphenated, simple, braced or urn form in any case; the crate's error texts. */
export function parseUuid(s: string): {uuid: string} | {error: string} {
  const bytes = Buffer.from(s, 'utf8')
  const len = bytes.length
  let inner: string | null = null
  if (len === 32 && /^[0-9a-fA-F]{32}$/.test(s)) {
    const h = s.toLowerCase()
    return {uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`}
  }
  if (len === 36) inner = s
  else if (len === 38 && s.startsWith('{') && s.endsWith('}')) inner = s.slice(1, -1)
  else if (len === 45 && s.startsWith('urn:uuid:')) inner = s.slice(9)
  if (inner !== null && /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(inner)) return {uuid: inner.toLowerCase()}
  // InvalidUuid::into_err
  let str = s
  let offset = 0
  let simple = true
  if (len >= 2 && s.startsWith('{') && s.endsWith('}')) {
    str = s.slice(1, -1)
    offset = 1
    simple = false
  } else if (s.startsWith('urn:uuid:')) {
    str = s.slice(9)
    offset = 9
    simple = false
  }
  let hyphens = 0
  const bounds = [0, 0, 0, 0]
  let idx = 0
  for (const ch of str) {
    if (ch.codePointAt(0)! > 0x7f) return {error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${idx + offset + 1}`}
    if (ch === '-') {
      if (hyphens < 4) bounds[hyphens] = idx
      hyphens++
    } else if (!HEX.test(ch)) return {error: `invalid character: expected an optional prefix of \`urn:uuid:\` followed by [0-9a-fA-F-], found \`${ch}\` at ${idx + offset + 1}`}
    idx += Buffer.byteLength(ch)
  }
  if (hyphens === 0 && simple) return {error: `invalid length: expected length 32 for simple format, found ${len}`}
  if (hyphens !== 4) return {error: `invalid group count: expected 5, found ${hyphens + 1}`}
  const starts = [0, 9, 14, 19, 24]
  const expected = [8, 4, 4, 4, 12]
  for (let i = 0; i < 4; i++)
    if (bounds[i] !== starts[i + 1] - 1) return {error: `invalid group length in group ${i}: expected ${expected[i]}, found ${bounds[i] - starts[i]}`}
  return {error: `invalid group length in group 4: expected 12, found ${len - starts[4]}`}
}

// --- serde_json::from_str ----------------------------------------------------------------

/** Parse JSON text the way serde_json does, with its error messages and positions. */
export function parseJson(text: string): JVal {
  return new JsonParser(Buffer.from(text, 'utf8')).document()
}

class JsonParser {
  private i = 0
  private depth = 128

  constructor(private readonly b: Buffer) {}

  private at(idx: number): string {
    let line = 1
    let col = 0
    for (let k = 0; k < idx; k++)
      if (this.b[k] === 10) {
        line++
        col = 0
      } else col++
    return `line ${line} column ${col}`
  }

  private error(code: string): never {
    throw new RustError([`${code} at ${this.at(this.i)}`])
  }

  private peekError(code: string): never {
    throw new RustError([`${code} at ${this.at(Math.min(this.b.length, this.i + 1))}`])
  }

  private ws(): number | null {
    while (this.i < this.b.length && (this.b[this.i] === 0x20 || this.b[this.i] === 0x0a || this.b[this.i] === 0x09 || this.b[this.i] === 0x0d)) this.i++
    return this.i < this.b.length ? this.b[this.i] : null
  }

  document(): JVal {
    const v = this.value()
    if (this.ws() !== null) this.peekError('trailing characters')
    return v
  }

  private ident(rest: string): void {
    for (const ch of rest) {
      if (this.i >= this.b.length) this.error('EOF while parsing a value')
      const c = this.b[this.i++]
      if (c !== ch.charCodeAt(0)) this.error('expected ident')
    }
  }

  private value(): JVal {
    const c = this.ws()
    if (c === null) this.peekError('EOF while parsing a value')
    switch (String.fromCharCode(c!)) {
      case 'n':
        this.i++
        this.ident('ull')
        return null
      case 't':
        this.i++
        this.ident('rue')
        return true
      case 'f':
        this.i++
        this.ident('alse')
        return false
      case '-':
        this.i++
        return this.number(this.i - 1)
      case '"':
        this.i++
        return this.string()
      case '[': {
        if (--this.depth === 0) this.peekError('recursion limit exceeded')
        this.i++
        const out: JVal[] = []
        let first = true
        for (;;) {
          let p = this.ws()
          if (p === null) this.peekError('EOF while parsing a list')
          if (p === 0x5d) break
          if (first) first = false
          else if (p === 0x2c) {
            this.i++
            p = this.ws()
            if (p === 0x5d) this.peekError('trailing comma')
            if (p === null) this.peekError('EOF while parsing a value')
          } else this.peekError('expected `,` or `]`')
          out.push(this.value())
        }
        this.i++
        this.depth++
        return out
      }
      case '{': {
        if (--this.depth === 0) this.peekError('recursion limit exceeded')
        this.i++
        const obj = new JObj()
        let first = true
        for (;;) {
          let p = this.ws()
          if (p === 0x7d) break
          if (p === 0x2c && !first) {
            this.i++
            p = this.ws()
          } else if (p !== null) {
            if (first) first = false
            else this.peekError('expected `,` or `}`')
          } else this.peekError('EOF while parsing an object')
          if (p === 0x22) {
            this.i++
          } else if (p === 0x7d) this.peekError('trailing comma')
          else if (p !== null) this.peekError('key must be a string')
          else this.peekError('EOF while parsing a value')
          const key = this.string()
          const colon = this.ws()
          if (colon === 0x3a) this.i++
          else if (colon === null) this.peekError('EOF while parsing an object')
          else this.peekError('expected `:`')
          obj.set(key, this.value())
        }
        this.i++
        this.depth++
        return obj
      }
      default:
        if (c! >= 0x30 && c! <= 0x39) return this.number(this.i)
        return this.peekError('expected value')
    }
  }

  private isDigit(i: number): boolean {
    return i < this.b.length && this.b[i] >= 0x30 && this.b[i] <= 0x39
  }

  private number(start: number): JVal {
    if (this.i >= this.b.length) this.error('EOF while parsing a value')
    const c = this.b[this.i++]
    if (c === 0x30) {
      if (this.isDigit(this.i)) this.peekError('invalid number')
    } else if (c >= 0x31 && c <= 0x39) {
      while (this.isDigit(this.i)) this.i++
    } else this.error('invalid number')
    let float = false
    if (this.b[this.i] === 0x2e) {
      float = true
      this.i++
      if (!this.isDigit(this.i)) {
        if (this.i < this.b.length) this.peekError('invalid number')
        this.peekError('EOF while parsing a value')
      }
      while (this.isDigit(this.i)) this.i++
    }
    if (this.b[this.i] === 0x65 || this.b[this.i] === 0x45) {
      float = true
      this.i++
      if (this.b[this.i] === 0x2b || this.b[this.i] === 0x2d) this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a value')
      const d = this.b[this.i++]
      if (d < 0x30 || d > 0x39) this.error('invalid number')
      while (this.isDigit(this.i)) this.i++
    }
    const text = this.b.subarray(start, this.i).toString('latin1')
    if (!float) {
      const n = BigInt(text)
      if (n >= -(2n ** 63n) && n < 2n ** 64n) return numText(text)
    }
    if (!Number.isFinite(Number(text))) this.error('number out of range')
    return numText(float ? text : text + '.0')
  }

  private hex4(): number {
    if (this.i + 4 > this.b.length) {
      this.i = this.b.length
      this.error('EOF while parsing a string')
    }
    let n = 0
    for (let k = 0; k < 4; k++) {
      const v = parseInt(String.fromCharCode(this.b[this.i]), 16)
      this.i++
      if (Number.isNaN(v)) this.error('invalid escape')
      n = n * 16 + v
    }
    return n
  }

  private string(): string {
    const parts: Buffer[] = []
    let start = this.i
    for (;;) {
      while (this.i < this.b.length && this.b[this.i] !== 0x22 && this.b[this.i] !== 0x5c && this.b[this.i] >= 0x20) this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a string')
      const c = this.b[this.i]
      if (c === 0x22) {
        parts.push(this.b.subarray(start, this.i))
        this.i++
        return Buffer.concat(parts).toString('utf8')
      }
      if (c !== 0x5c) {
        this.i++
        this.error('control character (\\u0000-\\u001F) found while parsing a string')
      }
      parts.push(this.b.subarray(start, this.i))
      this.i++
      if (this.i >= this.b.length) this.error('EOF while parsing a string')
      const e = String.fromCharCode(this.b[this.i++])
      const simple: Record<string, string> = {'"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'}
      if (e in simple) parts.push(Buffer.from(simple[e], 'utf8'))
      else if (e === 'u') {
        const n1 = this.hex4()
        if (n1 >= 0xdc00 && n1 <= 0xdfff) this.error('lone leading surrogate in hex escape')
        if (n1 < 0xd800 || n1 > 0xdbff) parts.push(Buffer.from(String.fromCharCode(n1), 'utf8'))
        else {
          if (this.i >= this.b.length) this.error('EOF while parsing a string')
          if (this.b[this.i++] !== 0x5c) this.error('unexpected end of hex escape')
          if (this.i >= this.b.length) this.error('EOF while parsing a string')
          if (this.b[this.i++] !== 0x75) this.error('unexpected end of hex escape')
          const n2 = this.hex4()
          if (n2 < 0xdc00 || n2 > 0xdfff) this.error('lone leading surrogate in hex escape')
          parts.push(Buffer.from(String.fromCharCode(n1, n2), 'utf8'))
        }
      } else this.error('invalid escape')
      start = this.i
    }
  }
}

const jget = (v: JVal, key: string): JVal => (v instanceof JObj ? (v.get(key) ?? null) : null)

// --- the command line (cli.rs) ---------------------------------------------------------------

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

const CLAP_HELP = Symbol('clap help subcommand')

function buildMdevctl(): ClapCmd {
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

function buildLsmdev(): ClapCmd {
  return command('lsmdev', 'lsmdev', 'lsmdev', {about: 'List mediated devices', longAbout: LIST_LONG_ABOUT, version: MDEVCTL_VERSION, implicitGroup: 'LsmdevOptions', args: LSMDEV_ARGS}, 0)
}

/** The clap commands of mdevctl and lsmdev, for help texts and man pages. */
export const mdevctlCommand = (prog: 'mdevctl' | 'lsmdev' = 'mdevctl'): ClapCmd => (prog === 'lsmdev' ? buildLsmdev() : buildMdevctl())

// --- the clap 4 parser -------------------------------------------------------------------

interface Matches {
  cmd: ClapCmd
  vals: Map<string, unknown>
  sub?: Matches
}

const hasHelpFlag = (cmd: ClapCmd): boolean => cmd.args.some((a) => a.action === 'help')
const hasPositionals = (cmd: ClapCmd): boolean => cmd.args.some((a) => a.action === 'pos')
const isClapHelp = (cmd: ClapCmd): boolean => (cmd as ClapCmd & {[CLAP_HELP]?: true})[CLAP_HELP] === true

const usageError = (cmd: ClapCmd, parts: Parameters<typeof clapError>[0]): ClapExit =>
  new ClapExit(2, '', clapError({...parts, tryHelp: hasHelpFlag(cmd) || (cmd.subcommands.length > 0 && !isClapHelp(cmd))}))

/** i64::from_str then the u32 range check of clap's RangedI64ValueParser. */
function parseU32(raw: string): {value: number} | {error: string} {
  if (raw === '') return {error: 'cannot parse integer from empty string'}
  if (!/^[+-]?\d+$/.test(raw)) return {error: 'invalid digit found in string'}
  const v = BigInt(raw)
  if (v > 2n ** 63n - 1n) return {error: 'number too large to fit in target type'}
  if (v < -(2n ** 63n)) return {error: 'number too small to fit in target type'}
  if (v < 0n || v > 4294967295n) return {error: `${v} is not in 0..=4294967295`}
  return {value: Number(v)}
}

/** Command::get_matches for `cmd` over `args` (without argv[0]); throws ClapExit. */
function getMatches(cmd: ClapCmd, args: string[], start = 0): Matches {
  /** The matcher: explicit args and the groups they belong to, in insertion order. */
  const m = new Map<string, unknown[]>()
  let pending: {id: string; ident: 'short' | 'long' | 'index'; raw: string[]} | null = null
  let optState: string | null = null
  let posCounter = 1
  let trailing = false
  let sub: Matches | undefined
  const explicit = (id: string): boolean => m.has(id)

  const startCustomArg = (a: ClapArg): void => {
    if (!m.has(a.id)) m.set(a.id, [])
    for (const g of groupsForArg(cmd, a.id)) {
      if (!m.has(g)) m.set(g, [])
      m.get(g)!.push(a.id)
    }
  }

  const parseValue = (a: ClapArg, raw: string): unknown => {
    const invalid = (why: string): never => {
      throw usageError(cmd, {message: `invalid value '${raw}' for '${argText(a)}': ${why}`})
    }
    switch (a.parser) {
      case 'uuid': {
        const r = parseUuid(raw)
        return 'uuid' in r ? r.uuid : invalid(r.error)
      }
      case 'u32': {
        const r = parseU32(raw)
        return 'value' in r ? r.value : invalid(r.error)
      }
      case 'path':
        if (raw === '') throw usageError(cmd, {message: `a value is required for '${argText(a)}' but none was supplied`})
        return raw
      default:
        return raw
    }
  }

  const resolvePending = (): void => {
    if (!pending) return
    const p = pending
    pending = null
    react(findArg(cmd, p.id)!, p.ident, p.raw)
  }
  const resolveQuietly = (): void => {
    try {
      resolvePending()
    } catch (e) {
      if (!(e instanceof ClapExit)) throw e
    }
  }

  const react = (a: ClapArg, ident: 'short' | 'long' | 'index', raw: string[]): void => {
    resolvePending()
    if ((a.action === 'opt' || a.action === 'pos') && raw.length === 0)
      throw usageError(cmd, {message: `a value is required for '${argText(a)}' but none was supplied`})
    if (a.action === 'help') throw new ClapExit(0, helpText(cmd, ident !== 'short'), '')
    if (a.action === 'version') throw new ClapExit(0, versionText(cmd), '')
    if (m.has(a.id)) {
      m.delete(a.id)
      throw usageError(cmd, {message: `the argument '${argText(a)}' cannot be used multiple times`, usage: usageTitled(cmd)})
    }
    startCustomArg(a)
    if (a.action === 'flag') m.get(a.id)!.push(true)
    else for (const r of raw) m.get(a.id)!.push(parseValue(a, r))
  }

  const parseOptValue = (a: ClapArg, ident: 'short' | 'long', attached: string | undefined): string | null => {
    if (attached !== undefined) {
      react(a, ident, [attached])
      return null
    }
    resolvePending()
    pending = {id: a.id, ident, raw: []}
    return a.id
  }

  const unknownArgument = (arg: string, similar: string | undefined, tips: string[], usage: string): ClapExit =>
    usageError(cmd, {message: `unexpected argument '${arg}' found`, ...(similar ? {similar} : {}), tips, usage})

  const didYouMeanError = (name: string, remaining: string[]): ClapExit => {
    const longs = cmd.args.filter((a) => a.long).map((a) => a.long!)
    let dym: [string, string | null] | null = null
    const best = didYouMean(name, longs).pop()
    if (best !== undefined) dym = [best, null]
    else {
      let score = Infinity
      for (const sc of cmd.subcommands) {
        const cand = didYouMean(
          name,
          sc.args.filter((a) => a.long).map((a) => a.long!),
        ).pop()
        const at = remaining.indexOf(sc.name)
        if (cand === undefined || at < 0) continue
        if (at < score) {
          score = at
          dym = [cand, sc.name]
        }
      }
    }
    if (dym && dym[1] === null) startCustomArg(cmd.args.find((a) => a.long === dym![0])!)
    // Only arguments: the usage lines clap prints never show the derive's implicit groups.
    const used = [...m.keys()].filter((id) => findArg(cmd, id))
    const tips: string[] = []
    if (!dym && !trailing && hasPositionals(cmd)) tips.push(`to pass '--${name}' as a value, use '-- --${name}'`)
    if (dym && dym[1] !== null) tips.push(`'${dym[1]} --${dym[0]}' exists`)
    return unknownArgument(`--${name}`, dym && dym[1] === null ? similarText('argument', [`--${dym[0]}`]) : undefined, tips, usageTitled(cmd, used))
  }

  const matchArgError = (arg: string): ClapExit => {
    if (trailing && cmd.subcommands.some((s) => s.name === arg))
      return unknownArgument(arg, undefined, [`subcommand '${arg}' exists; to use it, remove the '--' before it`], usageTitled(cmd))
    const candidates = didYouMean(
      arg,
      cmd.subcommands.map((s) => s.name),
    )
    if (candidates.length) {
      const tips = !trailing && hasPositionals(cmd) ? [`to pass '${arg}' as a value, use '${cmd.bin} -- ${arg}'`] : []
      return usageError(cmd, {message: `unrecognized subcommand '${arg}'`, similar: similarText('subcommand', candidates), tips, usage: usageTitled(cmd)})
    }
    if (cmd.subcommands.length && !hasPositionals(cmd)) return usageError(cmd, {message: `unrecognized subcommand '${arg}'`, usage: usageTitled(cmd)})
    const looksLikeFlag = arg.startsWith('-') && arg !== '-'
    const tips = !trailing && hasPositionals(cmd) && looksLikeFlag ? [`to pass '${arg}' as a value, use '-- ${arg}'`] : []
    return unknownArgument(arg, undefined, tips, usageTitled(cmd))
  }

  let i = start
  outer: while (i < args.length) {
    const arg = args[i++]
    if (!trailing) {
      if (optState === null) {
        const sc = cmd.subcommands.find((s) => s.name === arg)
        if (sc) {
          if (isClapHelp(sc)) helpSubcommand(cmd, args.slice(i))
          sub = getMatches(sc, args, i)
          break
        }
      }
      if (arg === '--') {
        trailing = true
        continue
      }
      if (arg.startsWith('--')) {
        const body = arg.slice(2)
        const eq = body.indexOf('=')
        const name = eq < 0 ? body : body.slice(0, eq)
        const value = eq < 0 ? undefined : body.slice(eq + 1)
        const a = cmd.args.find((x) => x.long === name)
        if (!a) {
          resolveQuietly()
          throw didYouMeanError(name, args.slice(i))
        }
        if (a.action === 'opt') optState = parseOptValue(a, 'long', value)
        else if (value !== undefined) {
          resolveQuietly()
          const used = [...m.keys()].filter((id) => findArg(cmd, id) && !requiredGraph(cmd).includes(id))
          used.push(a.id)
          throw usageError(cmd, {message: `unexpected value '${value}' for '${argText(a)}' found; no more were expected`, usage: usageTitled(cmd, used)})
        } else {
          react(a, 'long', [])
          optState = null
        }
        continue
      }
      if (arg.startsWith('-') && arg !== '-') {
        const chars = [...arg.slice(1)]
        for (let k = 0; k < chars.length; k++) {
          const a = cmd.args.find((x) => x.short === chars[k])
          if (!a) {
            resolveQuietly()
            throw unknownArgument(`-${chars[k]}`, undefined, !trailing && hasPositionals(cmd) ? [`to pass '-${chars[k]}' as a value, use '-- -${chars[k]}'`] : [], usageTitled(cmd))
          }
          if (a.action !== 'opt') {
            react(a, 'short', [])
            continue
          }
          let val: string | undefined = chars.slice(k + 1).join('')
          if (val === '') val = undefined
          else if (val.startsWith('=')) val = val.slice(1)
          optState = parseOptValue(a, 'short', val)
          continue outer
        }
        optState = null
        continue
      }
      if (optState !== null) {
        pending!.raw.push(arg)
        optState = null
        continue
      }
    }
    const pos = cmd.args.find((a) => a.action === 'pos' && a.index === posCounter)
    if (pos) {
      if ((pending as {id: string} | null)?.id !== pos.id) resolvePending()
      pending = {id: pos.id, ident: 'index', raw: [arg]}
      posCounter++
      continue
    }
    resolveQuietly()
    throw matchArgError(arg)
  }

  resolvePending()
  validate(cmd, m, explicit, sub !== undefined)
  const vals = new Map<string, unknown>()
  for (const [id, v] of m) if (findArg(cmd, id)) vals.set(id, v[0])
  return sub ? {cmd, vals, sub} : {cmd, vals}
}

/** The `help` subcommand: long help of the named (sub)command. */
function helpSubcommand(top: ClapCmd, names: string[]): never {
  let sc = top
  for (const name of names) {
    const next = sc.subcommands.find((s) => s.name === name)
    if (!next) throw usageError(sc, {message: `unrecognized subcommand '${name}'`, usage: usageTitled(sc)})
    sc = next
  }
  throw new ClapExit(0, helpText(sc, true), '')
}

function directConflicts(cmd: ClapCmd, id: string): string[] {
  const a = findArg(cmd, id)
  if (!a) return []
  const out = [...(a.conflicts ?? [])]
  for (const g of groupsForArg(cmd, id)) {
    const group = findGroup(cmd, g)!
    if (!group.multiple) out.push(...group.args.filter((x) => x !== id))
  }
  return out
}

/** Validator::validate */
function validate(cmd: ClapCmd, m: Map<string, unknown[]>, explicit: (id: string) => boolean, hasSub: boolean): void {
  if (!hasSub && cmd.argRequiredElseHelp && m.size === 0) throw new ClapExit(2, '', helpText(cmd, false))
  if (!hasSub && cmd.subcommandRequired) throw usageError(cmd, {message: `'${cmd.bin}' requires a subcommand but one was not provided`, usage: usageTitled(cmd)})
  const ids = [...m.keys()]
  const potential = new Map(ids.map((id) => [id, directConflicts(cmd, id)]))
  const gather = (id: string): string[] => {
    const own = potential.get(id) ?? directConflicts(cmd, id)
    const out: string[] = []
    for (const [other, theirs] of potential) {
      if (other === id) continue
      if (own.includes(other)) out.push(other)
      if (theirs.includes(id)) out.push(other)
    }
    return out
  }
  // Conflicts
  for (const id of ids) {
    if (!findArg(cmd, id)) continue
    const conflicts = gather(id)
    if (!conflicts.length) continue
    const seen: string[] = []
    for (const c of conflicts) for (const x of findGroup(cmd, c)?.args ?? [c]) if (!seen.includes(x)) seen.push(x)
    const texts = seen.map((x) => argText(findArg(cmd, x)!))
    const usedFiltered = ids.filter((x) => findArg(cmd, x) && !conflicts.includes(x))
    const required = [
      ...usedFiltered.flatMap((x) => findArg(cmd, x)!.requires ?? []).filter((x) => !usedFiltered.includes(x) && !conflicts.includes(x)),
      ...usedFiltered,
    ]
    const former = argText(findArg(cmd, id)!)
    const message =
      texts.length === 1
        ? `the argument '${former}' cannot be used with '${texts[0]}'`
        : `the argument '${former}' cannot be used with:` + texts.map((t) => `\n  ${t}`).join('')
    throw usageError(cmd, {message, usage: usageTitled(cmd, required)})
  }
  // Required
  const required = requiredGraph(cmd)
  for (const id of ids) {
    if (!findArg(cmd, id)) continue
    const queue = [...(findArg(cmd, id)!.requires ?? [])]
    const done: string[] = []
    while (queue.length) {
      const r = queue.pop()!
      if (done.includes(r)) continue
      done.push(r)
      if (!required.includes(r)) required.push(r)
      queue.push(...(findArg(cmd, r)?.requires ?? []))
    }
  }
  const missing: string[] = []
  for (const r of required.filter((x) => !explicit(x))) {
    const a = findArg(cmd, r)
    if (a) {
      const ok = gather(r).length > 0 || groupsForArg(cmd, r).some((g) => gather(g).length > 0)
      if (!ok) missing.push(r)
    } else if (!findGroup(cmd, r)!.args.some(explicit)) missing.push(r)
  }
  for (const a of cmd.args) if (!explicit(a.id) && a.requiredUnless && !a.requiredUnless.some(explicit)) missing.push(a.id)
  if (missing.length) {
    const lines = requiredUsage(cmd, required, missing, explicit)
    const used = [...ids.filter((x) => findArg(cmd, x)), ...missing]
    throw usageError(cmd, {
      message: 'the following required arguments were not provided:' + lines.map((l) => `\n  ${l}`).join(''),
      usage: usageTitled(cmd, used, required),
    })
  }
}

// --- the tool ----------------------------------------------------------------------------

interface MDev {
  uuid: string
  active: boolean
  autostart: boolean
  parent: string | null
  type: string | null
  attrs: Array<[string, string]>
}

const newDev = (uuid: string): MDev => ({uuid, active: false, autostart: false, parent: null, type: null, attrs: []})
const cloneDev = (d: MDev): MDev => ({...d, attrs: d.attrs.map(([k, v]) => [k, v])})

type Event = 'pre' | 'post' | 'live' | 'notify' | 'get'
type Action = 'start' | 'stop' | 'define' | 'undefine' | 'modify' | 'attributes' | 'capabilities'

interface Supports {
  version: number
  actions: string[]
  events: string[]
}

interface Script {
  path: string
  parent: string
  type: string
  /** null: the cached "no versioned script" answer. */
  supports: Supports | null
}

const V1: Supports = {version: 1, actions: ['start', 'stop', 'define', 'undefine', 'modify', 'attributes'], events: ['pre', 'post', 'notify', 'get']}
const PROVIDES =
  '{"provides":{"version":2,"actions":["start","stop","define","undefine","modify","attributes","capabilities"],"events":["pre","post","notify","get","live"]}}'
const KNOWN_ACTIONS = ['start', 'stop', 'define', 'undefine', 'modify', 'attributes', 'capabilities', 'test']
const KNOWN_EVENTS = ['pre', 'post', 'live', 'notify', 'get']
const rustName = (s: string): string => s[0].toUpperCase() + s.slice(1)

interface Output {
  code: number | null
  stdout: string
  stderr: string
}

class Mdevctl {
  readonly fs: Fs
  readonly mdevBase: string
  readonly configBase: string
  readonly parentBase: string
  readonly calloutDirs: string[]
  readonly notifierDirs: string[]
  /** CalloutScriptCache: versioned scripts (or none) per parent and type, for this run. */
  private readonly scripts: Script[] = []

  constructor(
    readonly env: MdevctlEnv,
    readonly out: Stdio,
  ) {
    this.fs = env.fs
    const r = env.root
    this.mdevBase = r + '/sys/bus/mdev/devices'
    this.configBase = r + '/etc/mdevctl.d'
    this.parentBase = r + '/sys/class/mdev_bus'
    this.calloutDirs = [r + '/usr/lib/mdevctl/scripts.d/callouts', r + '/etc/mdevctl.d/scripts.d/callouts']
    this.notifierDirs = [r + '/usr/lib/mdevctl/scripts.d/notifiers', r + '/etc/mdevctl.d/scripts.d/notifiers']
  }

  /** env_logger's default format at WARN. */
  warn(msg: string, module = 'mdevctl'): void {
    const ts = new Date(now()).toISOString().replace(/\.\d+Z$/, 'Z')
    this.out.err(`[${ts} WARN  ${module}] ${msg}\n`)
  }

  /** fs::read_to_string: the bytes as UTF-8, or io errors. */
  readText(path: string): string {
    const raw = this.fs.read(path)
    return decodeUtf8(this.fs instanceof RealSys ? Buffer.from(raw, 'latin1') : Buffer.from(raw, 'utf8'))
  }

  selfCheck(): void {
    for (const d of [this.configBase, this.calloutDirs[0], this.notifierDirs[0]])
      if (!this.fs.exists(d)) fail(`Required directory ${rustDebug(d)} doesn't exist. This may indicate a packaging or installation error`)
  }

  // --- MDev ---

  activePath = (d: MDev): string => `${this.mdevBase}/${d.uuid}`
  persistentPath = (d: MDev): string | null => (d.parent === null ? null : `${this.configBase}/${d.parent}/${d.uuid}`)
  isDefined = (d: MDev): boolean => {
    const p = this.persistentPath(d)
    return p !== null && this.fs.exists(p)
  }

  parentOf = (d: MDev): string => d.parent ?? fail(`Device ${d.uuid} is missing a parent`)
  typeOf = (d: MDev): string => d.type ?? fail(`Device ${d.uuid} is missing a mdev_type`)

  private canonicalBasename(path: string): string {
    const real = this.fs.realpath(path)
    if (real === null) throw io(new KernelError('ENOENT'))
    if (real === '/') fail('Invalid path')
    return basename(real)
  }

  loadFromSysfs(d: MDev): void {
    const p = this.activePath(d)
    if (!this.fs.exists(p)) return
    let parent: string
    let type: string
    try {
      const real = this.fs.realpath(p)
      if (real === null) throw io(new KernelError('ENOENT'))
      if (real === '/') fail(`Path to parent of mdev ${d.uuid} does not exist`)
      parent = this.canonicalBasename(dirname(real))
    } catch (e) {
      if (this.fs.exists(p)) throw e
      return
    }
    try {
      type = this.canonicalBasename(p + '/mdev_type')
    } catch (e) {
      if (this.fs.exists(p)) throw e
      return
    }
    if (d.parent !== null && d.parent !== parent) return
    if (d.type !== null && d.type !== type) return
    d.type = type
    d.parent = parent
    d.active = true
  }

  addAttributes(d: MDev, attrs: JVal): void {
    if (!Array.isArray(attrs) && attrs !== null) fail('attributes field is not an array')
    for (const attr of (attrs as JVal[] | null) ?? []) {
      if (!(attr instanceof JObj)) fail('invalid JSON format for attribute: not an object')
      const o = attr as JObj
      if (o.entries.length !== 1) fail('invalid JSON format for attribute: too many fields')
      const [key, val] = o.entries[0]
      if (typeof val !== 'string') fail(`invalid JSON format for attribute {${rustDebug(key)}, ${jsonCompact(val)}}: value must be of type str`)
      d.attrs.push([key, val as string])
    }
  }

  loadFromJson(d: MDev, parent: string, json: JVal): void {
    if (d.parent !== null && d.parent !== parent) this.warn(`Overwriting parent for mdev ${d.uuid}: ${d.parent} => ${parent}`, 'mdevctl::mdev')
    d.parent = parent
    const type = jget(json, 'mdev_type')
    if (type === null || jget(json, 'start') === null) fail('invalid json')
    if (typeof type !== 'string') throw new Panic('src/mdev.rs:219:52', 'called `Option::unwrap()` on a `None` value')
    if (d.type !== null && d.type !== type) this.warn(`Overwriting mdev type for mdev ${d.uuid}: ${d.type} => ${type}`, 'mdevctl::mdev')
    d.type = type as string
    d.autostart = jget(json, 'start') === 'auto'
    this.addAttributes(d, jget(json, 'attrs'))
  }

  loadDefinition(d: MDev): void {
    const p = this.persistentPath(d)
    if (p === null) return
    let text: string
    try {
      text = this.readText(p)
    } catch (e) {
      throw io(e)
    }
    this.loadFromJson(d, d.parent!, parseJson(text))
  }

  view(d: MDev): MdevView {
    return {uuid: d.uuid, parent: this.parentOf(d), type: this.typeOf(d), autostart: d.autostart, attrs: d.attrs}
  }

  toJson(d: MDev): JObj {
    this.typeOf(d)
    return deviceJson({uuid: d.uuid, parent: d.parent ?? '', type: d.type!, autostart: d.autostart, attrs: d.attrs})
  }

  writeConfig(d: MDev): void {
    const text = jsonPretty(this.toJson(d))
    const path = this.persistentPath(d)!
    try {
      this.fs.mkdirp(dirname(path))
    } catch (e) {
      throw io(e)
    }
    try {
      this.fs.writeFile(path, text)
    } catch (e) {
      throw context(`Failed to write config for device ${d.uuid}`, e)
    }
  }

  undefine(d: MDev): void {
    const p = this.persistentPath(d) ?? fail(`Failed to undefine ${d.uuid}`)
    try {
      this.fs.unlink(p)
    } catch (e) {
      throw context(`Failed to remove file ${rustDebug(p)}`, e)
    }
  }

  stop(d: MDev): void {
    try {
      this.fs.writeFile(this.activePath(d) + '/remove', '1')
      d.active = false
    } catch (e) {
      throw context(`Error removing device ${d.uuid}`, e)
    }
  }

  private findParentDir(parent: string): string {
    const path = `${this.parentBase}/${parent}`
    if (this.fs.isDir(path)) return path
    let names: string[]
    try {
      names = this.fs.readdir(this.parentBase)
    } catch (e) {
      throw io(e)
    }
    for (const n of names) if (n.toLowerCase() === parent.toLowerCase()) fail(`Unable to find parent device '${parent}'. Did you mean '${n}'?`)
    return fail(`Unable to find parent device '${parent}'`)
  }

  private create(d: MDev): void {
    const parent = this.parentOf(d)
    const type = this.typeOf(d)
    const existing = newDev(d.uuid)
    let loaded = true
    try {
      this.loadFromSysfs(existing)
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      loaded = false
    }
    if (loaded && existing.active) {
      if (existing.parent !== d.parent) fail('Device exists under different parent')
      if (existing.type !== d.type) fail('Device exists with different type')
      fail('Device already exists')
    }
    const mst = this.findParentDir(parent) + '/mdev_supported_types'
    if (!this.fs.isDir(mst)) fail(`Parent ${parent} is not currently registered for mdev support`)
    const tp = `${mst}/${type}`
    if (!this.fs.isDir(tp)) fail(`Parent ${parent} does not support mdev type ${type}`)
    let text: string
    try {
      text = this.readText(tp + '/available_instances')
    } catch (e) {
      throw io(e)
    }
    if (parseI32(rustTrim(text)) === 0) fail(`No available instances of ${type} on ${parent}`)
    try {
      this.fs.writeFile(tp + '/create', d.uuid)
      d.active = true
    } catch (e) {
      throw context(`Failed to create mdev ${d.uuid}, type ${type} on ${parent}`, e)
    }
  }

  start(d: MDev): void {
    this.create(d)
    for (const [k, v] of d.attrs) {
      try {
        const p = `${this.activePath(d)}/${k}`
        if (!this.fs.exists(p)) fail(`Invalid attribute '${k}'`)
        try {
          this.fs.writeFile(p, v)
        } catch (e) {
          throw context(`Failed to write ${v} to attribute ${k}`, e)
        }
      } catch (e) {
        this.stop(d)
        throw e
      }
    }
  }

  // --- lookups ---

  /** defined_devices: definitions by parent (sorted), optionally filtered. */
  definedDevices(uuid: string | null, parent: string | null): Map<string, MDev[]> {
    const devices = new Map<string, MDev[]>()
    let names: string[]
    try {
      names = this.fs.readdir(this.configBase)
    } catch (e) {
      throw io(e)
    }
    for (const name of names) {
      const parentPath = `${this.configBase}/${name}`
      if ((parent !== null && parent !== name) || !this.fs.isDir(parentPath)) continue
      const children: MDev[] = []
      let entries: string[] = []
      try {
        entries = this.fs.readdir(parentPath)
      } catch (e) {
        this.warn(`Unable to read directory ${rustDebug(parentPath)}: ${ioText(e)}`)
      }
      for (const child of entries) {
        const path = `${parentPath}/${child}`
        if (!this.fs.isFile(path)) continue
        const u = parseUuid(child)
        if (!('uuid' in u)) {
          this.warn(`Can't determine uuid for file '${child}'`)
          continue
        }
        if (uuid !== null && uuid !== u.uuid) continue
        let text: string
        try {
          text = this.readText(path)
        } catch (e) {
          if (e instanceof KernelError && e.errno !== 'EISDIR') {
            this.warn(`Unable to open file ${rustDebug(path)}: ${ioText(e)}`)
            continue
          }
          throw io(e)
        }
        const dev = newDev(u.uuid)
        this.loadFromJson(dev, name, parseJson(text))
        this.loadFromSysfs(dev)
        children.push(dev)
      }
      if (children.length) devices.set(name, children)
    }
    return new Map([...devices].sort((a, b) => byteOrder(a[0], b[0])))
  }

  /** active_devices: running mdevs by parent (sorted), with start mode and callout attributes. */
  activeDevices(uuid: string | null, parent: string | null): Map<string, MDev[]> {
    const devices = new Map<string, MDev[]>()
    let names: string[]
    try {
      names = this.fs.readdir(this.mdevBase)
    } catch {
      return devices
    }
    for (const name of names) {
      const u = parseUuid(name)
      if (!('uuid' in u)) {
        this.warn(`Can't determine uuid for file '${name}'`)
        continue
      }
      if (uuid !== null && uuid !== u.uuid) continue
      const dev = newDev(u.uuid)
      try {
        this.loadFromSysfs(dev)
      } catch (e) {
        if (e instanceof RustError) continue
        throw e
      }
      if (parent !== null && parent !== dev.parent) continue
      const per = newDev(u.uuid)
      per.parent = dev.parent
      try {
        this.loadDefinition(per)
        dev.autostart = per.autostart
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      const c = new Callout(this, dev)
      try {
        const attrs = c.getAttributes()
        try {
          this.addAttributes(dev, attrs)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
        }
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      const p = this.parentOf(dev)
      if (!devices.has(p)) devices.set(p, [])
      devices.get(p)!.push(dev)
    }
    return new Map([...devices].sort((a, b) => byteOrder(a[0], b[0])))
  }

  getDefinedDevice(uuid: string, parent: string | null): MDev {
    const devs = this.definedDevices(uuid, parent)
    if (devs.size === 0) return fail(parent === null ? `Mediated device ${uuid} is not defined` : `Mediated device ${parent}/${uuid} is not defined`)
    if (devs.size > 1) return fail(parent === null ? `Multiple definitions found for ${uuid}, specify a parent` : `Multiple definitions found for ${parent}/${uuid}`)
    const [p, children] = [...devs][0]
    if (children.length > 1) fail(`Multiple definitions found for ${p}/${uuid}`)
    return children[0]
  }

  getActiveDevice(uuid: string, parent: string | null): MDev {
    const devs = this.activeDevices(uuid, parent)
    if (devs.size === 0) return fail(parent === null ? `Mediated device ${uuid} is not active` : `Mediated device ${parent}/${uuid} is not active`)
    if (devs.size > 1) return fail(`Multiple parents found for ${uuid}. System error?`)
    const [p, children] = [...devs][0]
    if (children.length > 1) fail(`Multiple definitions found for ${p}/${uuid}`)
    return children[0]
  }

  // --- jsonfile ---

  /** The text of a --jsonfile, or the stage (File::open or read_to_string) that failed. */
  jsonFile(path: string): {stage: 'open' | 'read'; error: unknown} | {text: string} {
    try {
      if (this.env.readJsonFile) {
        const data = this.env.readJsonFile(path)
        return {text: typeof data === 'string' ? data : decodeUtf8(Buffer.from(data))}
      }
      return {text: this.readText(path.startsWith('/') ? path : '/' + path)}
    } catch (e) {
      // Node's own errors (fs.readFileSync) carry the errno name in `code`.
      const code = (e as NodeJS.ErrnoException).code
      const err = e instanceof KernelError || e instanceof Utf8Error ? e : typeof code === 'string' && code in ERRNO ? new KernelError(code as keyof typeof ERRNO) : null
      if (err === null) throw e
      if (err instanceof Utf8Error || (err instanceof KernelError && err.errno === 'EISDIR')) return {stage: 'read', error: err}
      return {stage: 'open', error: err}
    }
  }

  /** File::open (`Unable to read file`) then fs::read_to_string (`Unable to read jsonfile`). */
  readJsonFile(path: string, openCheck: boolean): string {
    const r = this.jsonFile(path)
    if ('text' in r) return r.text
    if (openCheck && r.stage === 'open') throw context(`Unable to read file ${rustDebug(path)}`, r.error)
    throw context(`Unable to read jsonfile ${rustDebug(path)}`, r.error)
  }

  devFromJsonfile(uuid: string, parent: string, path: string): MDev {
    const text = this.readJsonFile(path, true)
    const d = newDev(uuid)
    this.loadFromJson(d, parent, parseJson(text))
    return d
  }

  // --- callouts ---

  findVersionedScript(dev: MDev): Script | null {
    if (dev.type === null || dev.parent === null) return null
    const hit = this.scripts.find((s) => s.parent === dev.parent && s.type === dev.type)
    if (hit) return hit.supports === null && hit.path === '' ? null : hit
    const probe = new Callout(this, cloneDev(dev))
    let found: Output | null
    try {
      found = probe.callout('get', 'capabilities', PROVIDES, true)
    } catch (e) {
      if (e instanceof RustError) return null
      throw e
    }
    if (found !== null) {
      this.scripts.push(probe.script!)
      return probe.script
    }
    this.scripts.push({path: '', parent: dev.parent, type: dev.type, supports: null})
    return null
  }
}

function decodeUtf8(b: Buffer): string {
  try {
    return new TextDecoder('utf-8', {fatal: true}).decode(b)
  } catch {
    throw new Utf8Error()
  }
}

/** CalloutScriptCache::parse_script_capabilities: `{"supports": {...}}` or null. */
function parseCapabilities(stdout: string): Supports | null {
  let v: JVal
  try {
    v = parseJson(stdout.replace(/\0+$/, ''))
  } catch {
    return null
  }
  if (!(v instanceof JObj)) return null
  const keys = v.entries.map((e) => e[0])
  if (keys.filter((k) => k === 'supports').length > 1) return null
  const s = v.get('supports')
  if (s === undefined || s === null || !(s instanceof JObj)) return null
  const version = s.get('version')
  const actions = s.get('actions')
  const events = s.get('events')
  if (!isNum(version) || !/^\d+$/.test(version.num) || Number(version.num) > 4294967295) return null
  if (!Array.isArray(actions) || !Array.isArray(events)) return null
  if (!actions.every((a) => typeof a === 'string') || !events.every((e) => typeof e === 'string')) return null
  return {
    version: Number(version.num),
    actions: (actions as string[]).map((a) => (KNOWN_ACTIONS.includes(a) ? a : 'unknown')),
    events: (events as string[]).map((e) => (KNOWN_EVENTS.includes(e) ? e : 'unknown')),
  }
}

/** One device's callout run (callouts.rs Callout). */
class Callout {
  state: 'none' | 'success' | 'failure' = 'none'
  script: Script | null = null

  constructor(
    private readonly t: Mdevctl,
    readonly dev: MDev,
  ) {
    if (dev.type === null) fail('Device must have a defined mdev_type')
  }

  private invokeScript(path: string, event: Event, action: Action, stdin: string | null): Output {
    const args = ['-t', this.t.typeOf(this.dev), '-e', event, '-a', action, '-s', this.state, '-u', this.dev.uuid, '-p', this.t.parentOf(this.dev)]
    const fs = this.t.fs
    if (!fs.exists(path)) throw io(new KernelError('ENOENT'))
    if (!fs.isExecutable(path)) throw io(new KernelError('EACCES'))
    try {
      const r = this.t.env.callout(path, args, stdin)
      return {code: r.signal ? null : r.code, stdout: r.stdout, stderr: r.stderr}
    } catch (e) {
      throw io(e)
    }
  }

  private printErr(o: Output, path: string): void {
    if (o.stderr) this.t.out.err(`${basename(path)}: ${o.stderr}`)
  }

  private failure = (path: string, code: number | null): RustError => new RustError([`Script '${rustDebug(path)}' failed with status '${code ?? 'unknown'}'`])

  private supports(s: Script, event: Event, action: Action): void {
    if (!s.supports!.actions.includes(action)) fail(`Script ${rustDebug(s.path)} does not support action '${rustName(action)}'`)
    if (!s.supports!.events.includes(event)) fail(`Script ${rustDebug(s.path)} does not support event '${rustName(event)}'`)
  }

  /** Run the selected script, or search the callout dirs for one that claims the device. */
  callout(event: Event, action: Action, stdin: string | null, capabilities = false): Output | null {
    if (this.script) {
      this.supports(this.script, event, action)
      const o = this.invokeScript(this.script.path, event, action, stdin)
      this.printErr(o, this.script.path)
      if (o.code === null || o.code === 0) return o
      throw this.failure(this.script.path, o.code)
    }
    for (const dir of this.t.calloutDirs) {
      if (!this.t.fs.isDir(dir)) continue
      let names: string[]
      try {
        names = this.t.fs.readdir(dir)
      } catch {
        continue
      }
      const paths = names.map((n) => `${dir}/${n}`).sort(byteOrder)
      for (const p of paths) {
        let o: Output
        try {
          o = this.invokeScript(p, event, action, stdin)
        } catch (e) {
          if (e instanceof RustError) continue
          throw e
        }
        if (o.code === null) {
          this.t.warn(`callout script ${rustDebug(p)} was terminated by a signal`, 'mdevctl::callouts')
          continue
        }
        if (o.code === 2) continue
        if (capabilities) {
          const cv = parseCapabilities(o.stdout)
          if (!cv) continue
          this.printErr(o, p)
          if (cv.actions.includes('unknown')) this.t.warn(`Callout script ${rustDebug(p)} provides unknown Action type`, 'mdevctl::callouts')
          if (cv.events.includes('unknown')) this.t.warn(`Callout script ${rustDebug(p)} provides unknown Event type`, 'mdevctl::callouts')
          this.script = {path: p, parent: this.t.parentOf(this.dev), type: this.t.typeOf(this.dev), supports: cv}
          return o
        }
        this.printErr(o, p)
        if (o.code === 0) {
          this.script = {path: p, parent: this.t.parentOf(this.dev), type: this.t.typeOf(this.dev), supports: V1}
          return o
        }
        throw this.failure(p, o.code)
      }
    }
    return null
  }

  private notify(action: Action): void {
    for (const dir of this.t.notifierDirs) {
      if (!this.t.fs.isDir(dir)) continue
      let names: string[]
      try {
        names = this.t.fs.readdir(dir)
      } catch {
        continue
      }
      for (const n of names)
        try {
          this.invokeScript(`${dir}/${n}`, 'notify', action, null)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
        }
    }
  }

  /** Callout::invoke: pre (or force past it), the action, post, then the notifiers. */
  invoke(action: Action, force: boolean, func: (c: Callout) => void): void {
    this.script = this.t.findVersionedScript(this.dev)
    const conf = jsonCompact(this.t.toJson(this.dev))
    let res: unknown = null
    try {
      try {
        this.callout('pre', action, conf)
      } catch (e) {
        if (!(e instanceof RustError) || !force) throw e
        this.t.warn(`Forcing operation '${action}' despite callout failure. Error was: ${e.chain[0]}`, 'mdevctl::callouts')
      }
      let tmp: RustError | null = null
      try {
        func(this)
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        tmp = e
      }
      this.state = tmp ? 'failure' : 'success'
      try {
        this.callout('post', action, conf)
      } catch (e) {
        if (!(e instanceof RustError)) throw e
      }
      if (tmp) throw tmp
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      res = e
    }
    this.notify(action)
    if (res) throw res
  }

  /** Callout::get_attributes: the script's JSON array, or null. */
  getAttributes(): JVal {
    this.script = this.t.findVersionedScript(this.dev)
    const o = this.callout('get', 'attributes', null)
    if (o === null) return null
    if (o.code === 0) {
      let st = o.stdout
      if (st === '') return null
      if (st === '[{}]') st = '[]'
      try {
        return parseJson(st.replace(/\0+$/, ''))
      } catch (e) {
        throw context('Invalid JSON received from callout script', e)
      }
    }
    this.printErr(o, this.script!.path)
    throw this.failure(this.script!.path, o.code)
  }

  /** Callout::invoke_modify_live */
  invokeModifyLive(): void {
    this.script = this.t.findVersionedScript(this.dev)
    if (!this.script) fail('No callout script with version support found that supports live modify')
    let res: unknown = null
    const existing = newDev(this.dev.uuid)
    let loaded = true
    try {
      this.t.loadFromSysfs(existing)
    } catch (e) {
      if (!(e instanceof RustError)) throw e
      loaded = false
    }
    if (loaded && existing.active) {
      if (existing.parent !== this.dev.parent) res = new RustError(['Device exists under different parent - cannot run live update'])
      else if (existing.type !== this.dev.type) res = new RustError(['Device exists with different type - cannot run live update'])
      else {
        this.supports(this.script!, 'live', 'modify')
        const conf = jsonCompact(this.t.toJson(this.dev))
        try {
          this.callout('live', 'modify', conf)
        } catch (e) {
          if (!(e instanceof RustError)) throw e
          res = e
        }
        this.notify('modify')
      }
    }
    if (res) throw res
  }
}

// --- the commands ---------------------------------------------------------------------------

function defineCommand(t: Mdevctl, uuid: string | null, auto: boolean, parent: string | null, type: string | null, jsonfile: string | null, force: boolean): void {
  const dev = newDev(uuid ?? t.env.newUuid())
  if (jsonfile !== null) {
    const r = t.jsonFile(jsonfile)
    if ('stage' in r && r.stage === 'open') throw context(`Unable to read file ${rustDebug(jsonfile)}`, r.error)
    if (type !== null) fail(`Device type cannot be specified separately from ${rustDebug(jsonfile)}`)
    if (parent === null) return fail(`Parent device required to define device via ${rustDebug(jsonfile)}`)
    if (t.definedDevices(dev.uuid, parent).size) fail(`Cowardly refusing to overwrite existing config for ${parent}/${dev.uuid}`)
    const text = t.readJsonFile(jsonfile, false)
    t.loadFromJson(dev, parent, parseJson(text))
  } else {
    if (uuid !== null) {
      t.loadFromSysfs(dev)
      if (parent === null && (!dev.active || type !== null)) fail('No parent specified')
    }
    dev.autostart = auto
    if (parent !== null) dev.parent = parent
    if (type !== null) dev.type = type
    if (dev.parent === null) fail('No parent specified')
    if (dev.type === null) fail('No type specified')
    if (t.isDefined(dev)) fail(`Device ${dev.uuid} on ${dev.parent} already defined`)
  }
  new Callout(t, dev).invoke('define', force, (c) => {
    if (c.dev.active) t.addAttributes(c.dev, c.getAttributes())
    t.writeConfig(c.dev)
  })
  if (uuid === null) t.out.out(dev.uuid + '\n')
}

function undefineCommand(t: Mdevctl, uuid: string, parent: string | null, force: boolean): void {
  const devs = t.definedDevices(uuid, parent)
  if (devs.size === 0) fail('No devices match the specified uuid')
  let failed = false
  for (const children of devs.values())
    for (const child of children) {
      const c = new Callout(t, child)
      try {
        c.invoke('undefine', force, (x) => t.undefine(x.dev))
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        failed = true
        for (const x of e.chain) t.warn(`Undefine of ${child.uuid} on parent ${t.parentOf(child)} failed with error: ${x}`)
      }
    }
  if (failed) fail('Undefine failed')
}

interface ModifyArgs {
  uuid: string
  parent: string | null
  type: string | null
  addattr: string | null
  delattr: boolean
  index: number | null
  value: string | null
  auto: boolean
  manual: boolean
  live: boolean
  defined: boolean
  jsonfile: string | null
  force: boolean
}

function modifyCommand(t: Mdevctl, a: ModifyArgs): void {
  if (a.live) {
    if (a.type !== null) fail("'type' cannot be changed on active mdev")
    if (a.auto) fail("'auto' cannot be changed on active mdev")
    if (a.manual) fail("'manual' cannot be changed on active mdev")
    let act = t.getActiveDevice(a.uuid, a.parent)
    if (a.jsonfile === null) return fail("'live' option must be used with 'jsonfile' option")
    const actParent = act.parent ?? fail('Parent device required to modify device via json file')
    const json = t.devFromJsonfile(a.uuid, actParent, a.jsonfile)
    if (json.type !== act.type) fail("'type' cannot be changed on active mdev")
    if (json.parent !== act.parent) fail("'parent' cannot be changed on active mdev")
    act = json
    const c = new Callout(t, act)
    if (a.defined) {
      const def = t.getDefinedDevice(a.uuid, act.parent)
      if (def.type !== act.type) fail("'type' of active and defined mdev does not match")
      c.invokeModifyLive()
      c.invoke('modify', a.force, (x) => t.writeConfig(x.dev))
      return
    }
    c.invokeModifyLive()
    return
  }
  let dev: MDev
  if (a.jsonfile !== null) {
    if (a.parent === null) return fail('Parent device required to modify device via json file')
    dev = t.devFromJsonfile(a.uuid, a.parent, a.jsonfile)
  } else {
    dev = t.getDefinedDevice(a.uuid, a.parent)
    if (a.type !== null) dev.type = a.type
    if (a.auto && a.manual) fail("'auto' and 'manual' are mutually exclusive")
    if (a.auto) dev.autostart = true
    else if (a.manual) dev.autostart = false
  }
  const hint = (): string => (dev.attrs.length ? attrsText(dev.attrs) : `Device ${dev.uuid} has no attributes`)
  if (a.addattr !== null) {
    if (a.value === null) fail('No attribute value provided')
    if (a.index !== null) {
      if (a.index > dev.attrs.length) fail(`Attribute index ${a.index} is invalid\n${hint()}`)
      dev.attrs.splice(a.index, 0, [a.addattr, a.value!])
    } else dev.attrs.push([a.addattr, a.value!])
  } else if (a.delattr) {
    if (a.index !== null) {
      if (a.index >= dev.attrs.length) fail(`Attribute index ${a.index} is invalid\n${hint()}`)
      dev.attrs.splice(a.index, 1)
    } else dev.attrs.pop()
  }
  new Callout(t, dev).invoke('modify', a.force, (x) => t.writeConfig(x.dev))
}

function startCommand(t: Mdevctl, uuid: string | null, parent: string | null, type: string | null, jsonfile: string | null, force: boolean): void {
  let dev: MDev | null = null
  if (jsonfile !== null) {
    const text = t.readJsonFile(jsonfile, false)
    const val = parseJson(text)
    if (type !== null) fail('Device type cannot be specified separately from json file')
    if (parent === null) return fail('Parent device required to start device via json file')
    dev = newDev(uuid ?? t.env.newUuid())
    t.loadFromJson(dev, parent, val)
  } else {
    if (uuid !== null) {
      const devs = [...t.definedDevices(uuid, parent).values()].flat()
      if (devs.length > 1) fail(`Multiple definitions found for device ${uuid}. Please specify a parent.`)
      if (devs.length === 1) {
        const d = devs[0]
        if (type !== null && type !== d.type) fail(`Device ${d.uuid} already exists on parent ${d.parent} with type ${d.type}`)
        dev = d
      }
    }
    if (dev === null) {
      dev = newDev(uuid ?? t.env.newUuid())
      dev.parent = parent
      dev.type = type
    }
    if (dev.type !== null && dev.parent === null) fail("can't provide type without parent")
    if (dev.type === null || dev.parent === null) fail('Device is insufficiently specified')
  }
  const c = new Callout(t, dev)
  c.invoke('start', force, (x) => t.start(x.dev))
  if (uuid === null) t.out.out(dev.uuid + '\n')
}

function stopCommand(t: Mdevctl, uuid: string, force: boolean): void {
  const dev = newDev(uuid)
  t.loadFromSysfs(dev)
  new Callout(t, dev).invoke('stop', force, (c) => t.stop(c.dev))
}

function listCommand(t: Mdevctl, defined: boolean, dumpjson: boolean, verbose: boolean, uuid: string | null, parent: string | null): void {
  const devices = defined ? t.definedDevices(uuid, parent) : t.activeDevices(uuid, parent)
  for (const v of devices.values()) v.sort((a, b) => byteOrder(a.uuid, b.uuid))
  let out = ''
  if (dumpjson) {
    const count = [...devices.values()].flat().length
    if (uuid === null || count > 1) out = listJson([...devices].map(([p, devs]) => [p, devs.map((d) => t.view(d))]))
    else {
      const first = [...devices.values()][0]?.[0]
      out = first ? jsonPretty(t.toJson(first)) : '[]'
    }
  } else {
    for (const d of [...devices.values()].flat()) {
      if (defined ? !t.isDefined(d) : !d.active) continue
      if (d.parent === null || d.type === null) continue
      out += listLine(t.view(d), defined ? (d.active ? ' (active)' : '') : t.isDefined(d) ? ' (defined)' : '', verbose)
    }
  }
  t.out.out(out)
}

function typesCommand(t: Mdevctl, parent: string | null, dumpjson: boolean): void {
  const types = new Map<string, TypeView[]>()
  let names: string[] | null = null
  try {
    names = t.fs.readdir(t.parentBase)
  } catch {
    names = null
  }
  const read = (p: string): string => {
    try {
      return t.readText(p)
    } catch (e) {
      throw io(e)
    }
  }
  for (const name of names ?? []) {
    if (parent !== null && parent !== name) continue
    const mst = `${t.parentBase}/${name}/mdev_supported_types`
    let entries: string[]
    try {
      entries = t.fs.readdir(mst)
    } catch (e) {
      throw io(e)
    }
    const list: TypeView[] = []
    for (const tn of entries) {
      const tp = `${mst}/${tn}`
      if (!t.fs.isDir(tp)) continue
      const available = parseI32(rustTrim(read(tp + '/available_instances')))
      const api = rustTrim(read(tp + '/device_api'))
      const nm = t.fs.exists(tp + '/name') ? rustTrim(read(tp + '/name')) : ''
      const desc = t.fs.exists(tp + '/description') ? rustTrim(read(tp + '/description')).replaceAll('\n', ', ') : ''
      list.push({type: tn, available, api, name: nm, description: desc})
    }
    types.set(name, list)
  }
  const sorted = [...types].sort((a, b) => byteOrder(a[0], b[0]))
  for (const [, v] of sorted) v.sort((a, b) => byteOrder(a.type, b.type))
  t.out.out(dumpjson ? typesJson(sorted) : typesText(sorted))
}

function startParentMdevs(t: Mdevctl, parent: string): void {
  const devs = t.definedDevices(null, parent)
  if (devs.size === 0) return
  if (devs.size !== 1) fail('More than one parent found')
  for (const children of devs.values())
    for (const child of children) {
      if (!child.autostart) continue
      try {
        new Callout(t, child).invoke('start', false, (c) => t.start(c.dev))
      } catch (e) {
        if (!(e instanceof RustError)) throw e
        for (const x of e.chain) t.warn(x)
      }
    }
}

// --- main ------------------------------------------------------------------------------------

/**
 * mdevctl's main (or lsmdev's, with env.prog): the environment self-check,
 * clap's parsing, then the command. Returns the exit code; output goes to
 * `io` (Rust's stdout is line buffered even on a pipe).
 */
export function runMdevctl(argv: string[], env: MdevctlEnv, io: Stdio): number {
  const t = new Mdevctl(env, io)
  try {
    t.selfCheck()
    if (env.prog === 'lsmdev') {
      const m = getMatches(buildLsmdev(), argv)
      const v = (id: string) => m.vals.get(id)
      listCommand(t, v('defined') === true, v('dumpjson') === true, v('verbose') === true, (v('uuid') as string) ?? null, (v('parent') as string) ?? null)
      return 0
    }
    const top = getMatches(buildMdevctl(), argv)
    const sub = top.sub!
    const v = (id: string): unknown => sub.vals.get(id) ?? null
    const s = (id: string): string | null => (v(id) as string | null) ?? null
    const f = (id: string): boolean => v(id) === true
    switch (sub.cmd.name) {
      case 'define':
        defineCommand(t, s('uuid'), f('auto'), s('parent'), s('type'), s('jsonfile'), f('force'))
        break
      case 'undefine':
        undefineCommand(t, s('uuid')!, s('parent'), f('force'))
        break
      case 'modify':
        modifyCommand(t, {
          uuid: s('uuid')!,
          parent: s('parent'),
          type: s('type'),
          addattr: s('addattr'),
          delattr: f('delattr'),
          index: (v('index') as number | null) ?? null,
          value: s('value'),
          auto: f('auto'),
          manual: f('manual'),
          live: f('live'),
          defined: f('defined'),
          jsonfile: s('jsonfile'),
          force: f('force'),
        })
        break
      case 'start':
        startCommand(t, s('uuid'), s('parent'), s('type'), s('jsonfile'), f('force'))
        break
      case 'stop':
        stopCommand(t, s('uuid')!, f('force'))
        break
      case 'list':
        listCommand(t, f('defined'), f('dumpjson'), f('verbose'), s('uuid'), s('parent'))
        break
      case 'types':
        typesCommand(t, s('parent'), f('dumpjson'))
        break
      case 'start-parent-mdevs':
        startParentMdevs(t, s('parent')!)
        break
    }
    return 0
  } catch (e) {
    if (e instanceof ClapExit) {
      if (e.stdout) io.out(e.stdout)
      if (e.stderr) io.err(e.stderr)
      return e.code
    }
    if (e instanceof RustError) {
      io.err(errorReport(e.chain))
      return 1
    }
    if (e instanceof Panic) {
      io.err(`thread 'main' panicked at ${e.location}:\n${e.text}\nnote: run with \`RUST_BACKTRACE=1\` environment variable to display a backtrace\n`)
      return 101
    }
    throw e
  }
}
