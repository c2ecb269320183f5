// The FUSE server of `aplab shell`, a process of its own (node server.js,
// started by inner.ts inside the namespace): libfuse 2 opens /dev/fuse
// without close-on-exec, so a process that serves a mount and also starts
// programs hands them the device, and should the server die they would
// hang on the mount instead of getting ENOTCONN. This process starts none.
// It says "ready" on stdout once the mount is there and serves until
// SIGTERM or SIGHUP, or until the process that started it is gone.

import {errorMessage} from '../cli/env.js'
import {mountLive} from './mount.js'
import {pidAlive} from '../state/lock.js'

export const SERVER_VAR = 'APLAB_SERVER_CONFIG'

try {
  const {mnt, state, host, parent} = JSON.parse(process.env[SERVER_VAR] ?? '') as {mnt: string; state: string; host?: string; parent: number}
  await mountLive(mnt, state, host)
  process.stdout.write('ready\n')
  const stop = (): never => process.exit(0)
  for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, stop)
  // Ctrl-C is for the command; the file system stays until the command is done.
  process.on('SIGINT', () => undefined)
  setInterval(() => {
    if (!pidAlive(parent)) stop()
  }, 500)
} catch (e) {
  process.stderr.write(`aplab: ${e instanceof Error && !('exitCode' in e) ? e.message : errorMessage(e).message}\n`)
  process.exit(1)
}
