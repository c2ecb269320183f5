// modprobe on the emulated host: which modules exist, and what loading or
// unloading them does.

import {KernelError, ToolExit, strerror} from './errors.js'
import type {Guest, Host} from './model.js'
import {capable} from './perm.js'
import {loadVfioAp, unloadVfioAp} from './vfio.js'

/** uname -r of the emulated host. */
export const KERNEL_RELEASE = '6.15.0-aplab.s390x'

/** Built into the kernel image. */
export const BUILTIN = ['ap']
/** Loaded at boot and used by the AP bus devices; they cannot be removed while cards exist. */
export const ZCRYPT = ['zcrypt', 'zcrypt_cex4']
export const LOADABLE = ['vfio_ap']

/**
 * A loaded module as the kernel shows it in /proc/modules and
 * /sys/module/NAME (and lsmod, which reads those): one list, so that they
 * always agree.
 */
export interface LoadedModule {
  name: string
  /** Bytes of its core sections: /sys/module/NAME/coresize, and /proc/modules' size (its init sections are freed once it is live). */
  size: number
  /** module_refcount(): the modules that use it, and references taken by users (an open vfio device). */
  refcnt: number
  /** The modules that use its symbols (/sys/module/NAME/holders/, /proc/modules' dependency column). */
  holders: string[]
  /** Its drivers, `BUS:DRIVER` (/sys/module/NAME/drivers/, linked to /sys/bus/BUS/drivers/DRIVER). */
  drivers: string[]
  /** Where its text lies, as root reads it in /proc/modules (16 hex digits). */
  address: string
}

/** What each module aplab models is: sizes of an s390x 6.15 kernel's modules and their text addresses in the module area (illustrative, fixed). */
const MODULE: Record<string, {size: number; address: string; drivers: string[]}> = {
  zcrypt: {size: 151552, address: '000003ff80410000', drivers: []},
  zcrypt_cex4: {size: 57344, address: '000003ff80448000', drivers: ['ap:cex4card', 'ap:cex4queue']},
  vfio_ap: {size: 65536, address: '000003ff805d0000', drivers: ['ap:vfio_ap', 'mdev:vfio_ap_mdev']},
}

const loaded = (name: string, refcnt: number, holders: string[] = []): LoadedModule => ({name, refcnt, holders, ...MODULE[name]})

/**
 * zcrypt and zcrypt_cex4 as a kernel with an AP bus has them: udev loads
 * zcrypt_cex4 for the AP devices, and with it zcrypt, whose symbols it uses
 * (one reference, its holder).
 */
const zcrypt = (): LoadedModule[] => [loaded('zcrypt_cex4', 0), loaded('zcrypt', 1, ['zcrypt_cex4'])]

/** The host's loaded modules, the most recently loaded first (as the kernel's module list, and so /proc/modules, has them). */
export function loadedModules(host: Host): LoadedModule[] {
  return [...(host.runtime.modules.includes('vfio_ap') ? [loaded('vfio_ap', vfioApUsers(host))] : []), ...zcrypt()]
}

/** A guest's loaded modules: the zcrypt ones where it has an AP bus (the `ap` CPU feature), none otherwise. */
export function guestModules(g: Guest): LoadedModule[] {
  return g.features.ap ? zcrypt() : []
}

/**
 * Guests holding a reference on vfio_ap: each running guest with an mdev
 * open (vfio's module reference). A running guest's vfio-ap device is an
 * mdev of its host (a rule of every state, invariants.ts: removing the mdev
 * unplugs it first), so the mdevs are not read (a thousand on a big host).
 */
export function vfioApUsers(host: Host): number {
  let n = 0
  for (const g of host.guests) if (g.running && g.device) n++
  return n
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
