// virsh's domain commands on the emulated host: the command table, what
// each prints (tools/virsh-domain.c, virsh-domain-monitor.c), and the
// runner's frame (tools/vsh.c: "error: " lines on stderr, a blank line on
// stdout after every command unless --quiet, exit status 1 on failure).

import type {Host, LibvirtDomain, World} from '../core/model.js'
import * as drv from './driver.js'
import {VirError, VirshFailure, failWith} from './errors.js'
import {monitorCommand} from './monitor.js'
import type * as Nd from './nodedev.js'
import {type CmdDef, type OptDef, type ParsedCmd, parseCommand} from './vshparse.js'

/** What a command needs from outside: the world, files, fresh UUIDs. */
export interface VirshEnv {
  /** The host `-c URI` (or the default connection) names. */
  host: Host
  world: World
  /** Read a file given on the command line (virFileReadAll). */
  readFile: (path: string) => string
  newUuid: () => string
  /** Connected read only (-r): every API that changes something is refused. */
  readonly: boolean
}

/** A read-only connection refuses the APIs that change something (VIR_ERR_OPERATION_DENIED). */
function allow(env: VirshEnv, api: string): void {
  if (env.readonly) throw new VirError('OPERATION_DENIED', `read only access prevents ${api}`)
}

/** One API call of a command: refused on a read-only connection, its failure reported as `failed` (vshError then the error). */
function act(env: VirshEnv, api: string, call: () => void, failed: string): void {
  try {
    allow(env, api)
    call()
  } catch (e) {
    failWith(failed, e)
  }
}

export interface VirshOut {
  /** Data (vshPrint). */
  out: (s: string) => void
  /** Messages --quiet suppresses (vshPrintExtra). */
  extra: (s: string) => void
  /** --quiet: tables have no header (vshTablePrintToStdout). */
  quiet?: boolean
}

const b = (name: string): OptDef => ({name, type: 'bool', help: ''})
const s = (name: string, o: Partial<OptDef> = {}): OptDef => ({name, type: 'string', help: '<string>', ...o})
const dom = s('domain', {positional: true, required: true})
const device = s('device', {positional: true, required: true})
const file = s('file', {positional: true, required: true})
const affect = [b('persistent'), b('config'), b('live'), b('current')]
const affectExclusive: Array<[string, string]> = [
  ['current', 'live'],
  ['current', 'config'],
  ['current', 'persistent'],
]

