// `aplab shell` and `aplab shellenv`: a command run against the live host.
// The shell runs util-linux `unshare` (a private mount namespace; a user
// namespace too where the caller is not root) with inner.ts inside, which
// mounts the live host and lays it over /sys, /proc's files and /etc's
// directories for that namespace only, then runs the command with the
// drop-ins first on PATH. The real machine's /sys and /etc are never touched.

import {spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {AplabError} from '../core/errors.js'
import {shQuote} from '../views/shell.js'
import {fuseMissing} from './mount.js'
import {handOverTerminal} from '../cli/env.js'
import {packageRoot} from '../cli/package.js'

/** What the namespace side needs to know (passed in the environment as JSON). */
export interface ShellConfig {
  state: string
  host?: string
  /** An empty directory of the caller's for the mount point (and /etc's overlay), removed afterwards. */
  tmp: string
  /** The drop-ins' directory, put first on PATH. */
  binDir: string
  cmd: string[]
}

export const CONFIG_VAR = 'APLAB_SHELL_CONFIG'


/** The folder of the drop-ins under their real names (lszcrypt, modprobe, qemu-system-s390x, ...). */
export const dropInDir = (): string => path.join(packageRoot(), 'bin', 'path')

const shq = (s: string): string => shQuote(s)

/** `aplab shellenv`: sh code that puts the drop-ins first on PATH and exports the state (and host). */
export function shellenvText(state: string, host?: string): string {
  return [
    `export PATH=${shq(dropInDir())}"\${PATH:+:\$PATH}"`,
    `export APLAB_STATE=${shq(state)}`,
    ...(host ? [`export APLAB_HOST=${shq(host)}`] : []),
    '',
  ].join('\n')
}

const SIG_NUM = os.constants.signals as Record<string, number>

/** The shell's exit status for a child: its code, or 128 + the signal's number as sh reports it. */
export const exitStatus = (code: number | null, signal: NodeJS.Signals | null): number => (signal ? 128 + (SIG_NUM[signal] ?? 0) : (code ?? 1))

/** Run `cmd` (default: $SHELL) in a private mount namespace over the live host; its exit status. */
export async function runShell(state: string, host: string | undefined, cmd: string[]): Promise<number> {
  const missing = fuseMissing()
  if (missing) throw new AplabError(missing)
  const root = process.geteuid?.() === 0
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aplab-shell-'))
  const config: ShellConfig = {state, host, tmp, binDir: dropInDir(), cmd: cmd.length > 0 ? cmd : [process.env.SHELL || '/bin/sh']}
  const inner = path.join(packageRoot(), 'dist', 'live', 'inner.js')
  const args = [...(root ? [] : ['--user', '--map-root-user']), '--mount', '--propagation', 'private', '--', process.execPath, inner]
  try {
    return await new Promise<number>((resolve, reject) => {
      handOverTerminal()
      const child = spawn('unshare', args, {stdio: 'inherit', env: {...process.env, [CONFIG_VAR]: JSON.stringify(config)}})
      // Like a shell waiting for its child: the terminal's signals are the child's to act on.
      const ignore = (): void => undefined
      const pass = (s: NodeJS.Signals) => () => void child.kill(s)
      const handlers: Array<[NodeJS.Signals, () => void]> = [
        ['SIGINT', ignore],
        ['SIGQUIT', ignore],
        ['SIGTERM', pass('SIGTERM')],
        ['SIGHUP', pass('SIGHUP')],
      ]
      for (const [s, h] of handlers) process.on(s, h)
      const done = (): void => {
        for (const [s, h] of handlers) process.off(s, h)
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        done()
        reject(new AplabError(e.code === 'ENOENT' ? 'cannot run unshare: util-linux is not installed (apt-get install util-linux)' : `cannot run unshare: ${e.message}`))
      })
      child.on('exit', (code, signal) => {
        done()
        resolve(exitStatus(code, signal))
      })
    })
  } finally {
    removeEmptyTree(tmp)
  }
}

/**
 * Remove the shell's folder: outside the namespace its mount points are
 * empty folders. Only empty folders are removed (rmdir, never a recursive
 * delete), so nothing that could be a mount is ever walked into.
 */
export function removeEmptyTree(dir: string): void {
  let entries: string[] = []
  try {
    entries = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const e of entries) {
    const p = path.join(dir, e)
    try {
      if (fs.lstatSync(p).isDirectory()) removeEmptyTree(p)
    } catch {
      // gone already
    }
  }
  try {
    fs.rmdirSync(dir)
  } catch {
    // not empty: leave it
  }
}
