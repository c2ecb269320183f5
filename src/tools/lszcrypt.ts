// lszcrypt (s390-tools 2.43.0): parses its command line like the real tool
// and reads the same sysfs files in the same order, so it behaves the same on
// the emulated host, on an exported tree and on a real /sys.

import {KernelError, ToolExit} from '../core/errors.js'
import {
  type Column,
  SERIAL_COLUMNS,
  busText,
  cardCapabilities,
  defaultDomainWarning,
  domainsText,
  functionsText,
  listColumns,
  lszcryptHelp,
  LSZCRYPT_OPTIONS,
  maskBit,
  modeText,
  recHeader,
  recRow,
  seStatText,
  statusText,
} from '../views/lszcrypt.js'
import {getoptLong, optName} from './getopt.js'
import {Stdio, byteOrder, runMain, scanCardDomain, scanHex, strtol} from './libc.js'
import {type Sys, type SysDir, readLine} from './sys.js'
import {versionText} from './usage.js'

const PROG = 'lszcrypt'

export type LszcryptAction =
  | {kind: 'help' | 'version' | 'bus' | 'domains' | 'serial'}
  | {kind: 'capability'; id: string}
  | {
      kind: 'list'
      verbose: boolean
      modes: {A: boolean; C: boolean; P: boolean}
      cards: boolean
      queues: boolean
      ids: string[]
      /** What follows each id in the process's memory (see parseLszcrypt). */
      follow: string[]
    }

const errx = (msg: string): never => {
  throw new ToolExit(`${PROG}: ${msg}\n`, 1)
}

/** The vals of the long-only options (lszcrypt_cli.h): getopt's optopt for `--cardonly=1`. */
const OPT_VAL: Record<string, number> = {accelonly: 0x81, ccaonly: 0x82, ep11only: 0x83, cardonly: 0x84, queueonly: 0x85}

/**
 * Parse argv the way lszcrypt's option loop does; exiting options end the
 * parse where they stand. `afterArgv` is what follows the last argument in
 * the process's memory: the first environment string (NAME=value), or the
 * program's path when the environment is empty (absent: nothing hexadecimal).
 * lszcrypt reads it through an empty last operand (see listId).
 */
export function parseLszcrypt(argv: string[], afterArgv = ''): LszcryptAction {
  const g = getoptLong(
    argv,
    LSZCRYPT_OPTIONS.map((d) => ({...d, val: OPT_VAL[d.key]})),
  )
  let verbose = false
  const only = {A: false, C: false, P: false}
  let cardonly = false
  let queueonly = false
  for (const ev of g.events) {
    if (ev.kind === 'invalid') errx(`Invalid option '${optName(ev)}'\nTry '${PROG} --help' for more information.`)
    if (ev.kind === 'missing') errx(`Option '${ev.word}' requires an argument\nTry '${PROG} --help' for more information.`)
    if (ev.kind !== 'opt') continue
    switch (ev.key) {
      case 'b':
        return {kind: 'bus'}
      case 'c':
        return {kind: 'capability', id: ev.arg!}
      case 'd':
        return {kind: 'domains'}
      case 's':
        return {kind: 'serial'}
      case 'h':
        return {kind: 'help'}
      case 'v':
        return {kind: 'version'}
      case 'V':
        verbose = true
        break
      case 'accelonly':
        only.A = true
        break
      case 'ccaonly':
        only.C = true
        break
      case 'ep11only':
        only.P = true
        break
      case 'cardonly':
        cardonly = true
        break
      case 'queueonly':
        queueonly = true
        break
    }
  }
  const nModes = Number(only.A) + Number(only.C) + Number(only.P)
  if (nModes > 1) errx('Only one of --accelonly or --ccaonly or --ep11only can be specified')
  if (cardonly && queueonly) errx('Only one of --cardonly or --queueonly can be specified')
  const modes = nModes === 0 ? {A: true, C: true, P: true} : only
  // getopt permutes the argv pointers, not the strings: the bytes after an operand are the next word as typed.
  const follow = g.positions.map((p) => (p + 1 < argv.length ? argv[p + 1] : afterArgv))
  return {kind: 'list', verbose, modes, cards: !queueonly, queues: !cardonly, ids: g.operands, follow}
}