export const COMMANDS: CmdDef[] = [
  {name: 'define', summary: 'define (but don\'t start) a domain from an XML file', opts: [file, b('validate')]},
  {name: 'undefine', summary: 'undefine a domain', opts: [dom, b('managed-save'), b('nvram'), b('keep-nvram')]},
  {name: 'start', summary: 'start a (previously defined) inactive domain', opts: [dom, b('console'), b('paused'), b('autodestroy'), b('bypass-cache'), b('force-boot')]},
  {name: 'destroy', summary: 'destroy (stop) a domain', opts: [dom, b('graceful')]},
  {name: 'suspend', summary: 'suspend a domain', opts: [dom]},
  {name: 'resume', summary: 'resume a domain', opts: [dom]},
  {name: 'shutdown', summary: 'gracefully shutdown a domain', opts: [dom, s('mode')]},
  {name: 'reboot', summary: 'reboot a domain', opts: [dom, s('mode')]},
  {
    name: 'list',
    summary: 'list domains',
    opts: [b('inactive'), b('all'), b('transient'), b('persistent'), b('autostart'), b('no-autostart'), b('state-running'), b('state-paused'), b('state-shutoff'), b('state-other'), b('uuid'), b('name'), b('id'), b('table'), b('title')],
    exclusive: [
      ['table', 'name'],
      ['table', 'uuid'],
      ['table', 'id'],
    ],
  },
  {name: 'dominfo', summary: 'domain information', opts: [dom]},
  {name: 'domstate', summary: 'domain state', opts: [dom, b('reason')]},
  {name: 'dumpxml', summary: 'domain information in XML', opts: [dom, b('inactive'), b('security-info'), b('update-cpu'), b('migratable')]},
  {name: 'autostart', summary: 'autostart a domain', opts: [dom, b('disable')]},
  {name: 'attach-device', summary: 'attach device from an XML file', opts: [dom, file, ...affect], exclusive: affectExclusive},
  {name: 'detach-device', summary: 'detach device from an XML file', opts: [dom, file, ...affect], exclusive: affectExclusive},
  {
    name: 'qemu-monitor-command',
    summary: 'QEMU Monitor Command',
    opts: [dom, b('hmp'), b('pretty'), b('return-value'), {name: 'cmd', type: 'argv', positional: true, required: true, help: '<string>'}],
    exclusive: [
      ['hmp', 'pretty'],
      ['hmp', 'return-value'],
    ],
  },
  {name: 'nodedev-list', summary: 'enumerate devices on this host', opts: [b('tree'), s('cap'), b('inactive'), b('all')]},
  {name: 'nodedev-dumpxml', summary: 'node device details in XML', opts: [device, b('inactive')]},
  {name: 'nodedev-info', summary: 'node device information', opts: [device]},
  {name: 'nodedev-define', summary: 'Define a device by an xml file on a node', opts: [file, b('validate')]},
  {name: 'nodedev-create', summary: 'create a device defined by an XML file on the node', opts: [file, b('validate')]},
  {name: 'nodedev-start', summary: 'Start an inactive node device', opts: [device]},
  {name: 'nodedev-destroy', summary: 'destroy (stop) a device on the node', opts: [device]},
  {name: 'nodedev-undefine', summary: 'Undefine an inactive node device', opts: [device]},
  {name: 'nodedev-autostart', summary: 'autostart a defined node device', opts: [device, b('disable')]},
  {
    name: 'migrate',
    summary: 'migrate domain to another host',
    opts: [
      b('live'),
      b('offline'),
      b('p2p'),
      b('direct'),
      b('tunnelled'),
      b('persistent'),
      b('undefinesource'),
      b('suspend'),
      b('verbose'),
      b('unsafe'),
      b('auto-converge'),
      dom,
      s('desturi', {positional: true, required: true}),
      s('migrateuri', {positional: true}),
      s('dname'),
    ],
  },
]

const STATE_WORD = (host: Host, d: LibvirtDomain): string => drv.stateOf(host, d)

function domainOf(env: VirshEnv, p: ParsedCmd): LibvirtDomain {
  const arg = p.strings.get('domain')!
  try {
    return drv.lookup(env.host, arg)
  } catch (e) {
    return failWith(`failed to get domain '${arg}'`, e)
  }
}

/** virFileReadAll's failure: one line, no context line of the command. */
function readXml(env: VirshEnv, path: string): string {
  try {
    return env.readFile(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const text = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : code === 'EISDIR' ? 'Is a directory' : 'Input/output error'
    throw new VirshFailure([`Failed to open file '${path}': ${text}`])
  }
}

/** wcwidth in a UTF-8 locale: combining marks 0, East Asian wide and fullwidth 2, the rest 1. */
function wcwidth(ch: string): number {
  if (/\p{Mn}|\p{Me}|\p{Cf}/u.test(ch)) return 0
  const c = ch.codePointAt(0)!
  const wide =
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf && c !== 0x303f) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  return wide ? 2 : 1
}

const hex = (b: number): string => '\\x' + b.toString(16).padStart(2, '0')

/**
 * vsh-table.c vshTableSafeEncode (util-linux's mbs_safe_encode): ASCII
 * control characters and the backslash of a `\x` as `\xHH`, characters a
 * UTF-8 locale cannot print as `\xHH` per byte; the width on the terminal.
 */
export function safeEncode(s: string): {text: string; width: number} {
  let text = ''
  let width = 0
  const chars = [...s]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]
    const c = ch.codePointAt(0)!
    if (c < 0x20 || c === 0x7f || (ch === '\\' && chars[i + 1] === 'x')) {
      text += hex(c)
      width += 4
    } else if (c < 0x80) {
      text += ch
      width++
    } else if ((c >= 0x80 && c <= 0x9f) || /\p{Cs}|\p{Co}|\p{Cn}/u.test(ch)) {
      for (const b of Buffer.from(ch, 'utf8')) text += hex(b)
      width += 4 * Buffer.byteLength(ch, 'utf8')
    } else {
      text += ch
      width += wcwidth(ch)
    }
  }
  return {text, width}
}

