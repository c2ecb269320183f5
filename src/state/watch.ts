// Watching the state file for changes made by other processes, as the
// processes that outlive one command need it (qemu-system-s390x, dmesg -w).
// Every write replaces the file (a temporary renamed over it), so the
// directory is watched, for the state's own name; nothing here takes the
// lock: a reader sees the old file or the new one, never half of one.

import * as fs from 'node:fs'
import * as nodePath from 'node:path'

import {locate} from './files.js'

export interface StateWatch {
  /** Run the check now, as a change would (coalesced with any running). */
  poke(): void
  close(): void
}

/**
 * Call `check` after each change of the state file (written, replaced,
 * removed, made). Changes that come while a check runs ask for one more
 * check after it, not one each. A check that throws is ignored: the next
 * change tells. Throws where the state's directory cannot be watched.
 */
export function watchState(file: string, check: () => Promise<void> | void): StateWatch {
  const real = locate(file).real
  const name = nodePath.basename(real)
  let running = false
  let again = false
  let closed = false
  const run = (): void => {
    if (closed) return
    if (running) return void (again = true)
    running = true
    void (async () => {
      do {
        again = false
        try {
          await check()
        } catch {
          // unreadable for now: the next change tells
        }
      } while (again && !closed)
      running = false
    })()
  }
  const watcher = fs.watch(nodePath.dirname(real), (_ev, f) => {
    if (f === name) run()
  })
  watcher.on('error', () => undefined)
  return {
    poke: run,
    close: () => {
      closed = true
      watcher.close()
    },
  }
}
