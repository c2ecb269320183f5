// The virsh drop-in's main: global options, the connection (which host of
// the state `-c URI` names), one command, and virsh's output frame.

import {type Env, writeOut} from '../cli/env.js'
import {AplabError} from '../core/errors.js'
import type {Host, World} from '../core/model.js'
import {ROOT_UID} from '../core/perm.js'
import {VirError, VirshFailure} from './errors.js'
import {COMMANDS, type VirshEnv, readOnlyCommand, runCommand} from './virsh.js'
import {parseCommand} from './vshparse.js'
import {newUuid} from '../cli/uuid.js'

/** The libvirt release virsh reports (`virsh --version`). */
export const LIBVIRT_VERSION = '11.6.0'

export interface VirshIo {
  stdout: string
  stderr: string
  code: number
  /** How much of stdout virsh had flushed when it wrote stderr (default: all of it). */
  split?: number
}

export interface VirshHooks {
  /** Run fn on the state: without the lock (read) or under it, saving what it changed (write). Throwing saves nothing. */
  onWorld: <T>(mode: 'read' | 'write', fn: (w: World) => T) => Promise<T>
  readFile: (path: string) => string
  newUuid: () => string
  /** $LIBVIRT_DEFAULT_URI */
  defaultUri?: string
  /** --host / $APLAB_HOST: the default connection's host. */
  host?: string
  /** The caller ($APLAB_UID): only root may manage the system connection. */
  uid?: number
}

const usage = (): string =>
  [
    '',
    '                    virsh [options]... [<command_string>]',
    '                    virsh [options]... <command> [args...]',
    '',
    '  options:',
    '    -c | --connect=URI      hypervisor connection URI',
    '    -h | --help             this help',
    '    -q | --quiet            quiet mode',
    '    -r | --readonly         connect readonly',
    '    -v                      short version',
    '    -V                      long version',
    '         --version[=TYPE]   version, TYPE is short or long (default short)',
    '  commands (aplab emulates these; see virsh(1)):',
    ...COMMANDS.map((c) => `    ${c.name.padEnd(24)}${c.summary}`),
    '',
    '',
  ].join('\n')

/** Which host a connection URI names: the local one (qemu:///system), or another host of the state. */
function connect(w: World, uri: string | undefined, dflt: string | undefined): Host {
  const local = (): Host => {
    const want = dflt ?? w.current
    const h = w.hosts.find((x) => x.name === want)
    if (!h) throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('SYSTEM_ERROR', `Cannot recv data: ssh: Could not resolve hostname ${want}: Name or service not known: Connection reset by peer`))
    return h
  }
  if (uri === undefined || uri === 'qemu:///system' || uri === 'qemu:///session') return local()
  const m = /^qemu(?:\+(?:ssh|tcp|tls|libssh|libssh2|unix))?:\/\/(?:[^@/]*@)?([^/:?]*)(?::\d+)?\/(?:system|session)(?:\?.*)?$/.exec(uri)
  if (!m) throw new VirshFailure(['failed to connect to the hypervisor'], new VirError('NO_CONNECT', uri))
  if (m[1] === '' || m[1] === 'localhost') return local()
  const h = w.hosts.find((x) => x.name === m[1])
  if (!h)
    throw new VirshFailure(
      ['failed to connect to the hypervisor'],
      new VirError('SYSTEM_ERROR', `Cannot recv data: ssh: Could not resolve hostname ${m[1]}: Name or service not known: Connection reset by peer`),
    )
  return h
}