/** A table as vsh-table.c prints it; without the header (--quiet) its widths do not count either. */
function table(rows: string[][], header = true): string {
  const cells = rows.map((r) => r.map(safeEncode))
  const counted = header ? cells : cells.slice(1)
  const widths = cells[0].map((_, c) => Math.max(0, ...counted.map((r) => r[c].width)))
  const line = (r: Array<{text: string; width: number}>): string =>
    r.map((cell, c) => ' ' + cell.text + (c < r.length - 1 ? ' '.repeat(widths[c] - cell.width + 2) : '')).join('') + '\n'
  const body = cells.slice(1).map(line).join('')
  return header ? line(cells[0]) + '-'.repeat(widths.reduce((a, w) => a + w + 3, 0)) + '\n' + body : body
}

function list(env: VirshEnv, p: ParsedCmd, io: VirshOut): void {
  const h = env.host
  const has = (n: string): boolean => p.bools.has(n)
  // cmdList's flags: active domains; --inactive or --state-shutoff: inactive ones instead; --all: both (it wins).
  const inactiveOnly = !has('all') && (has('inactive') || has('state-shutoff'))
  let doms = drv.domains(h).filter((d) => has('all') || drv.isActive(h, d) !== inactiveOnly)
  if (has('persistent') && !has('transient')) doms = doms.filter((d) => d.config !== null)
  if (has('transient') && !has('persistent')) doms = doms.filter((d) => d.config === null)
  if (has('autostart') && !has('no-autostart')) doms = doms.filter((d) => d.autostart)
  if (has('no-autostart') && !has('autostart')) doms = doms.filter((d) => !d.autostart)
  // VIR_CONNECT_LIST_DOMAINS_RUNNING/PAUSED/SHUTOFF/OTHER: aplab's domains are in one of the first three.
  if (has('state-running') || has('state-paused') || has('state-shutoff') || has('state-other'))
    doms = doms.filter((d) => has({running: 'state-running', paused: 'state-paused', 'shut off': 'state-shutoff'}[drv.stateOf(h, d)]))
  const active = doms.filter((d) => drv.isActive(h, d)).sort((a, c) => a.live!.id - c.live!.id)
  const inactive = doms.filter((d) => !drv.isActive(h, d)).sort((a, c) => (a.name.toLowerCase() < c.name.toLowerCase() ? -1 : a.name.toLowerCase() > c.name.toLowerCase() ? 1 : 0))
  const sorted = [...active, ...inactive]
  const idOf = (d: LibvirtDomain): string => (drv.isActive(h, d) ? String(d.live!.id) : '-')
  if (has('name') || has('uuid') || has('id')) {
    for (const d of sorted) {
      if (has('id') && !has('name') && !has('uuid') && !drv.isActive(h, d)) continue
      const f = [...(has('uuid') ? [d.uuid] : []), ...(has('id') ? [idOf(d)] : []), ...(has('name') ? [d.name] : [])]
      io.out(f.join(' ') + '\n')
    }
    return
  }
  // --title: virDomainGetMetadata(VIR_DOMAIN_METADATA_TITLE) of the current definition, '' when it has none.
  const title = (d: LibvirtDomain): string => (drv.isActive(h, d) ? drv.liveDef(h, d) : drv.configDef(d)).title ?? ''
  const head = has('title') ? ['Id', 'Name', 'State', 'Title'] : ['Id', 'Name', 'State']
  io.out(table([head, ...sorted.map((d) => [idOf(d), d.name, STATE_WORD(h, d), ...(has('title') ? [title(d)] : [])])], !io.quiet))
}