/** Run lszcrypt; output goes to `io`. Returns the exit code (ToolExit carries errx). `afterArgv`: see parseLszcrypt. */
export function runLszcrypt(argv: string[], sys: Sys, io: Stdio, afterArgv?: string): number {
  return runMain(io, () => new Lszcrypt(sys, io).run(parseLszcrypt(argv, afterArgv)))
}

/** Read a number the way util_file_read_l does; -1 when unreadable. `path`: below `sys`, or an entry of the directory `sys`. */
function readInt(sys: Sys | SysDir, path: string, base: 10 | 16 = 10): number {
  const l = readLine(sys, path)
  if (l === null) return -1
  if (base === 16) return scanHex(l)?.value ?? -1
  const v = strtol(l, 10)
  return v.end === 0 ? -1 : v.value
}

const ZCRYPT_DRIVER = /cex[0-9](card|queue)/
const VFIO_DRIVER = /vfio.ap/

/** /^cex[0-9]queue$/ without a regular expression (tested once per queue). */
const isCexQueue = (d: string): boolean =>
  d.length === 9 && d.startsWith('cex') && d.charCodeAt(3) >= 48 && d.charCodeAt(3) <= 57 && d.endsWith('queue')

/**
 * /..\..../.test(name) without a regular expression (every entry of every
 * card directory is tested): six characters, none a line terminator, the
 * third a dot.
 */
export function queueShaped(name: string): boolean {
  let run = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) run = 0
    else if (++run >= 6 && name.charCodeAt(i - 3) === 46) return true
  }
  return false
}

/** What reading below a directory that cannot be opened gives: nothing. */
const noDir = (path: string): SysDir => ({
  path,
  readOrNull: () => null,
  readlink: () => {
    throw new KernelError('ENOENT')
  },
  openDir: () => null,
})

class Lszcrypt {
  private readonly bus: string
  private readonly devices: string

  constructor(
    private readonly sys: Sys,
    private readonly io: Stdio,
  ) {
    this.bus = `${sys.root}/bus/ap`
    this.devices = `${sys.root}/devices/ap`
  }

  run(a: LszcryptAction): void {
    switch (a.kind) {
      case 'help':
        return this.io.out(lszcryptHelp())
      case 'version':
        return this.io.out(versionText(PROG, 2008, 2023))
    }
    if (!this.sys.isDir(this.bus)) errx('Crypto device driver not available.')
    switch (a.kind) {
      case 'bus':
        return this.showBus()
      case 'capability':
        return this.showCapability(a.id)
      case 'domains':
        return this.showDomains()
      case 'serial':
        return this.showSerials()
      case 'list':
        return this.list(a)
    }
  }

  private cardDirs(): string[] {
    let names: string[] = []
    try {
      names = this.sys.readdir(this.devices)
    } catch {
      names = []
    }
    return names.filter((n) => /card[0-9a-fA-F]+/.test(n)).sort(byteOrder)
  }

  private queueDirs(card: string): string[] {
    let names: string[] = []
    try {
      names = this.sys.readdir(`${this.devices}/${card}`)
    } catch {
      names = []
    }
    // sort() compares strings as byteOrder does, without a call per comparison.
    return names.filter(queueShaped).sort()
  }

  // --- listing -------------------------------------------------------------

  private list(a: Extract<LszcryptAction, {kind: 'list'}>): void {
    const features = readLine(this.sys, `${this.bus}/features`)
    const sestat = a.verbose && features !== null && features.includes('APSB')
    const cols = listColumns(a.verbose, sestat)
    const ctx: ListCtx = {...a, cols, sestat}
    this.io.out(recHeader(cols))
    if (a.ids.length === 0) {
      for (const card of this.cardDirs()) this.cardRow(ctx, card)
      this.domainWarning()
      return
    }
    a.ids.forEach((id, k) => this.listId(ctx, id, a.follow[k]))
  }

