// The namespace side of `aplab shell` (run by unshare as `node inner.js`).
// Two mount namespaces, one inside the other:
// - this one, where the FUSE server (server.ts, a process of its own so
//   that no program it starts holds /dev/fuse) mounts the live host on a
//   folder and nothing else changes: the server itself must never find
//   its own mount at /sys or /etc, or a read of its own files would wait
//   for itself;
// - a second one (unshare again), which inherits that mount and lays it
//   over /sys, /proc/cmdline, /proc/cio_ignore and /proc/modules (where
//   this machine's /proc has them), /etc/mdevctl.d and /etc/udev/rules.d, then runs the
//   command with the drop-ins first on PATH.
// This process exits with the command's status.

import {type ChildProcess, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {errorMessage} from '../cli/env.js'
import {CONFIG_VAR, type ShellConfig, exitStatus} from './shell.js'

const SERVER_VAR = 'APLAB_SERVER_CONFIG'

/**
 * Run by sh in the command's namespace: $1 the mount, $2 a folder for an
 * overlay of /etc, then the command. A directory of /etc this machine
 * lacks is made in an overlay of /etc that only this namespace sees.
 */
const LAY_OVER = `
m=$1 ov=$2; shift 2
fail() { echo "aplab: cannot lay the live host over $1" >&2; exit 1; }
mount --bind "$m/sys" /sys || fail /sys
for f in cmdline cio_ignore modules; do
  if [ -e "/proc/$f" ]; then mount --bind "$m/proc/$f" "/proc/$f" || fail "/proc/$f"; fi
done
if [ ! -d /etc/mdevctl.d ] || [ ! -d /etc/udev/rules.d ]; then
  mount -t tmpfs aplab-etc "$ov" && mkdir "$ov/upper" "$ov/work" &&
    mount -t overlay aplab-etc -o "lowerdir=/etc,upperdir=$ov/upper,workdir=$ov/work" /etc &&
    mkdir -p /etc/mdevctl.d /etc/udev/rules.d || fail /etc
fi
for d in mdevctl.d udev/rules.d; do mount --bind "$m/etc/$d" "/etc/$d" || fail "/etc/$d"; done
command -v "$1" >/dev/null 2>&1 || { echo "aplab: $1: command not found" >&2; exit 127; }
exec "$@"
`

/** Start the FUSE server on `mnt` and wait until it serves; it stops when this process is gone. */
function startServer(mnt: string, state: string, host?: string): Promise<ChildProcess> {
  const server = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // A session of its own: the terminal's signals are for the command.
    detached: true,
    env: {...process.env, [SERVER_VAR]: JSON.stringify({mnt, state, host, parent: process.pid})},
  })
  return new Promise((resolve, reject) => {
    let out = ''
    server.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('ready\n')) resolve(server)
    })
    server.on('exit', () => reject(new Error('the file system could not be served')))
  })
}

async function main(): Promise<number> {
  const config = JSON.parse(process.env[CONFIG_VAR] ?? '') as ShellConfig
  delete process.env[CONFIG_VAR]
  const mnt = path.join(config.tmp, 'host')
  const ov = path.join(config.tmp, 'etc')
  fs.mkdirSync(mnt)
  fs.mkdirSync(ov)
  const server = await startServer(mnt, config.state, config.host)
  // A server that dies leaves the mount answering ENOTCONN; the command is told.
  server.on('exit', (code, signal) => {
    if (signal !== 'SIGTERM') process.stderr.write(`aplab: the live host's file system stopped (${signal ?? `status ${code}`})\n`)
  })

  const env: NodeJS.ProcessEnv = {...process.env, PATH: `${config.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, APLAB_STATE: config.state}
  if (config.host) env.APLAB_HOST = config.host
  return new Promise<number>((resolve) => {
    const args = ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', LAY_OVER, 'aplab', mnt, ov, ...config.cmd]
    const child = spawn('unshare', args, {stdio: 'inherit', env})
    const ignore = (): void => undefined
    process.on('SIGINT', ignore)
    process.on('SIGQUIT', ignore)
    for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, () => void child.kill(s))
    const done = (status: number): void => {
      server.removeAllListeners('exit')
      server.kill('SIGTERM')
      resolve(status)
    }
    child.on('error', (e) => {
      process.stderr.write(`aplab: cannot run unshare: ${e.message}\n`)
      done(1)
    })
    child.on('exit', (code, signal) => done(exitStatus(code, signal)))
  })
}

try {
  // The namespaces (and with them every mount made here) go when their last process does.
  process.exit(await main())
} catch (e) {
  process.stderr.write(`aplab: ${e instanceof Error && !('exitCode' in e) ? e.message : errorMessage(e).message}\n`)
  process.exit(1)
}