function dominfo(env: VirshEnv, d: LibvirtDomain, io: VirshOut): void {
  const h = env.host
  const active = drv.isActive(h, d)
  const def = active ? drv.liveDef(h, d) : drv.configDef(d)
  const line = (label: string, value: string): void => io.out(`${label.padEnd(15)} ${value}\n`)
  line('Id:', active ? String(d.live!.id) : '-')
  line('Name:', d.name)
  line('UUID:', d.uuid)
  line('OS Type:', 'hvm')
  line('State:', STATE_WORD(h, d))
  line('CPU(s):', String(def.vcpus))
  // virDomainGetInfo's cpuTime, printed when not 0: a running domain's QEMU process has used CPU.
  if (active) line('CPU time:', `${(drv.cpuTime(h, d) / 1e9).toFixed(1)}s`)
  line('Max memory:', `${def.memory} KiB`)
  line('Used memory:', `${def.currentMemory} KiB`)
  line('Persistent:', d.config !== null ? 'yes' : 'no')
  line('Autostart:', d.autostart ? 'enable' : 'disable')
  line('Managed save:', 'no')
}

/** The connection `migrate` opens to DESTURI: an aplab host of the same state. */
function destination(env: VirshEnv, uri: string): Host {
  const m = /^qemu(?:\+(ssh|tcp|tls|libssh|libssh2))?:\/\/(?:[^@/]*@)?([^/:?]*)(?::\d+)?\/(system|session)(?:\?.*)?$/.exec(uri)
  if (!m) throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('NO_CONNECT', uri))
  const name = m[2]
  const target = name === '' ? env.host : env.world.hosts.find((x) => x.name === name)
  if (!target) {
    const why =
      m[1] === 'ssh' || m[1] === undefined
        ? `Cannot recv data: ssh: Could not resolve hostname ${name}: Name or service not known: Connection reset by peer`
        : `unable to connect to server at '${name}:${m[1] === 'tls' ? 16514 : 16509}': Name or service not known`
    throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('SYSTEM_ERROR', why))
  }
  return target
}

/**
 * Run one parsed command; throws VirshFailure on failure. The node device
 * commands' module (with mdevctl and its ap-check callout) is loaded only
 * for one of them: it cost every other command a third of its time.
 */
