// chzcrypt (s390-tools 2.43.0): the real tool's option handling, dispatch
// order, messages and sysfs writes. The kernel's answers to those writes come
// from whatever implements `Sys` (the emulated host, or a real directory).

import {ToolExit} from '../core/errors.js'
import {defaultDomainWarning, maskBit} from '../views/lszcrypt.js'
import {getoptLong, optName} from './getopt.js'
import {Stdio, runMain, scanHex, scanLong, strtol} from './libc.js'
import {type Sys, readLine} from './sys.js'
import {type HelpOpt, helpText, versionText} from './usage.js'

const PROG = 'chzcrypt'

export const CHZCRYPT_OPTIONS: HelpOpt[] = [
  {key: 'e', short: 'e', long: 'enable', arg: 'none', desc: 'Set the given cryptographic device(s) online'},
  {key: 'd', short: 'd', long: 'disable', arg: 'none', desc: 'Set the given cryptographic device(s) offline'},
  {
    key: 'a',
    short: 'a',
    long: 'all',
    arg: 'none',
    desc: 'Set all available cryptographic device(s) online/offline, must be used in conjunction with the enable or disable option',
  },
  {key: 'config-on', long: 'config-on', arg: 'none', val: 0x80, desc: 'Set the given cryptographic card device(s) configured'},
  {key: 'config-off', long: 'config-off', arg: 'none', val: 0x81, desc: 'Set the given cryptographic card device(s) deconfigured'},
  {key: 'p', short: 'p', long: 'poll-thread-enable', arg: 'none', desc: "Enable zcrypt's poll thread"},
  {key: 'n', short: 'n', long: 'poll-thread-disable', arg: 'none', desc: "Disable zcrypt's poll thread"},
  {
    key: 'c',
    short: 'c',
    long: 'config-time',
    arg: 'required',
    argName: 'TIMEOUT',
    desc: 'Set configuration timer for re-scanning the AP bus to TIMEOUT seconds',
  },
  {
    key: 't',
    short: 't',
    long: 'poll-timeout',
    arg: 'required',
    argName: 'TIMEOUT',
    desc: 'Set poll timer to run poll tasklet all TIMEOUT nanoseconds after a request has been queued',
  },
  {key: 'q', short: 'q', long: 'default-domain', arg: 'required', argName: 'DOMAIN', desc: 'Set new default domain to DOMAIN'},
  {key: 'V', short: 'V', long: 'verbose', arg: 'none', desc: 'Print verbose messages'},
  {
    key: 'se-associate',
    long: 'se-associate',
    arg: 'required',
    val: 0x82,
    argName: 'assoc_idx',
    desc: 'SE guest with AP support only: Associate the given queue device',
  },
  {key: 'se-bind', long: 'se-bind', arg: 'none', val: 0x83, desc: 'SE guest with AP support only: Bind the given queue device'},
  {key: 'se-unbind', long: 'se-unbind', arg: 'none', val: 0x84, desc: 'SE guest with AP support only: Unbind the given queue device'},
  {key: 'h', short: 'h', long: 'help', arg: 'none', desc: 'Print this help, then exit'},
  {key: 'v', short: 'v', long: 'version', arg: 'none', desc: 'Print version information, then exit'},
]

const TRAILER = `
DEVICE_IDS
  List of cryptographic device ids separated by blanks which will be set
  online/offline. Must be used in conjunction with the enable or disable option.
  DEVICE_ID could either be card device id ('<card-id>') or queue device id
  '<card-id>.<domain-id>').

QUEUE_DEVICE:
  An APQN queue device given as xy.abcd as it is listed by lszcrypt -V.

EXAMPLE:
  Disable the cryptographic device with card id '02' (inclusive all queues).
  #>chzcrypt -d 02
  
  Enable the cryptographic devices with card id '03' and domain id '0005'.
  #>chzcrypt -e 03.0005
  
`

export const chzcryptHelp = (): string => helpText(PROG, '[DEVICE_IDS]', 'Modify zcrypt configuration.', CHZCRYPT_OPTIONS, TRAILER)

type SeAction = 'se-associate' | 'se-bind' | 'se-unbind'

export interface ChzcryptOptions {
  verbose: boolean
  all: boolean
  online?: '0' | '1'
  config?: '0' | '1'
  pollThread?: '0' | '1'
  configTime?: string
  pollTimeout?: string
  defaultDomain?: string
  assocIdx?: string
  lastAction?: string
  operands: string[]
}