  /**
   * show_devices_argv for one id. sscanf("%x.%x") into two ints: a value
   * of 0x80000000 or more (`-c5` is -0xc5) is negative, and unless both are
   * non-negative the id is a card. Otherwise sscanf(id + 1, "%x") is a
   * domain: for an empty id, id + 1 is past its NUL, at `follow`'s bytes.
   */
  private listId(ctx: ListCtx, id: string, follow: string): void {
    const {card, domain} = scanCardDomain(id)
    const int = (v: number): number => v | 0
    if (card !== undefined && domain !== undefined && int(card) >= 0 && int(domain) >= 0) {
      const c = hex(card, 2)
      this.queueRow(ctx, `card${c}`, `${c}.${hex(domain, 4)}`)
      return
    }
    if (card !== undefined) {
      const name = `card${hex(card, 2)}`
      if (!this.sys.isDir(`${this.devices}/${name}`)) errx(`Error - cryptographic device ${name} does not exist.`)
      this.cardRow(ctx, name)
      return
    }
    const dom = id.length > 0 ? scanHex(id, 1) : scanHex(follow)
    if (dom) {
      const suffix = `.${hex(dom.value, 4)}`
      const cards = this.cardDirs()
      if (cards.length === 0) errx('No crypto card devices found.')
      for (const c of cards) {
        const q = this.queueDirs(c).find((n) => n.endsWith(suffix))
        if (!q) errx('No queue devices with given domain value found.')
        this.queueRow(ctx, c, q!)
      }
      return
    }
    this.io.out('Invalid adpater id!\n')
  }

  /** The mode letter (last character of the card's `type`) and whether it is filtered out. */
  private filtered(ctx: ListCtx, type: string | null): boolean {
    const t = type ? type[type.length - 1] : ''
    return (t === 'A' && !ctx.modes.A) || (t === 'C' && !ctx.modes.C) || (t === 'P' && !ctx.modes.P)
  }

  /**
   * A device directory whose attributes are read one after the other: the
   * files read are those of the paths the C tool builds, opened below the
   * directory (see Sys.openDir).
   */
  private openDir(path: string): SysDir {
    return this.sys.openDir(path) ?? noDir(path)
  }

  private cardRow(ctx: ListCtx, card: string): void {
    const d = this.openDir(`${this.devices}/${card}`)
    const type = readLine(d, 'type')
    const online = readLine(d, 'online')
    if (!ctx.verbose && (type === null || online === null)) return
    if (this.filtered(ctx, type)) return
    const fn = readInt(d, 'ap_functions', 16)
    const config = readInt(d, 'config')
    const chkstop = readInt(d, 'chkstop')
    const v: Record<string, string> = {
      card: card.slice(4),
      type: type || '-',
      mode: modeText(Math.max(fn, 0)),
      status: statusText(config, chkstop, online === null ? -1 : readInt(d, 'online')),
      requests: config === 0 ? '-' : (readLine(d, 'request_count') ?? ''),
    }
    if (ctx.verbose) {
      v.pending = config === 0 ? '-' : String(this.pending(d))
      v.hwtype = readLine(d, 'hwtype') ?? ''
      v.depth = String(readInt(d, 'depth')).padStart(2, '0')
      v.facility = functionsText(Math.max(fn, 0))
      v.driver = this.driver(d)
      v.sestat = '-'
    }
    if (ctx.cards) this.io.out(recRow(ctx.cols, v))
    if (!ctx.queues) return
    const queues = this.queueDirs(card)
    if (queues.length === 0) errx(`Error - no subdevices found for ${d.path}.\n`)
    for (const q of queues) this.queueRow(ctx, card, q, d)
  }

