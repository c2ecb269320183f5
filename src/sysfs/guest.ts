// The root file system of a guest as its tools see it: its own /sys/bus/ap
// and /sys/devices/ap (none at all without the `ap` CPU feature), and /proc.

import {guestBus} from '../core/guest.js'
import type {Guest, Host} from '../core/model.js'
import {guestModules} from '../core/modules.js'
import {capable} from '../core/perm.js'
import {procModulesText} from '../views/sysfs.js'
import {type BusRef, busApDir, devicesApDir} from './ap.js'
import {moduleDir} from './module.js'
import {procDir} from './proc.js'
import {Vfs, dir} from './vfs.js'

export function guestVfs(host: Host, g: Guest, uid = 0): Vfs {
  let bus: ReturnType<typeof guestBus> | undefined
  const ref: BusRef = {
    bus: () => (bus ??= guestBus(host, g)),
    changed: () => {
      bus = undefined
    },
  }
  const ap = g.features.ap
  const modules = () => guestModules(g)
  return new Vfs(
    dir({
      proc: procDir(
        () => g.runtime,
        () => procModulesText(modules(), capable(uid, 'CAP_SYSLOG')),
      ),
      sys: dir({
        bus: dir(ap ? {ap: busApDir(ref)} : {}),
        devices: dir(ap ? {ap: devicesApDir(ref)} : {}),
        module: moduleDir(() => g.runtime, modules),
      }),
    }),
    uid,
  )
}
