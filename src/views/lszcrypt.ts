// The texts lszcrypt prints: its tables, the capability and bus reports, the
// domain matrix and the help. Pure functions of the values lszcrypt read.

import {FN} from '../core/lpar.js'
import {hexLong} from '../tools/libc.js'
import {type HelpOpt, helpText} from '../tools/usage.js'
import {type Column, recHeader, recRow} from './rec.js'

const col = (key: string, header: string, width: number, align: 'left' | 'right' = 'left'): Column => ({key, header, width, align})

export const LIST_COLUMNS = [
  col('card', 'CARD.DOM', 8),
  col('type', 'TYPE', 5),
  col('mode', 'MODE', 11),
  col('status', 'STATUS', 10),
  col('requests', 'REQUESTS', 8, 'right'),
]

export const VERBOSE_COLUMNS = [
  col('pending', 'PENDING', 8, 'right'),
  col('hwtype', 'HWTYPE', 6, 'right'),
  col('depth', 'QDEPTH', 6, 'right'),
  col('facility', 'FUNCTIONS', 10),
  col('driver', 'DRIVER', 11),
]

export const SESTAT_COLUMN = col('sestat', 'SESTAT', 11)

export const SERIAL_COLUMNS = [...LIST_COLUMNS.slice(0, 4), col('serial', 'SERIALNR', 8)]

export function listColumns(verbose: boolean, sestat: boolean): Column[] {
  if (!verbose) return LIST_COLUMNS
  return [...LIST_COLUMNS, ...VERBOSE_COLUMNS, ...(sestat ? [SESTAT_COLUMN] : [])]
}

export {type Column, recHeader, recRow}

export function modeText(fn: number): string {
  if (fn & FN.COPRO) return 'CCA-Coproc'
  if (fn & FN.ACCEL) return 'Accelerator'
  if (fn & FN.EP11) return 'EP11-Coproc'
  return 'Unknown'
}

const FUNCTION_LETTERS = 'SMCDAXNHFR'

/** The FUNCTIONS column: one letter per ap_functions bit from 0x80000000 down. */
export function functionsText(fn: number): string {
  let s = ''
  for (let i = 0; i < FUNCTION_LETTERS.length; i++) s += fn & (0x80000000 >>> i) ? FUNCTION_LETTERS[i] : '-'
  return s
}

/** Card or queue STATUS from config, chkstop and online (-1 when unreadable). */
export function statusText(config: number, chkstop: number, online: number, fallback = '-'): string {
  if (config === 0) return 'deconfig'
  if (chkstop > 0) return 'chkstop'
  if (online > 0) return 'online'
  if (online === 0) return 'offline'
  return fallback
}

const SE_STATES = ['usable', 'bound', 'unbound', 'illicit']

/** SESTAT of a queue from its ap_functions (null: unreadable). */
export function seStatText(fn: number | null): string {
  if (fn === null) return 'error'
  if (fn === 0) return 'invalid'
  return SE_STATES[(fn & 0xc000) >>> 14]
}

export const defaultDomainWarning = (domain: number): string => `Warning: Default domain 0x${hexLong(domain)} is not available.\n`

/** Capability lines for a card (after `cardXX provides capability for:`). */
export function cardCapabilities(hwtype: number, fn: number, maxMsgSize: number, name: string): string {
  const unavailable = `Detailed capability information for ${name} (hardware type ${hwtype}) is not available.\n`
  const cls = fn & FN.FULL ? 'full function set' : fn & FN.RESTRICTED ? 'restricted function set' : ''
  const rsa = fn & (FN.MEX4K | FN.CRT4K) ? 'RSA 4K Clear Key\n' : 'RSA 2K Clear Key\n'
  const cca = cls ? `CCA Secure Key (${cls})\n` : 'CCA Secure Key\n'
  let s = `${name} provides capability for:\n`
  if (hwtype === 6 || hwtype === 8) return s + rsa
  if (hwtype === 7 || hwtype === 9) return s + 'RSA 4K Clear Key\n' + cca + 'Long RNG\n'
  if (hwtype < 10 || hwtype > 14) return s + unavailable
  if (fn & FN.ACCEL) s += rsa
  else if (fn & FN.COPRO) s += 'RSA 4K Clear Key\n' + cca + (fn & FN.HWFILTER ? 'Hardware support for stateless filtering\n' : '') + 'Long RNG\n'
  else if (fn & FN.EP11) s += 'EP11 Secure Key\n'
  else s += unavailable
  if (maxMsgSize > 0) s += `AP bus max message size limit ${Math.floor(maxMsgSize / 1024)} Kb\n`
  return s
}