const errx = (msg: string): never => {
  throw new ToolExit(`${PROG}: ${msg}\n`, 1)
}

const usageError = (msg: string): never => errx(`${msg}\nTry '${PROG} --help' for more information.`)

/** Parse argv; returns the options, or the help/version text to print. */
export function parseChzcrypt(argv: string[]): ChzcryptOptions | {print: string} {
  // The real tool turns every `_` from the third character on into `-`.
  const words = argv.map((w) => w.slice(0, 2) + w.slice(2).replace(/_/g, '-'))
  const g = getoptLong(words, CHZCRYPT_OPTIONS)
  const o: ChzcryptOptions = {verbose: false, all: false, operands: g.operands}
  for (const ev of g.events) {
    if (ev.kind === 'invalid') usageError(`Invalid option '${optName(ev)}'`)
    if (ev.kind === 'missing') usageError(`Option '${ev.word}' requires an argument`)
    if (ev.kind !== 'opt') continue
    const k = ev.key
    if (k === 'h') return {print: chzcryptHelp()}
    if (k === 'v') return {print: versionText(PROG, 2008, 2023)}
    if (k === 'V') o.verbose = true
    else if (k === 'a') o.all = true
    else {
      o.lastAction = k
      if (k === 'e' || k === 'd') o.online = k === 'e' ? '1' : '0'
      else if (k === 'config-on' || k === 'config-off') o.config = k === 'config-on' ? '1' : '0'
      else if (k === 'p' || k === 'n') o.pollThread = k === 'p' ? '1' : '0'
      else if (k === 'c') o.configTime = ev.arg
      else if (k === 't') o.pollTimeout = ev.arg
      else if (k === 'q') o.defaultDomain = ev.arg
      else if (k === 'se-associate') o.assocIdx = ev.arg
    }
  }
  return o
}

export function runChzcrypt(argv: string[], sys: Sys, io: Stdio): number {
  return runMain(io, () => {
    const o = parseChzcrypt(argv)
    if ('print' in o) io.out(o.print)
    else new Chzcrypt(sys, io, o).run()
  })
}

const WRONG_PERMS = ' Wrong permissions or wrong tools version.'

class Chzcrypt {
  private readonly bus: string

  constructor(
    private readonly sys: Sys,
    private readonly io: Stdio,
    private readonly o: ChzcryptOptions,
  ) {
    this.bus = `${sys.root}/bus/ap`
  }

  private verbose(text: string): void {
    if (this.o.verbose) this.io.out(text)
  }

  private write(path: string, value: string): void {
    try {
      this.sys.write(path, value)
    } catch {
      // The real tool ignores write errors and checks by reading back.
    }
  }

  run(): void {
    const o = this.o
    if (!o.lastAction) usageError('Error - missing argument.')
    if (!this.sys.isDir(this.bus)) errx('Crypto device driver not available.')
    if (o.pollThread !== undefined) return this.pollThread(o.pollThread)
    if (o.configTime !== undefined) return this.busLong('config_time', o.configTime, 'configuration timeout', 'configuration timer', 'Setting configuration timer to %s seconds.')
    if (o.pollTimeout !== undefined) return this.busLong('poll_timeout', o.pollTimeout, 'poll timeout', 'poll timeout', 'Setting poll timeout to %s seconds.')
    if (o.defaultDomain !== undefined) return this.defaultDomain(o.defaultDomain)
    if (o.lastAction === 'se-associate' || o.lastAction === 'se-bind' || o.lastAction === 'se-unbind')
      return this.seAction(o.lastAction)
    if (o.online === undefined && o.config === undefined) return
    const devices = o.all ? this.allCards() : o.operands
    if (!o.all && devices.length === 0) errx('Need to specify at least one device ID.')
    if (devices.length === 0) errx('Error - missing cryptographic device id(s).')
    if (o.online !== undefined) this.setOnline(o.online, devices)
    else this.setConfig(o.config!, devices)
  }

  private pollThread(mode: '0' | '1'): void {
    this.verbose(mode === '1' ? 'Enabling poll thread.\n' : 'Disabling poll thread.\n')
    const attr = `${this.bus}/poll_thread`
    if (!this.sys.canWrite(attr)) errx(`Error - can't write to ${attr}.\n${WRONG_PERMS}`)
    this.write(attr, mode)
    if (readLine(this.sys, attr) !== mode) errx('Error - unable to change poll thread setting.')
  }

