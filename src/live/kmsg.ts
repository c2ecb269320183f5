// dmesg -w, -W on the emulated host: util-linux reads /dev/kmsg and blocks
// until the kernel logs the next record; here the records come from other
// processes (aplab, mdevctl, virsh, qemu-system-s390x), which change the
// state file. The follower watches it as qemu-system-s390x does
// (state/watch.ts), reads it without the lock and prints the records that
// were not there before, flushing each whole line as dmesg's line-buffered
// stdout does. Nothing but a signal ends it (dmesg has no handler: the shell
// sees the signal's status), or a failed write (SIGPIPE: 141, quietly), or
// the host going away.

import * as fs from 'node:fs'

import {newRecords} from '../core/dmesg.js'
import {StateError} from '../core/errors.js'
import type {LogLine} from '../core/model.js'
import type {DmesgPrinter} from '../views/dmesg.js'
import {type Env, pickHost} from '../cli/env.js'

export interface Followed {
  /** The host followed, by name: the one picked when dmesg started. */
  host: string
  bootTime: number
  log: LogLine[]
}

/**
 * Print the records `host` logs from now on, as they come: after a clear
 * by someone else, those logged after it; after a reboot, the new boot's
 * (its kernel log starts again). A host removed from the state, or the
 * state file removed, ends the wait with what a new dmesg would say of the
 * host, or that the state is gone (rejects), and so does a state that is no
 * regular file any more. A state that cannot be read (a broken hand edit)
 * is waited out.
 */
export async function followKmsg(env: Env, start: Followed, printer: DmesgPrinter, write: (text: string) => void): Promise<never> {
  const [{load}, {locate}, {watchState}] = await Promise.all([import('../state/store.js'), import('../state/files.js'), import('../state/watch.js')])
  const real = locate(env.state).real
  let last = start
  // A state that is not there yet is the default host, a new one at each read: it starts when written.
  let existed = fs.existsSync(real)
  return new Promise<never>((_resolve, reject) => {
    const check = async (): Promise<void> => {
      let w: Awaited<ReturnType<typeof load>>
      try {
        w = await load(env.state)
      } catch (e) {
        // A broken hand edit is waited out; a state that is no regular file any more (a
        // directory or a link in its place) ends the wait with what every command says of it.
        const st = fs.lstatSync(real, {throwIfNoEntry: false})
        if (st && !st.isFile()) {
          watch.close()
          reject(e)
        }
        throw e
      }
      if (!fs.existsSync(real)) {
        if (!existed) return
        watch.close()
        return reject(new StateError(env.state, 'the state file was removed while dmesg followed it: its hosts are gone'))
      }
      existed = true
      const h = w.hosts.find((x) => x.name === last.host)
      if (!h) {
        watch.close()
        try {
          pickHost(w, last.host)
        } catch (e) {
          return reject(e)
        }
      }
      const rt = h!.runtime
      const fresh = rt.bootTime === last.bootTime ? newRecords(last.log, rt.dmesg) : rt.dmesg
      last = {host: last.host, bootTime: rt.bootTime, log: rt.dmesg}
      printer.bootTime = rt.bootTime
      if (fresh.length > 0) write(printer.print(fresh))
    }
    // Watching starts before the state read first is compared: nothing logged in between is missed.
    const watch = watchState(env.state, check)
    watch.poke()
  })
}

/**
 * stdout as dmesg -w has it (setlinebuf): each whole line is written at
 * once, the rest (-J's indent before the next record's `},{`) waits for
 * the line's end, and is lost if a signal ends the process first.
 */
export function lineBuffered(write: (text: string) => void): (text: string) => void {
  let pending = ''
  return (text) => {
    pending += text
    const nl = pending.lastIndexOf('\n')
    if (nl < 0) return
    write(pending.slice(0, nl + 1))
    pending = pending.slice(nl + 1)
  }
}