export async function runVirsh(argv: readonly string[], hooks: VirshHooks): Promise<VirshIo> {
  let stdout = ''
  let stderr = ''
  const errLines = (f: VirshFailure): void => {
    stderr += f.stderr
  }
  let uri = hooks.defaultUri || undefined
  let quiet = false
  let readonly = false
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-c' || a === '--connect') {
      if (argv[i + 1] === undefined) return {stdout, stderr: "error: option '-c' requires an argument\n", code: 1}
      uri = argv[++i]
    } else if (a.startsWith('--connect=')) uri = a.slice('--connect='.length)
    else if (a === '-q' || a === '--quiet') quiet = true
    else if (a === '-r' || a === '--readonly') readonly = true
    else if (a === '-v' || a === '--version' || a === '--version=short') return {stdout: LIBVIRT_VERSION + '\n', stderr, code: 0}
    else if (a === '-V' || a === '--version=long') return {stdout: `Virsh command line tool of libvirt ${LIBVIRT_VERSION}\n`, stderr, code: 0}
    else if (a === '-h' || a === '--help') return {stdout: usage(), stderr, code: 0}
    else if (a.startsWith('-') && a !== '-') return {stdout, stderr: `virsh: unrecognized option '${a}'\n`, code: 1}
    else break
  }
  const name = argv[i]
  if (name === undefined || name === 'help') return {stdout: usage(), stderr, code: 0}
  if (name === 'version') {
    // Reports the daemon's and QEMU's versions too.
    return {
      stdout: `Compiled against library: libvirt ${LIBVIRT_VERSION}\nUsing library: libvirt ${LIBVIRT_VERSION}\nUsing API: QEMU ${LIBVIRT_VERSION}\nRunning hypervisor: QEMU 10.1.0\n` + (quiet ? '' : '\n'),
      stderr,
      code: 0,
    }
  }
  const def = COMMANDS.find((c) => c.name === name)
  if (!def) return {stdout, stderr: `error: unknown command: '${name}'\n`, code: 1}
  let parsed
  try {
    parsed = parseCommand(def, argv.slice(i + 1))
  } catch (e) {
    if (!(e instanceof VirshFailure)) throw e
    errLines(e)
    return {stdout, stderr, code: 1}
  }
  let code = 0
  let out = ''
  let connected = false
  try {
    await hooks.onWorld(readonly || readOnlyCommand(name) ? 'read' : 'write', (world) => {
      const host = connect(world, uri, hooks.host)
      // libvirtd's polkit rule: an unprivileged caller gets the read-only socket only.
      if ((hooks.uid ?? ROOT_UID) !== ROOT_UID && !readonly)
        throw new VirshFailure(
          ['failed to connect to the hypervisor'],
          new VirError('AUTH_UNAVAILABLE', "no polkit agent available to authenticate action 'org.libvirt.unix.manage'"),
        )
      connected = true
      const env: VirshEnv = {host, world, readFile: hooks.readFile, newUuid: hooks.newUuid, readonly}
      try {
        runCommand(env, parsed, {out: (t) => (out += t), extra: (t) => (out += quiet ? '' : t), quiet})
      } finally {
        // vshError flushes stdout before it writes the error.
        stdout += out
        out = ''
      }
    })
  } catch (e) {
    if (!(e instanceof VirshFailure)) throw e
    // virsh connects before it runs the command: no command, no blank line after it.
    if (!connected) return {stdout, stderr: e.stderr, code: 1}
    errLines(e)
    code = 1
  }
  const split = stdout.length
  if (!quiet) stdout += '\n'
  return {stdout, stderr, code, split}
}

/**
 * The drop-in: the state from the environment, files relative to the caller.
 * It runs from a bundle of its own, so aplab's errors (a state file that
 * cannot be read) are reported here, as the dispatcher would.
 */
export async function virshTool(argv: readonly string[], env: Env): Promise<number> {
  try {
    return await virshInner(argv, env)
  } catch (e) {
    if (!(e instanceof AplabError)) throw e
    writeOut(2, `virsh: ${e.message}\n`)
    return e.exitCode
  }
}

async function virshInner(argv: readonly string[], env: Env): Promise<number> {
  const [fs, store] = await Promise.all([import('node:fs'), import('../state/store.js')])
  const r = await runVirsh(argv, {
    onWorld: async (mode, fn) => (mode === 'read' ? fn(await store.load(env.state)) : store.mutate(env.state, fn)),
    readFile: (p) => fs.readFileSync(p, 'utf8'),
    newUuid,
    defaultUri: process.env.LIBVIRT_DEFAULT_URI,
    host: env.host,
    uid: env.uid,
  })
  const split = r.split ?? r.stdout.length
  if (split > 0) writeOut(1, r.stdout.slice(0, split))
  if (r.stderr) writeOut(2, r.stderr)
  if (r.stdout.length > split) writeOut(1, r.stdout.slice(split))
  return r.code
}