  private busLong(file: string, text: string, what: string, setting: string, message: string): void {
    const v = scanLong(text)
    if (v === null) errx(`Error - invalid ${what} '${text}'.`)
    const attr = `${this.bus}/${file}`
    this.verbose(message.replace('%s', String(v)) + '\n')
    if (!this.sys.canWrite(attr)) errx(`Error - can't write to ${attr}.\n${WRONG_PERMS}`)
    this.write(attr, String(v))
    if (readLine(this.sys, attr) !== String(v)) errx(`Error - unable to change ${setting} setting.`)
  }

  private defaultDomain(text: string): void {
    // A non-number leaves the value undefined in the real tool; its build used 0.
    const d = scanLong(text, true) ?? 0
    const max = scanLong(readLine(this.sys, `${this.bus}/ap_max_domain_id`) ?? '') ?? -1
    if (d < 0 || d > max) errx(`Error - invalid default domain '${text}'.`)
    const attr = `${this.bus}/ap_domain`
    if (!this.sys.canWrite(attr)) errx(`Error - can't write to ${attr}.\n${WRONG_PERMS}`)
    this.verbose(`Setting default domain to ${d}.\n`)
    this.write(attr, String(d))
    if (readLine(this.sys, attr) !== String(d)) errx('Error - unable to change default domain.')
    const mask = readLine(this.sys, `${this.bus}/ap_usage_domain_mask`) ?? ''
    if (!mask.startsWith('0x') || !maskBit(mask, d)) this.io.out(defaultDomainWarning(d))
  }

  /** Card entries of /sys/bus/ap/devices in the directory's own order. */
  private allCards(): string[] {
    const path = `${this.bus}/devices/`
    let names: string[]
    try {
      names = this.sys.readdir(path)
    } catch {
      return errx(`Error - Could not read directory ${path}.`)
    }
    return names.filter((n) => /card.*/.test(n))
  }

  /** The device a card operand names (`card2`, `0x2`, `2`), or null for other forms. */
  private cardOperand(dev: string): string | null {
    let r: {value: number} | null = null
    if (dev.startsWith('card')) r = scanHex(dev, 4, 2)
    else if (dev.startsWith('0x')) r = scanHex(dev, 2, 2)
    else if (/^[0-9a-fA-F]+$/.test(dev)) r = scanHex(dev, 0, 2)
    else return null
    if (!r) errx(`Error - unable to parse '${dev}'.`)
    return `card${hex(r!.value, 2)}`
  }

  private setOnline(online: '0' | '1', devices: string[]): void {
    const text = online === '1' ? 'online' : 'offline'
    for (const dev of devices) {
      let device = this.cardOperand(dev)
      if (device === null) {
        const a = scanHex(dev, 0, 2)
        const b = a && dev[a.end] === '.' ? scanHex(dev, a.end + 1, 4) : null
        if (!a || !b) errx(`Error - cryptographic device ${dev} malformed.`)
        device = `card${hex(a!.value, 2)}/${hex(a!.value, 2)}.${hex(b!.value, 4)}`
      }
      const path = `${this.bus}/devices/${device}`
      if (!this.sys.isDir(path)) errx(`Error - cryptographic device ${device} does not exist.`)
      if (!this.sys.canWrite(`${path}/online`)) errx(`Error - can't write to ${path}/online.\n${WRONG_PERMS}`)
      if (online === '1') {
        const config = readLine(this.sys, `${path}/config`)
        if (config !== null && (scanLong(config) ?? 0) <= 0) {
          this.io.err(`${PROG}: Warning - device ${dev} is deconfigured, can't set to online.\n\n`)
          continue
        }
      }
      this.verbose(`Setting cryptographic device ${device} ${text}\n`)
      this.write(`${path}/online`, online)
      if (readLine(this.sys, `${path}/online`) !== online) errx(`Error - unable to set cryptographic device ${device} ${text}.`)
    }
  }

  private setConfig(config: '0' | '1', devices: string[]): void {
    const text = config === '1' ? 'config on' : 'config off'
    for (const dev of devices) {
      const device = this.cardOperand(dev)
      if (device === null) errx(`Error - invalid device ${dev}\n Config on/off is only valid for card devices.`)
      const path = `${this.bus}/devices/${device}`
      if (!this.sys.isDir(path)) errx(`Error - cryptographic device ${device} does not exist.`)
      const current = readLine(this.sys, `${path}/config`)
      if (current === null)
        errx(`Error - can't read ${path}/config.\nFile may not exist due to an older zcrypt device driver.`)
      if (current === config) {
        this.io.err(`${PROG}: Warning - device ${device} is already ${text}.\n`)
        continue
      }
      if (!this.sys.canWrite(`${path}/config`)) errx(`Error - can't write to ${path}/config.\nWrong permissions or wrong tools version.`)
      this.verbose(`Setting cryptographic device ${device} ${text}\n`)
      this.write(`${path}/config`, config)
      if (readLine(this.sys, `${path}/config`) !== config) errx(`Error - unable to set cryptographic device ${device} ${text}.`)
    }
  }

