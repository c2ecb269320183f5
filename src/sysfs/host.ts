// The root file system of a host as the tools see it: /sys with the AP bus
// and vfio_ap, and /proc.

import type {Host} from '../core/model.js'
import {loadedModules} from '../core/modules.js'
import {capable} from '../core/perm.js'
import {hostBus} from '../core/vfio.js'
import {type BusRef, busApDir, devicesApDir} from './ap.js'
import {vfioApDevice, vfioApLinks} from './vfio.js'
import {etcDir} from './etc.js'
import {moduleDir} from './module.js'
import {procDir} from './proc.js'
import {Vfs, dir} from './vfs.js'
import {procModulesText} from '../views/sysfs.js'

/** What /usr/lib/mdevctl/scripts.d/callouts/ap-check reads as: the emulated host runs aplab's ap-check. */
export const AP_CHECK_STUB = '#!/bin/sh\n# ap-check of the emulated host: aplab applies its rules itself.\n'

export function hostRef(host: Host): BusRef {
  let bus: ReturnType<typeof hostBus> | undefined
  return {
    bus: () => (bus ??= hostBus(host)),
    changed: () => {
      bus = undefined
    },
  }
}

export function hostVfs(host: Host, uid = 0): Vfs {
  const ref = hostRef(host)
  const store = (fn: (buf: string) => void) => (buf: string) => {
    fn(buf)
    ref.changed()
  }
  const v = vfioApLinks(host)
  const modules = () => loadedModules(host)
  const root = dir({
    etc: etcDir(host.persistent),
    proc: procDir(
      () => host.runtime,
      () => procModulesText(modules(), capable(uid, 'CAP_SYSLOG')),
    ),
    sys: dir({
      bus: dir({ap: busApDir(ref), matrix: v.matrixBus, mdev: v.mdevBus}),
      class: dir({mdev_bus: v.mdevClass}),
      devices: dir({ap: devicesApDir(ref), vfio_ap: () => vfioApDevice(host, store)}),
      kernel: dir({iommu_groups: () => v.iommuGroups() ?? dir({})}),
      module: moduleDir(() => host.runtime, modules),
    }),
    // s390-tools installs ap-check as an mdevctl callout; aplab runs its own.
    usr: dir({
      lib: dir({
        mdevctl: dir({
          'scripts.d': dir({callouts: dir({'ap-check': {kind: 'file', mode: 0o755, show: () => AP_CHECK_STUB}}), notifiers: dir({})}),
        }),
      }),
    }),
  })
  return new Vfs(root, uid)
}
