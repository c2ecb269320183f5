// The vfio_ap driver's part of sysfs: the matrix parent device with its mdev
// type, the mdevs and their attributes, and the links the mdev core and vfio
// create for them. Present only while vfio_ap is loaded.

import {
  MDEV_TYPE,
  MDEV_TYPE_NAME,
  assign,
  availableInstances,
  createMdev,
  findMdev,
  unassign,
  writeApConfig,
  writeRemove,
} from '../core/vfio.js'
import type {Host, Mdev} from '../core/model.js'
import {apConfigText, controlDomainsText, line, matrixText} from '../views/sysfs.js'
import {type DirNode, type Node, dir, lazyDir, link, mergeDirs, ro, rw, wo} from './vfs.js'

/** Run a store against the host, then let the file system view forget what it resolved. */
export type Store = (fn: (buf: string) => void) => (buf: string) => void

const loaded = (host: Host) => host.runtime.modules.includes('vfio_ap')
const sorted = (host: Host) => host.runtime.mdevs.map((m) => m.uuid).sort()

function mdevDir(host: Host, store: Store, uuid: string): DirNode {
  const m = (): Mdev => findMdev(host, uuid)!
  const attr = (fn: (mdev: Mdev, buf: string) => void) => wo(store((buf) => fn(m(), buf)))
  return dir({
    ap_config: rw(() => apConfigText(m()), store((buf) => writeApConfig(host, m(), buf))),
    assign_adapter: attr((x, b) => assign(host, x, 'adapter', b)),
    assign_control_domain: attr((x, b) => assign(host, x, 'control_domain', b)),
    assign_domain: attr((x, b) => assign(host, x, 'domain', b)),
    control_domains: ro(() => controlDomainsText(m().adm)),
    driver: link('../../../../bus/mdev/drivers/vfio_ap_mdev'),
    guest_matrix: ro(() => matrixText(m().shadow.apm, m().shadow.aqm)),
    iommu_group: link(`../../../../kernel/iommu_groups/${m().group}`),
    matrix: ro(() => matrixText(m().apm, m().aqm)),
    mdev_type: link(`../mdev_supported_types/${MDEV_TYPE}`),
    power: dir({}),
    remove: wo(store((buf) => writeRemove(host, uuid, buf))),
    subsystem: link('../../../../bus/mdev'),
    unassign_adapter: attr((x, b) => unassign(host, x, 'adapter', b)),
    unassign_control_domain: attr((x, b) => unassign(host, x, 'control_domain', b)),
    unassign_domain: attr((x, b) => unassign(host, x, 'domain', b)),
    uevent: ro(() => `DRIVER=vfio_ap_mdev\nMDEV_TYPE=${MDEV_TYPE}\n`),
  })
}

/** Entries named by the mdevs' UUIDs, built by `make`. */
function byUuid(host: Host, make: (uuid: string) => Node): DirNode {
  return lazyDir(
    () => sorted(host),
    (name) => (findMdev(host, name) && name === name.toLowerCase() ? make(name) : undefined),
  )
}

/** /sys/devices/vfio_ap */
export function vfioApDevice(host: Host, store: Store): DirNode | undefined {
  if (!loaded(host)) return undefined
  const type = dir({
    available_instances: ro(() => line(availableInstances(host))),
    create: wo(store((buf) => void createMdev(host, buf))),
    device_api: ro(() => 'vfio-ap\n'),
    devices: byUuid(host, (u) => link(`../../../${u}`)),
    name: ro(() => line(MDEV_TYPE_NAME)),
  })
  const matrix = mergeDirs(
    dir({
      driver: link('../../../bus/matrix/drivers/vfio_ap'),
      features: ro(() => 'guest_matrix hotplug ap_config\n'),
      mdev_supported_types: dir({[MDEV_TYPE]: type}),
      power: dir({}),
      subsystem: link('../../../bus/matrix'),
      uevent: ro(() => 'DRIVER=vfio_ap\nMDEV_STATE=registered\n'),
    }),
    byUuid(host, (u) => mdevDir(host, store, u)),
  )
  return dir({matrix, power: dir({}), uevent: ro(() => '')})
}

const driverDir = (entries: Record<string, Node>, devices: DirNode): DirNode =>
  mergeDirs(dir({bind: wo(() => undefined), unbind: wo(() => undefined), uevent: wo(() => undefined), ...entries}), devices)

/** /sys/bus/mdev, /sys/bus/matrix, /sys/class/mdev_bus and the IOMMU groups. */
export function vfioApLinks(host: Host): {mdevBus: () => DirNode | undefined; matrixBus: () => DirNode | undefined; mdevClass: () => DirNode | undefined; iommuGroups: () => DirNode | undefined} {
  const when = (make: () => DirNode) => () => (loaded(host) ? make() : undefined)
  return {
    mdevBus: when(() =>
      dir({
        devices: byUuid(host, (u) => link(`../../../devices/vfio_ap/matrix/${u}`)),
        // vfio_ap registers vfio_ap_mdev with its module as owner (module_add_driver links them);
        // the matrix bus's driver has none, so it has no module link.
        drivers: dir({
          vfio_ap_mdev: driverDir({module: link('../../../../module/vfio_ap')}, byUuid(host, (u) => link(`../../../../devices/vfio_ap/matrix/${u}`))),
        }),
        drivers_autoprobe: ro(() => '1\n'),
        drivers_probe: wo(() => undefined),
        uevent: wo(() => undefined),
      }),
    ),
    matrixBus: when(() =>
      dir({
        devices: dir({matrix: link('../../../devices/vfio_ap/matrix')}),
        drivers: dir({vfio_ap: driverDir({matrix: link('../../../../devices/vfio_ap/matrix')}, dir({}))}),
        drivers_autoprobe: ro(() => '1\n'),
        drivers_probe: wo(() => undefined),
        uevent: wo(() => undefined),
      }),
    ),
    mdevClass: when(() => dir({matrix: link('../../devices/vfio_ap/matrix')})),
    iommuGroups: when(() =>
      lazyDir(
        () => host.runtime.mdevs.map((m) => String(m.group)).sort(),
        (name) => {
          const m = host.runtime.mdevs.find((x) => String(x.group) === name)
          return m ? dir({devices: dir({[m.uuid]: link(`../../../../devices/vfio_ap/matrix/${m.uuid}`)}), type: ro(() => 'DMA\n')}) : undefined
        },
      ),
    ),
  }
}
