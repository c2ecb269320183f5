// /proc of a host or a guest: the command line its kernel booted with, its
// uptime, the CCW device blacklist (see core/cio.ts) and the loaded modules.

import {showBlacklist, writeBlacklist} from '../core/cio.js'
import {now} from '../core/clock.js'
import {KernelError} from '../core/errors.js'
import type {Runtime} from '../core/model.js'
import {type DirNode, dir, ro, rw} from './vfs.js'

/** @param modules the text of /proc/modules for the reader */
export function procDir(rt: () => Runtime, modules: () => string): DirNode {
  const uptime = () => Math.max(0, (now() - rt().bootTime) / 1000).toFixed(2)
  return dir({
    cio_ignore: rw(
      () => showBlacklist(rt().cioIgnore),
      (buf) => {
        const r = writeBlacklist(rt().cioIgnore, buf)
        rt().cioIgnore = r.list
        if (!r.ok) throw new KernelError('EINVAL')
      },
    ),
    cmdline: ro(() => rt().cmdline + '\n'),
    modules: ro(modules),
    uptime: ro(() => `${uptime()} ${uptime()}\n`),
  })
}