  /** One queue's row; `cd`: its card's directory, when the caller has it open. */
  private queueRow(ctx: ListCtx, card: string, queue: string, cd?: SysDir): void {
    const c = cd ?? this.openDir(`${this.devices}/${card}`)
    const q = c.openDir(queue)
    if (!q) return errx(`Error - cryptographic device ${c.path}/${queue} does not exist.`)
    const type = readLine(c, 'type')
    const online = readLine(q, 'online')
    if (!ctx.verbose && (type === null || online === null)) return
    if (!ctx.queues) return
    if (this.filtered(ctx, type)) return
    const cardFn = readInt(c, 'ap_functions', 16)
    const config = readInt(q, 'config')
    const chkstop = readInt(q, 'chkstop')
    const status = readLine(q, 'status')
    const v: Record<string, string> = {
      card: queue,
      type: type || '-',
      mode: modeText(Math.max(cardFn, 0)),
      status: statusText(config, chkstop, online === null ? -1 : readInt(q, 'online'), status ?? '-'),
      requests: config === 0 ? '-' : (readLine(q, 'request_count') ?? ''),
    }
    if (ctx.verbose) {
      const driver = this.driver(q)
      v.driver = driver
      const cardConfig = readInt(c, 'config')
      v.pending = cardConfig === 0 || !isCexQueue(driver) ? '-' : String(this.pending(q))
      v.hwtype = readLine(c, 'hwtype') ?? ''
      v.depth = String(readInt(c, 'depth')).padStart(2, '0')
      if (readLine(c, 'ap_functions') === null) errx(`Error - Read of sysfs attribute ${c.path}/ap_functions failed.`)
      v.facility = functionsText(cardFn)
      if (ctx.sestat) {
        const qfn = readLine(q, 'ap_functions')
        v.sestat = seStatText(qfn === null ? null : readInt(q, 'ap_functions', 16))
      }
    }
    this.io.out(recRow(ctx.cols, v))
  }

  private pending(d: SysDir): number {
    return Math.max(readInt(d, 'pendingq_count'), 0) + Math.max(readInt(d, 'requestq_count'), 0)
  }

  /** The last link target read and what it names (most devices share their driver). */
  private lastTarget = ''
  private lastDriver = '-no-driver-'

  private driver(d: SysDir): string {
    let target: string
    try {
      target = d.readlink('driver')
    } catch {
      return '-no-driver-'
    }
    if (target === this.lastTarget) return this.lastDriver
    const base = target.slice(target.lastIndexOf('/') + 1)
    this.lastTarget = target
    this.lastDriver = ZCRYPT_DRIVER.test(base) || VFIO_DRIVER.test(base) ? base : '-no-driver-'
    return this.lastDriver
  }

  /** The default-domain warning of "list all", -d and chzcrypt -q. */
  private domainWarning(): void {
    const mask = readLine(this.sys, `${this.bus}/ap_usage_domain_mask`) ?? ''
    const domain = readInt(this.sys, `${this.bus}/ap_domain`)
    if (domain < 0 || !mask.startsWith('0x') || !maskBit(mask, domain)) this.io.out(defaultDomainWarning(domain))
  }

  // --- -b, -c, -d, -s ---------------------------------------------------------

  private showBus(): void {
    const b = this.bus
    const features = readLine(this.sys, `${b}/features`)
    const mask = readLine(this.sys, `${b}/ap_usage_domain_mask`) ?? ''
    const domain = readInt(this.sys, `${b}/ap_domain`)
    this.io.out(
      busText({
        features: features || null,
        domain,
        domainAvailable: domain >= 0 && mask.startsWith('0x') && maskBit(mask, domain),
        maxDomain: readInt(this.sys, `${b}/ap_max_domain_id`),
        interrupts: this.sys.isFile(`${b}/ap_interrupts`) ? readInt(this.sys, `${b}/ap_interrupts`) : null,
        configTime: readInt(this.sys, `${b}/config_time`),
        pollThread: readInt(this.sys, `${b}/poll_thread`),
        pollTimeout: this.sys.isFile(`${b}/poll_timeout`) ? (readLine(this.sys, `${b}/poll_timeout`) ?? '') : null,
      }),
    )
  }

