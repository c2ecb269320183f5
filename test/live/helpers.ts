// What the live host's tests share: sandboxes, the binaries, and whether
// this machine can run FUSE and mount namespaces (tests that need them
// skip with the reason where it cannot).

import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {execa, type ResultPromise} from 'execa'

import {aplabMountAt, fuseMissing} from '../../src/live/mount.js'

export const ROOT = join(import.meta.dirname, '..', '..')
export const bin = (name: string): string => join(ROOT, 'bin', `${name}.js`)

/** Why FUSE mounts cannot be tested here, or null. */
export const NO_FUSE: string | null = fuseMissing()

/** Why `aplab shell` cannot be tested here, or null. */
export const NO_SHELL: string | null = (() => {
  if (NO_FUSE) return NO_FUSE
  const args = process.geteuid?.() === 0 ? ['--mount', '--propagation', 'private', 'true'] : ['--user', '--map-root-user', '--mount', 'true']
  const r = spawnSync('unshare', args, {encoding: 'utf8'})
  if (r.error) return 'util-linux unshare is not installed'
  if (r.status !== 0) return `mount namespaces are not available: ${r.stderr.trim()}`
  return null
})()

export interface Sandbox {
  dir: string
  state: string
  env: Record<string, string>
  run: (name: string, args: string[], extra?: Record<string, string>) => Promise<{stdout: string; stderr: string; exitCode: number}>
  sh: (script: string) => Promise<{stdout: string; stderr: string; exitCode: number}>
  bytes: () => Buffer
}

const sandboxes: string[] = []

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-live-'))
  sandboxes.push(dir)
  const state = join(dir, 'state.yaml')
  const env = {APLAB_STATE: state, SYSFS_ROOT: '', APLAB_HOST: '', APLAB_UID: '', MDEVCTL_ENV_ROOT: ''}
  const run = async (name: string, args: string[], extra: Record<string, string> = {}) => {
    const r = await execa(bin(name), args, {reject: false, env: {...env, ...extra}, stripFinalNewline: false})
    return {stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1}
  }
  const sh = async (script: string) => {
    const r = await execa('bash', ['-c', script], {reject: false, env, stripFinalNewline: false, cwd: dir})
    return {stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? 1}
  }
  return {dir, state, env, run, sh, bytes: () => readFileSync(state)}
}

/** Start `aplab mount` on SANDBOX/mnt and wait until it says the mount is there. */
export async function startMount(s: Sandbox, extra: string[] = []): Promise<{mnt: string; proc: ResultPromise}> {
  const mnt = join(s.dir, 'mnt')
  try {
    mkdirSync(mnt)
  } catch {
    // there already (perhaps as a stale mount, which stat cannot see into)
  }
  const proc = execa(bin('aplab'), ['mount', ...extra, mnt], {reject: false, env: s.env, stripFinalNewline: false, buffer: true})
  await new Promise<void>((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('mounted on')) resolve()
    })
    void proc.then((r) => reject(new Error(`aplab mount ended: ${String(r.stderr)}`)))
  })
  return {mnt, proc}
}

/** Unmount whatever is left (a failed test) and remove the sandboxes; never walks into a mount. */
export function cleanSandboxes(): void {
  for (const d of sandboxes.splice(0)) {
    const mnt = join(d, 'mnt')
    for (let i = 0; i < 3 && aplabMountAt(mnt); i++) spawnSync('fusermount', ['-uz', mnt])
    if (aplabMountAt(mnt)) continue
    rmSync(d, {recursive: true, force: true})
  }
}