  // --- Secure Execution ---------------------------------------------------------

  private seAction(action: SeAction): void {
    const q = this.o.operands[0]
    if (q === undefined) errx(`Error - The --${action} needs a queue device given.`)
    const features = readLine(this.sys, `${this.bus}/features`) ?? ''
    if (!features.includes('APSB')) errx('Error - AP bus: SE bind support is not available.')
    const a = scanHex(q, 0, 2)
    const b = a && q[a.end] === '.' ? scanHex(q, a.end + 1, 4) : null
    if (!a || !b) errx(`Error - Can't parse queue device '${q}' as xy.abcd.`)
    const path = `${this.bus}/devices/card${hex(a!.value, 2)}/${hex(a!.value, 2)}.${hex(b!.value, 4)}`
    if (!this.sys.isDir(path)) errx(`Error - Queue device ${q} does not exist.`)
    if (action === 'se-associate') this.seAssociate(q, path)
    else if (action === 'se-bind') this.seBind(q, path)
    else this.seUnbind(q, path)
  }

  private seRead(file: string): string {
    try {
      const s = this.sys.read(file)
      return s.endsWith('\n') ? s.slice(0, -1) : s
    } catch (e) {
      return errx(`Error - Failure reading from ${file} (errno '${(e as Error).message}').`)
    }
  }

  private seWrite(file: string, value: string): void {
    try {
      this.sys.write(file, value)
    } catch (e) {
      errx(`Error - Failure writing to ${file} (errno '${(e as Error).message}').`)
    }
  }

  private seWritable(file: string): void {
    if (!this.sys.canWrite(file)) errx(`Error - Can't write to ${file} (errno '${this.sys.isFile(file) ? 'Permission denied' : 'No such file or directory'}').`)
  }

  private seAssociate(q: string, path: string): void {
    const text = this.o.assocIdx!
    const n = strtol(text, 0)
    if (n.end === 0) errx(`Error - Can't parse association index '${text}' as number.`)
    if (n.value < 0 || n.value > 65535) errx('Error - Association index needs to be in range [0...65535].')
    const file = `${path}/se_associate`
    this.seWritable(file)
    const state = this.seRead(file)
    if (state !== 'unassociated') errx(`Error - Queue device ${q} is NOT in 'unassociated' state (state '${state}' found).`)
    this.seWrite(file, String(n.value))
    let now = ''
    for (let i = 0; i < 60; i++) {
      now = this.seRead(file)
      if (now.startsWith('associated')) break
      if (now === 'unassociated') errx(`Error - Failure associating queue device ${q} (state '${now}' found).`)
    }
    if (!now.startsWith('associated')) errx(`Error - Failure associating queue device ${q} (timeout after 30 s).`)
    if (now !== `associated ${n.value}`) errx(`Error - Failure associating queue device ${q} (state '${now}' found).`)
    this.verbose(`Queue device ${q} successful associated with index ${n.value}.\n`)
  }

  private seBind(q: string, path: string): void {
    const file = `${path}/se_bind`
    this.seWritable(file)
    const state = this.seRead(file)
    if (state !== 'unbound') errx(`Error - Queue device ${q} is NOT in 'unbound' state (state '${state}' found).`)
    this.seWrite(file, '1')
    const now = this.seRead(file)
    if (now !== 'bound') errx(`Error - Failure binding queue device ${q} (state '${now}' found).`)
    this.verbose(`Queue device ${q} successful bound.\n`)
  }

  private seUnbind(q: string, path: string): void {
    const file = `${path}/se_bind`
    this.seWritable(file)
    this.seWrite(file, '0')
    let now = ''
    for (let i = 0; i < 60 && now !== 'unbound'; i++) now = this.seRead(file)
    if (now !== 'unbound') errx(`Error - Failure unbinding queue device ${q} (timeout after 30 s).`)
    this.verbose(`Queue device ${q} successful unbound.\n`)
  }
}

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0')
