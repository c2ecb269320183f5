// The namespace side of `aplab shell` (run by unshare as `node inner.js`):
// mount the live host, lay it over /sys, /proc/cmdline and /proc/cio_ignore
// (where this machine's /proc has them), /etc/mdevctl.d and
// /etc/udev/rules.d, then run the command with the drop-ins first on PATH
// and exit with its status. The FUSE server is this very process, so
// nothing here may block its event loop (no spawnSync while mounted).

import {execFile, spawn} from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import {errorMessage} from '../cli/env.js'
import {mountLive} from './mount.js'
import {CONFIG_VAR, type ShellConfig, exitStatus} from './shell.js'

/** /proc files aplab emulates; each is laid over the real one when this machine has it. */
const PROC_FILES = ['cmdline', 'cio_ignore']
/** /etc directories of the live host laid over the real ones. */
const ETC_DIRS = ['mdevctl.d', 'udev/rules.d']

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, (err, _o, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve())),
  )
}

const bind = (from: string, to: string) => run('mount', ['--bind', from, to])

async function main(): Promise<number> {
  const config = JSON.parse(process.env[CONFIG_VAR] ?? '') as ShellConfig
  delete process.env[CONFIG_VAR]
  const mnt = path.join(config.tmp, 'host')
  fs.mkdirSync(mnt)
  await mountLive(mnt, config.state, config.host)
  await bind(path.join(mnt, 'sys'), '/sys')
  for (const f of PROC_FILES) if (fs.existsSync(`/proc/${f}`)) await bind(path.join(mnt, 'proc', f), `/proc/${f}`)
  if (ETC_DIRS.some((d) => !fs.existsSync(`/etc/${d}`))) {
    // A directory this machine lacks is made in an overlay of /etc that only this namespace sees.
    const ov = path.join(config.tmp, 'etc')
    fs.mkdirSync(ov)
    await run('mount', ['-t', 'tmpfs', 'aplab-etc', ov])
    fs.mkdirSync(path.join(ov, 'upper'))
    fs.mkdirSync(path.join(ov, 'work'))
    await run('mount', ['-t', 'overlay', 'aplab-etc', '-o', `lowerdir=/etc,upperdir=${ov}/upper,workdir=${ov}/work`, '/etc'])
    for (const d of ETC_DIRS) fs.mkdirSync(`/etc/${d}`, {recursive: true})
  }
  for (const d of ETC_DIRS) await bind(path.join(mnt, 'etc', d), `/etc/${d}`)

  const env: NodeJS.ProcessEnv = {...process.env, PATH: `${config.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, APLAB_STATE: config.state}
  if (config.host) env.APLAB_HOST = config.host
  const [file, ...args] = config.cmd
  return new Promise<number>((resolve) => {
    const child = spawn(file, args, {stdio: 'inherit', env})
    const ignore = (): void => undefined
    process.on('SIGINT', ignore)
    process.on('SIGQUIT', ignore)
    for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, () => void child.kill(s))
    child.on('error', (e: NodeJS.ErrnoException) => {
      // As sh says it: 127 when there is no such command, 126 when it cannot run.
      const notFound = e.code === 'ENOENT'
      process.stderr.write(`aplab: ${file}: ${notFound ? 'command not found' : e.message}\n`)
      resolve(notFound ? 127 : 126)
    })
    child.on('exit', (code, signal) => resolve(exitStatus(code, signal)))
  })
}

try {
  // The namespace (and with it every mount made here) goes when its last process does.
  process.exit(await main())
} catch (e) {
  process.stderr.write(`aplab: ${e instanceof Error && !('exitCode' in e) ? e.message : errorMessage(e).message}\n`)
  process.exit(1)
}