export async function runCommand(env: VirshEnv, p: ParsedCmd, io: VirshOut): Promise<void> {
  const h = env.host
  const w = env.world
  const name = p.def.name
  switch (name) {
    case 'define': {
      const path = p.strings.get('file')!
      const xml = readXml(env, path)
      try {
        allow(env, p.bools.has('validate') ? 'virDomainDefineXMLFlags' : 'virDomainDefineXML')
        const d = drv.define(w, h, xml, env.newUuid)
        io.extra(`Domain '${d.name}' defined from ${path}\n`)
      } catch (e) {
        failWith(`Failed to define domain from ${path}`, e)
      }
      return
    }
    case 'list':
      return list(env, p, io)
  }
  if (name.startsWith('nodedev-')) return nodedev(env, p, io, await import('./nodedev.js'))
  const d = domainOf(env, p)
  switch (name) {
    case 'undefine':
      act(env, 'virDomainUndefineFlags', () => drv.undefine(h, d), `Failed to undefine domain '${d.name}'`)
      io.extra(`Domain '${d.name}' has been undefined\n`)
      return
    case 'start':
      if (drv.isActive(h, d)) throw new VirshFailure(['Domain is already active'])
      // --paused asks virDomainCreateWithFlags to leave the CPUs stopped.
      act(env, p.bools.has('paused') ? 'virDomainCreateWithFlags' : 'virDomainCreate', () => drv.start(w, h, d, {paused: p.bools.has('paused')}), `Failed to start domain '${d.name}'`)
      io.extra(`Domain '${d.name}' started\n`)
      return
    case 'destroy':
      act(env, p.bools.has('graceful') ? 'virDomainDestroyFlags' : 'virDomainDestroy', () => drv.destroy(h, d), `Failed to destroy domain '${d.name}'`)
      io.extra(`Domain '${d.name}' destroyed\n`)
      return
    case 'suspend':
      act(env, 'virDomainSuspend', () => drv.suspend(h, d), `Failed to suspend domain '${d.name}'`)
      io.extra(`Domain '${d.name}' suspended\n`)
      return
    case 'resume':
      act(env, 'virDomainResume', () => drv.resume(h, d), `Failed to resume domain '${d.name}'`)
      io.extra(`Domain '${d.name}' resumed\n`)
      return
    case 'shutdown':
      act(env, p.strings.has('mode') ? 'virDomainShutdownFlags' : 'virDomainShutdown', () => drv.shutdown(h, d), `Failed to shutdown domain '${d.name}'`)
      io.extra(`Domain '${d.name}' is being shutdown\n`)
      return
    case 'reboot':
      act(env, 'virDomainReboot', () => drv.reboot(h, d), `Failed to reboot domain '${d.name}'`)
      io.extra(`Domain '${d.name}' is being rebooted\n`)
      return
    case 'dominfo':
      return dominfo(env, d, io)
    case 'domstate': {
      const active = drv.isActive(h, d)
      io.out(p.bools.has('reason') ? `${STATE_WORD(h, d)} (${active ? d.reason : d.reason === 'booted' ? 'unknown' : d.reason})\n` : `${STATE_WORD(h, d)}\n`)
      return
    }
    case 'dumpxml':
      io.out(drv.dumpXml(h, d, p.bools.has('inactive')))
      return
    case 'autostart': {
      const off = p.bools.has('disable')
      act(env, 'virDomainSetAutostart', () => drv.setAutostart(h, d, !off), off ? `Failed to unmark domain '${d.name}' as autostarted` : `Failed to mark domain '${d.name}' as autostarted`)
      io.extra(off ? `Domain '${d.name}' unmarked as autostarted\n` : `Domain '${d.name}' marked as autostarted\n`)
      return
    }
    case 'attach-device':
    case 'detach-device': {
      const attach = name === 'attach-device'
      const path = p.strings.get('file')!
      const xml = readXml(env, path)
      try {
        const flagged = ['live', 'config', 'persistent', 'current'].some((f) => p.bools.has(f))
        allow(env, `virDomain${attach ? 'Attach' : 'Detach'}Device${flagged ? 'Flags' : ''}`)
        const flags = drv.impact(h, d, {live: p.bools.has('live'), config: p.bools.has('config'), persistent: p.bools.has('persistent')})
        if (attach) drv.attachDevice(h, d, xml, flags)
        else drv.detachDevice(h, d, xml, flags)
      } catch (e) {
        failWith(`Failed to ${attach ? 'attach' : 'detach'} device from ${path}`, e)
      }
      io.extra(attach ? 'Device attached successfully\n' : 'Device detached successfully\n')
      return
    }
    case 'qemu-monitor-command': {
      if (env.readonly) throw new VirshFailure([], new VirError('OPERATION_DENIED', 'read only access prevents virDomainQemuMonitorCommand'))
      const out = monitorCommand(h, d, p.argv.join(' '), {hmp: p.bools.has('hmp'), pretty: p.bools.has('pretty'), returnValue: p.bools.has('return-value')})
      io.out(out + '\n')
      return
    }
    case 'migrate': {
      const target = destination(env, p.strings.get('desturi')!)
      if (target === h) throw new VirshFailure([], new VirError('OPERATION_INVALID', `Attempt to migrate guest to the same host ${h.name}`))
      try {
        allow(env, 'virDomainMigrateToURI3')
        drv.migrate(w, h, d, target, {persistent: p.bools.has('persistent'), undefineSource: p.bools.has('undefinesource'), suspend: p.bools.has('suspend')})
      } catch (e) {
        if (e instanceof VirError) throw new VirshFailure([], e)
        throw e
      }
      return
    }
  }
  throw new VirshFailure([`unknown command: '${name}'`])
}