  private showCapability(id: string): void {
    const {card, domain} = scanCardDomain(id)
    if (card !== undefined && domain !== undefined) {
      const q = `${hex(card, 2)}.${hex(domain, 4)}`
      const p = `${this.devices}/card${hex(card, 2)}/${q}`
      if (!this.sys.isDir(p)) errx(`Error - cryptographic queue device ${q} does not exist.`)
      this.io.out(`queue ${q} capabilities:\n`)
      if (this.sys.isFile(`${p}/se_bind`)) this.io.out(`SE bind state: ${readLine(this.sys, `${p}/se_bind`) || 'error'}\n`)
      if (this.sys.isFile(`${p}/se_associate`))
        this.io.out(`SE association state: ${readLine(this.sys, `${p}/se_associate`) || 'error'}\n`)
      if (this.sys.isFile(`${p}/mkvps`)) {
        let text = ''
        try {
          text = this.sys.read(`${p}/mkvps`)
        } catch {
          errx(`Error - failed to open sysfs file ${p}/mkvps.`)
        }
        for (const l of text.split('\n'))
          if (/WK CUR|AES CUR|APKA CUR|ASYM CUR/.test(l)) this.io.out(`MK ${l}\n`)
      }
      return
    }
    const n = strtol(id, 0)
    if (n.end === 0 || n.end !== id.length || n.value < 0 || n.value > 255)
      errx(`Error - '${id}' is an invalid cryptographic device id.`)
    const name = `card${hex(n.value, 2)}`
    const p = `${this.devices}/${name}`
    if (!this.sys.isDir(p)) errx(`Error - cryptographic device ${name} does not exist.`)
    const hwtype = readInt(this.sys, `${p}/hwtype`)
    const fn = Math.max(readInt(this.sys, `${p}/ap_functions`, 16), 0)
    const maxMsg = Math.max(readInt(this.sys, `${p}/max_msg_size`), 0)
    if (readLine(this.sys, `${p}/type`) === null || readLine(this.sys, `${p}/online`) === null) {
      this.io.out(`Detailed capability information for ${name} (hardware type ${hwtype}) is not available.\n`)
      return
    }
    this.io.out(cardCapabilities(hwtype, fn, maxMsg, name))
  }

  private showDomains(): void {
    const control = readLine(this.sys, `${this.bus}/ap_control_domain_mask`) ?? 'not available'
    if (control.includes('not')) errx('Control domain mask not available.')
    const usage = readLine(this.sys, `${this.bus}/ap_usage_domain_mask`) ?? 'not available'
    if (usage.includes('not')) errx('Usage domain mask not available.')
    this.io.out(domainsText(control, usage))
    this.domainWarning()
  }

  private showSerials(): void {
    const cards = this.cardDirs()
    if (cards.length === 0) errx('No crypto card devices found.')
    this.io.out(recHeader(SERIAL_COLUMNS))
    // The real tool keeps these between cards when a file is missing.
    let config = -1
    let chkstop = -1
    let online = -1
    for (const card of cards) {
      const p = `${this.devices}/${card}`
      const type = readLine(this.sys, `${p}/type`)
      if (type === null || readLine(this.sys, `${p}/online`) === null) continue
      const fn = Math.max(readInt(this.sys, `${p}/ap_functions`, 16), 0)
      const mode = modeText(fn)
      if (mode !== 'CCA-Coproc' && mode !== 'EP11-Coproc') continue
      const keep = (v: number, old: number) => (v === -1 ? old : v)
      config = keep(readInt(this.sys, `${p}/config`), config)
      chkstop = keep(readInt(this.sys, `${p}/chkstop`), chkstop)
      online = keep(readInt(this.sys, `${p}/online`), online)
      const serial = (readLine(this.sys, `${p}/serialnr`) ?? '').slice(0, 8)
      this.io.out(
        recRow(SERIAL_COLUMNS, {
          card: card.slice(4),
          type,
          mode,
          status: statusText(config, chkstop, online),
          serial: serial || '-',
        }),
      )
    }
  }
}

interface ListCtx {
  verbose: boolean
  modes: {A: boolean; C: boolean; P: boolean}
  cards: boolean
  queues: boolean
  cols: Column[]
  sestat: boolean
}

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0')
