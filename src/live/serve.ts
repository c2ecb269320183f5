// The processes around a live mount: `aplab mount` serving in the
// foreground until a signal, and `aplab umount` ending one.

import * as fs from 'node:fs'
import * as path from 'node:path'

import {MountError, aplabMountAt, detach, mountLive, serverPid} from './mount.js'

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/** Serve until SIGINT, SIGTERM or SIGHUP, then unmount; `ready` runs once the mount is there. */
export async function serveUntilSignal(dir: string, state: string, host: string | undefined, ready: () => void): Promise<void> {
  const m = await mountLive(dir, state, host)
  ready()
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      for (const s of SIGNALS) process.off(s, stop)
      void m.close().then(resolve)
    }
    for (const s of SIGNALS) process.on(s, stop)
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** aplab umount DIR: ask the server to stop (SIGTERM) and wait until the mount is gone; detach a stale one. */
export async function unmountDir(dir: string): Promise<void> {
  const at = path.resolve(dir)
  const m = aplabMountAt(at)
  if (!m) {
    const exists = fs.existsSync(at)
    throw new MountError(`${dir}: ${exists ? 'not an aplab mount' : 'No such file or directory'}`)
  }
  const pid = serverPid(m)
  if (pid === null) return detach(at)
  process.kill(pid, 'SIGTERM')
  // The server unmounts as it stops; wait for that (10 s at most), then take the mount away.
  for (let i = 0; i < 200 && aplabMountAt(at); i++) await sleep(50)
  if (aplabMountAt(at)) await detach(at)
}
