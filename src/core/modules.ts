// modprobe on the emulated host: which modules exist, and what loading or
// unloading them does.

import {KernelError, ToolExit, strerror} from './errors.js'
import type {Host} from './model.js'
import {capable} from './perm.js'
import {loadVfioAp, unloadVfioAp} from './vfio.js'

/** uname -r of the emulated host. */
export const KERNEL_RELEASE = '6.15.0-aplab.s390x'

/** Built into the kernel image. */
export const BUILTIN = ['ap']
/** Loaded at boot and used by the AP bus devices; they cannot be removed while cards exist. */
export const ZCRYPT = ['zcrypt', 'zcrypt_cex4']
export const LOADABLE = ['vfio_ap']

/** Guests holding a reference on vfio_ap: each running guest with an mdev open (vfio's module reference). */
export function vfioApUsers(host: Host): number {
  return host.guests.filter((g) => g.running && g.device && host.runtime.mdevs.some((m) => m.uuid === g.device!.uuid)).length
}

const fatal = (msg: string): never => {
  throw new ToolExit(`modprobe: FATAL: ${msg}\n`, 1)
}

/**
 * modprobe MODULE / modprobe -r MODULE, with kmod's messages. What modprobe
 * reads (the module index, /sys/module) anyone may read, so a caller without
 * CAP_SYS_MODULE gets the same answers up to the system call itself, which
 * fails with EPERM: finit_module (kmod's ERR in insmod_insert) or
 * delete_module (libkmod's ERR in kmod_module_remove_module).
 */
export function modprobe(host: Host, module: string, remove: boolean, uid = 0): void {
  const name = module.replace(/-/g, '_')
  const known = [...BUILTIN, ...ZCRYPT, ...LOADABLE]
  if (!known.includes(name)) fatal(`Module ${module} not found in directory /lib/modules/${KERNEL_RELEASE}`)
  if (!remove) {
    if (!LOADABLE.includes(name) || host.runtime.modules.includes(name)) return
    if (!capable(uid, 'CAP_SYS_MODULE')) throw new ToolExit(`modprobe: ERROR: could not insert '${name}': ${strerror('EPERM')}\n`, 1)
    try {
      loadVfioAp(host)
    } catch (e) {
      if (!(e instanceof KernelError)) throw e
      throw new ToolExit(`modprobe: ERROR: could not insert '${name}': ${e.message}\n`, 1)
    }
    return
  }
  if (BUILTIN.includes(name)) fatal(`Module ${name} is builtin.`)
  if (ZCRYPT.includes(name)) fatal(`Module ${name} is in use.`)
  if (!host.runtime.modules.includes(name)) fatal(`Module ${name} is not in kernel.`)
  // A guest with an mdev open holds a reference on the module.
  if (vfioApUsers(host) > 0) fatal(`Module ${name} is in use.`)
  if (!capable(uid, 'CAP_SYS_MODULE')) throw new ToolExit(`modprobe: ERROR: could not remove '${name}': ${strerror('EPERM')}\n`, 1)
  unloadVfioAp(host)
}