export interface BusInfo {
  features: string | null
  domain: number
  domainAvailable: boolean
  maxDomain: number
  interrupts: number | null
  configTime: number
  pollThread: number
  pollTimeout: string | null
}

export function busText(b: BusInfo): string {
  let s = ''
  if (b.features) s += `features: ${b.features}\n`
  if (b.domain < 0) s += 'ap_domain=-1 (not set)\n'
  else s += `ap_domain=0x${hexLong(b.domain)}${b.domainAvailable ? '' : ' (unavailable)'}\n`
  s += `ap_max_domain_id=0x${hexLong(b.maxDomain)}\n`
  if (b.interrupts !== null) s += `ap_interrupts are ${b.interrupts === 1 ? 'enabled' : 'disabled'}\n`
  s += `config_time=${b.configTime} (seconds)\n`
  s += `poll_thread is ${b.pollThread === 1 ? 'enabled' : 'disabled'}\n`
  if (b.pollTimeout !== null) s += `poll_timeout=${b.pollTimeout} (nanoseconds)\n`
  return s
}

/** Bit n of a `0x` + 64 hex digit mask text, the way lszcrypt tests it. */
export function maskBit(mask: string, n: number): boolean {
  const digit = parseInt(mask[2 + Math.floor(n / 4)] ?? '', 16)
  return !Number.isNaN(digit) && (digit & (8 >> n % 4)) !== 0
}

export function domainsText(control: string, usage: string): string {
  const head = 'DOMAIN ' + Array.from({length: 16}, (_, i) => i.toString(16).padStart(2, '0')).join(' ') + '\n'
  const dashes = '-'.repeat(54) + '\n'
  let s = head + dashes
  for (let r = 0; r < 16; r++) {
    const cells: string[] = []
    for (let c = 0; c < 16; c++) {
      const d = r * 16 + c
      const ctl = maskBit(control, d)
      const use = maskBit(usage, d)
      cells.push((ctl && use ? 'B' : ctl ? 'C' : use ? 'U' : '.').padStart(2))
    }
    s += (r * 16).toString(16).padStart(2, '0').padStart(6) + ' ' + cells.join(' ') + '\n'
  }
  return s + dashes + 'C: Control domain\nU: Usage domain\nB: Both (Control + Usage domain)\n'
}

export const LSZCRYPT_OPTIONS: HelpOpt[] = [
  {key: 'b', short: 'b', long: 'bus', arg: 'none', desc: 'Show AP bus attributes then exit'},
  {key: 'c', short: 'c', long: 'capability', arg: 'required', argName: 'DEVICE_ID', desc: 'Show the capabilities of a cryptographic device'},
  {key: 'd', short: 'd', long: 'domains', arg: 'none', desc: 'Show the configured AP usage and control domains'},
  {key: 'V', short: 'V', long: 'verbose', arg: 'none', desc: 'Print verbose messages'},
  {key: 'accelonly', long: 'accelonly', arg: 'none', desc: 'Show only information from cards/queues in Accelerator mode'},
  {key: 'ccaonly', long: 'ccaonly', arg: 'none', desc: 'Show only information from cards/queues in CCA-Coprocessor mode'},
  {key: 'ep11only', long: 'ep11only', arg: 'none', desc: 'Show only information from cards/queues in EP11-Coprocessor mode'},
  {key: 'cardonly', long: 'cardonly', arg: 'none', desc: 'Show only information from cards but no queue info'},
  {key: 'queueonly', long: 'queueonly', arg: 'none', desc: 'Show only information from queues but no card info'},
  {key: 's', short: 's', long: 'serial', arg: 'none', desc: 'Show the serial numbers for CCA and EP11 crypto cards'},
  {key: 'h', short: 'h', long: 'help', arg: 'none', desc: 'Print this help, then exit'},
  {key: 'v', short: 'v', long: 'version', arg: 'none', desc: 'Print version information, then exit'},
]

const LSZCRYPT_TRAILER = `
DEVICE_IDS
  List of cryptographic device ids separated by blanks which will be displayed.
  DEVICE_ID could either be card device id ('<card-id>') or queue device id
  '<card-id>.<domain-id>'). To filter all devices according to a dedicated
  domain just provide '.<domain-id>'.
  If no ids are given, all available devices are displayed.

EXAMPLE:
  List all cryptographic devices with card id '02'.
  #>lszcrypt 02

  List cryptographic devices with card id '02' and domain id '0005'.
  #>lszcrypt 02.0005

`

export const lszcryptHelp = (): string =>
  helpText('lszcrypt', '[DEVICE_IDS]', 'Display zcrypt device and configuration information.', LSZCRYPT_OPTIONS, LSZCRYPT_TRAILER)
