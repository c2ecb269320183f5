// `aplab host ...`: the host's boot configuration and its reboot.

import {UsageError} from '../core/errors.js'
import {boot} from '../core/host.js'
import {HOST_NAME_RE, type Host, type World} from '../core/model.js'
import {preset} from '../core/presets.js'
import {mayAccess} from '../core/perm.js'
import {refusal, requireCapability} from './refuse.js'
import type {HostRow} from '../views/aplab.js'

/** s390's COMMAND_LINE_SIZE, the terminating NUL included. */
const COMMAND_LINE_SIZE = 4096

/** The boot configuration (zipl's, the boot loader entries) is root's, 0644. */
const BOOT_CONFIG_MODE = 0o644

export function setCmdline(host: Host, cmdline: string, uid = 0): void {
  if (!mayAccess(uid, BOOT_CONFIG_MODE, 'w'))
    throw refusal(`set the kernel command line of host ${host.name}`, 'EACCES', 'only root may change the boot configuration')
  if (/[\n\0]/.test(cmdline)) throw new UsageError('a kernel command line is one line of text')
  if (Buffer.byteLength(cmdline) >= COMMAND_LINE_SIZE)
    throw new UsageError(`a kernel command line has at most ${COMMAND_LINE_SIZE - 1} bytes (this one has ${Buffer.byteLength(cmdline)})`)
  host.persistent.cmdline = cmdline
}

/**
 * Reboot: the kernel starts again from the LPAR configuration and the
 * persistent files (command line, modules-load.d, udev rules), and, once
 * vfio_ap has registered its matrix device, udev's 60-mdevctl.rules runs
 * `mdevctl start-parent-mdevs matrix`, which starts the auto definitions in
 * order with the ap-check rules. Returns what that prints (the warnings of
 * definitions that failed to start), as the journal would show it.
 */
export async function reboot(host: Host, world?: World, uid = 0): Promise<string> {
  requireCapability(uid, 'CAP_SYS_BOOT', `reboot host ${host.name}`, 'only root may reboot')
  // Guests stop with the host; those marked autostart start again at the end
  // (libvirt's domains through libvirtd, which starts its autostart domains).
  const libvirtDomain = (name: string): boolean => host.libvirt?.domains.some((d) => d.name === name) ?? false
  const again = host.guests.filter((g) => g.autostart && !(g.managed === 'libvirt' && libvirtDomain(g.name)))
  // Running or paused, a guest ends with its host.
  for (const g of host.guests) {
    g.running = false
    delete g.runState
  }
  host.runtime = boot(host.lpar, host.persistent)
  let report = ''
  if (host.runtime.modules.includes('vfio_ap')) report = await startAutoMdevs(host)
  if (world) {
    const {start} = await import('./guest.js')
    const {ToolExit} = await import('../core/errors.js')
    for (const g of again)
      try {
        report += start(world, host, g.name, g.args, {libvirt: g.managed === 'libvirt', autostart: true})
      } catch (e) {
        if (!(e instanceof ToolExit)) throw e
        report += e.message
      }
    if (host.libvirt) report += (await import('../libvirt/driver.js')).bootDomains(world, host)
  }
  return report
}

async function startAutoMdevs(host: Host): Promise<string> {
  const {mdevctlOnHost} = await import('./mdevctl.js')
  return (await mdevctlOnHost(host, ['start-parent-mdevs', 'matrix'])).stderr
}

export function addHost(world: World, name: string, presetName: string): Host {
  if (!HOST_NAME_RE.test(name)) throw new UsageError(`'${name}' is not a valid host name (letters, digits, '.', '_' and '-', not starting with a punctuation mark)`)
  if (world.hosts.some((h) => h.name === name)) throw new UsageError(`a host named '${name}' exists already`)
  const host = preset(presetName).build(name)
  world.hosts.push(host)
  return host
}

export function removeHost(world: World, name: string): void {
  const host = world.hosts.find((h) => h.name === name)
  if (!host) throw new UsageError(`no host named '${name}' (hosts: ${world.hosts.map((h) => h.name).join(', ')})`)
  if (world.hosts.length === 1) throw new UsageError(`'${name}' is the only host of the state (aplab init replaces it)`)
  const running = host.guests.filter((g) => g.running).map((g) => g.name)
  if (running.length) throw new UsageError(`host '${name}' runs guests: ${running.join(', ')} (stop or migrate them first)`)
  world.hosts = world.hosts.filter((h) => h !== host)
  if (world.current === name) world.current = world.hosts[0].name
}

export function useHost(world: World, name: string): void {
  if (!world.hosts.some((h) => h.name === name)) throw new UsageError(`no host named '${name}' (hosts: ${world.hosts.map((h) => h.name).join(', ')})`)
  world.current = name
}

export function hostRows(world: World): HostRow[] {
  return world.hosts.map((h) => ({
    name: h.name,
    current: h.name === world.current,
    adapters: h.lpar.adapters.length,
    usage_domains: h.lpar.usage.count(),
    vfio_ap: h.runtime.modules.includes('vfio_ap'),
    mdevs: h.runtime.mdevs.length,
    guests: h.guests.filter((g) => g.running).map((g) => g.name),
  }))
}