/** virsh-nodedev.c: the node device commands. */
function nodedev(env: VirshEnv, p: ParsedCmd, io: VirshOut, nd: typeof Nd): void {
  const h = env.host
  const name = p.def.name
  if (name === 'nodedev-list') {
    const tree = p.bools.has('tree')
    const all = p.bools.has('all')
    const inactive = p.bools.has('inactive')
    const capArg = p.strings.get('cap')
    if (all && inactive) throw new VirshFailure(['Option --all is incompatible with --inactive'])
    if (tree && (capArg !== undefined || inactive)) throw new VirshFailure(['Option --tree is incompatible with --cap and --inactive'])
    let caps: string[] | null = null
    if (capArg !== undefined) {
      // vshStringToArray: split at commas (",," is a literal comma), nothing trimmed.
      caps = capArg.split(/(?<!,),(?!,)/).map((c) => c.replace(/,,/g, ','))
      if (caps.some((c) => !nd.CAP_NAMES.includes(c))) throw new VirshFailure(['Invalid capability type'])
    }
    const devs = nd.listNodeDevices(h, {caps, which: all ? 'all' : inactive ? 'inactive' : 'active'})
    io.out(tree ? nd.treeText(devs) : devs.map((d) => d.name + '\n').join(''))
    return
  }
  const file = p.strings.get('file')
  if (name === 'nodedev-define' || name === 'nodedev-create') {
    const xml = readXml(env, file!)
    const define = name === 'nodedev-define'
    try {
      allow(env, define ? 'virNodeDeviceDefineXML' : 'virNodeDeviceCreateXML')
      const dev = define ? nd.defineMdev(h, xml, env.newUuid) : nd.createMdev(h, xml, env.newUuid)
      io.extra(define ? `Node device '${dev}' defined from '${file}'\n` : `Node device ${dev} created from ${file}\n`)
    } catch (e) {
      failWith(define ? `Failed to define node device from '${file}'` : `Failed to create node device from ${file}`, e)
    }
    return
  }
  const arg = p.strings.get('device')!
  let d: Nd.NodeDev
  try {
    d = nd.findNodeDev(h, arg)
  } catch (e) {
    return failWith(`Could not find matching device '${arg}'`, e)
  }
  switch (name) {
    case 'nodedev-dumpxml': {
      const inactive = p.bools.has('inactive')
      if (inactive && !d.persistent) throw new VirshFailure([], new VirError('OPERATION_INVALID', `node device '${d.name}' is not persistent`))
      io.out(nd.nodeDevXml(d, inactive))
      return
    }
    case 'nodedev-info': {
      const line = (label: string, value: string): void => io.out(`${label.padEnd(15)} ${value}\n`)
      line('Name:', d.name)
      line('Parent:', d.parent ?? '')
      line('Active:', d.active ? 'yes' : 'no')
      line('Persistent:', d.persistent ? 'yes' : 'no')
      line('Autostart:', d.autostart ? 'yes' : 'no')
      return
    }
    case 'nodedev-start':
      act(env, 'virNodeDeviceCreate', () => nd.startMdev(h, d), `Failed to start device ${arg}`)
      io.extra(`Device ${arg} started\n`)
      return
    case 'nodedev-destroy':
      act(env, 'virNodeDeviceDestroy', () => nd.destroyMdev(h, d), `Failed to destroy node device '${arg}'`)
      io.extra(`Destroyed node device '${arg}'\n`)
      return
    case 'nodedev-undefine':
      act(env, 'virNodeDeviceUndefine', () => nd.undefineMdev(h, d), `Failed to undefine node device '${arg}'`)
      io.extra(`Undefined node device '${arg}'\n`)
      return
    case 'nodedev-autostart': {
      const off = p.bools.has('disable')
      act(env, 'virNodeDeviceSetAutostart', () => nd.autostartMdev(h, d, !off), off ? `failed to unmark device ${arg} as autostarted` : `failed to mark device ${arg} as autostarted`)
      io.extra(off ? `Device ${arg} unmarked as autostarted\n` : `Device ${arg} marked as autostarted\n`)
      return
    }
  }
}

/** Whether a command line only reads the state (it then runs without the lock). */
export function readOnlyCommand(name: string): boolean {
  return ['list', 'dominfo', 'domstate', 'dumpxml', 'nodedev-list', 'nodedev-dumpxml', 'nodedev-info'].includes(name)
}
