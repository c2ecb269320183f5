// The root file system of a host as the tools see it: /sys with the AP bus,
// and /proc/cmdline.

import {ApBus} from '../core/apbus.js'
import type {Host} from '../core/model.js'
import {busApDir, devicesApDir} from './ap.js'
import {type BusRef} from './ap.js'
import {Vfs, dir, ro} from './vfs.js'

export function hostRef(host: Host): BusRef {
  let bus: ApBus | undefined
  return {
    bus: () => (bus ??= new ApBus(host.lpar, host.runtime)),
    changed: () => {
      bus = undefined
    },
  }
}

export function hostVfs(host: Host, uid = 0): Vfs {
  const ref = hostRef(host)
  const root = dir({
    proc: dir({cmdline: ro(() => host.persistent.cmdline + '\n')}),
    sys: dir({
      bus: dir({ap: busApDir(ref)}),
      devices: dir({ap: devicesApDir(ref)}),
    }),
  })
  return new Vfs(root, uid)
}
