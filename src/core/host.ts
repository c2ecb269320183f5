// A host's life cycle: what the kernel does at boot with the LPAR
// configuration, the kernel command line and the files under /etc.

import {ApBus, loadModule, writeMask} from './apbus.js'
import {bootBlacklist} from './cio.js'
import {now} from './clock.js'
import {KERN_NOTICE, KERN_WARNING, LOG_DAEMON, klog} from './dmesg.js'
import {Mask, kstrtoul, parseMaskWrite} from './mask.js'
import type {Host, Lpar, Persistent, Runtime} from './model.js'
import {type UdevEvent, runRules} from './udev.js'
import {hostBus, loadVfioAp} from './vfio.js'

/** Split a kernel command line into parameters, honouring double quotes. */
export function parseCmdline(cmdline: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = []
  const re = /(?:[^\s"]+|"[^"]*"?)+/g
  for (const m of cmdline.matchAll(re)) {
    const word = m[0]
    const eq = word.indexOf('=')
    const unq = (s: string) => s.replace(/"/g, '')
    if (eq < 0) out.push([unq(word), undefined])
    else out.push([unq(word.slice(0, eq)), unq(word.slice(eq + 1))])
  }
  return out
}

/** kstrtoint(val, 0) as module parameters use it; null when invalid. */
export function paramInt(val: string | undefined): number | null {
  if (val === undefined) return null
  const neg = val.startsWith('-')
  try {
    const v = Number(kstrtoul(neg ? val.slice(1) : val))
    return neg ? -v : v
  } catch {
    return null
  }
}

/** Modules listed in /etc/modules-load.d/*.conf, in file name order. */
export function modulesToLoad(p: Persistent): string[] {
  const mods: string[] = []
  const confs = Object.keys(p.files)
    .filter((f) => /^\/etc\/modules-load\.d\/[^/]+\.conf$/.test(f))
    .sort()
  for (const f of confs)
    for (const line of p.files[f].split('\n')) {
      const t = line.trim()
      if (t && !t.startsWith('#') && !t.startsWith(';') && !mods.includes(t)) mods.push(t)
    }
  return mods
}

/** The runtime state right after the host booted. */
export function boot(lpar: Lpar, persistent: Persistent): Runtime {
  const rt: Runtime = {
    cmdline: persistent.cmdline,
    apmask: Mask.full(),
    aqmask: Mask.full(),
    domain: -1,
    configTime: 30,
    pollThread: false,
    pollTimeout: 250000,
    useirq: true,
    scans: 1,
    modules: [],
    offline: [],
    unbound: [],
    counters: {},
    mdevs: [],
    cioIgnore: [],
    bootTime: now(),
    dmesg: [],
  }
  rt.cioIgnore = bootBlacklist(parseCmdline(persistent.cmdline), (msg) => klog(rt, KERN_WARNING, msg))
  let pollThread = false
  for (const [name, val] of parseCmdline(persistent.cmdline)) {
    switch (name) {
      case 'ap.apmask':
      case 'ap.aqmask': {
        // The mask starts empty; a parse error leaves it empty.
        const which = name === 'ap.apmask' ? 'apmask' : 'aqmask'
        rt[which] = Mask.empty()
        try {
          rt[which] = parseMaskWrite(Mask.empty(), val ?? '')
        } catch {
          /* the kernel ignores the error */
        }
        break
      }
      case 'ap.domain': {
        const d = paramInt(val)
        if (d !== null) rt.domain = d
        break
      }
      case 'ap.poll_thread': {
        const v = paramInt(val)
        if (v !== null) pollThread = v !== 0
        break
      }
      case 'ap.useirq': {
        const v = paramInt(val)
        if (v !== null) rt.useirq = v !== 0
        break
      }
    }
  }
  const bus = new ApBus(lpar, rt)
  if (rt.domain < -1 || rt.domain > bus.maxDomainId || (rt.domain >= 0 && !rt.aqmask.has(rt.domain))) {
    klog(rt, KERN_WARNING, `ap: ${rt.domain} is not a valid cryptographic domain`)
    rt.domain = -1
  }
  if (rt.domain < 0) rt.domain = bus.selectDomain()
  rt.pollThread = pollThread && !bus.interrupts()
  const host: Host = {name: '', lpar, persistent, runtime: rt, guests: []}
  const load = (m: string): boolean => {
    try {
      if (m === 'vfio_ap') loadVfioAp(host)
      else loadModule(bus, m)
      return true
    } catch {
      return false
    }
  }
  for (const m of modulesToLoad(persistent))
    // systemd's module_load_and_warn logs ENODEV at LOG_NOTICE, to /dev/kmsg as facility daemon.
    if (!load(m)) klog(rt, KERN_NOTICE, `systemd-modules-load[1]: Failed to insert module '${m}': No such device`, LOG_DAEMON)
  applyUdevRules(host, load)
  return rt
}

/** The rules files under /etc/udev/rules.d, by name. */
export function udevRules(p: Persistent): Array<[string, string]> {
  return Object.entries(p.files).filter(([f]) => /^\/etc\/udev\/rules\.d\/[^/]+\.rules$/.test(f))
}

/**
 * The AP bus announces its first complete binding with a change uevent on
 * /devices/ap (BINDINGS=complete, COMPLETECOUNT=1); udev then runs the rules,
 * which is how chzdev's persistent masks (41-ap.rules) are applied: the
 * masks are written as sysfs writes (a refused one is only logged by udev)
 * and `kmod load` loads modules.
 */
function applyUdevRules(host: Host, load: (m: string) => boolean): void {
  const rules = udevRules(host.persistent)
  if (rules.length === 0) return
  const ev: UdevEvent = {
    action: 'change',
    devpath: '/devices/ap',
    subsystem: 'ap',
    env: {BINDINGS: 'complete', COMPLETECOUNT: '1'},
    attr: () => null,
  }
  for (const a of runRules(rules, ev)) {
    if (a.kind === 'attr') {
      const m = /^\/sys\/bus\/ap\/(apmask|aqmask)$/.exec(a.path)
      if (!m) continue
      try {
        writeMask(hostBus(host), m[1] as 'apmask' | 'aqmask', a.value)
      } catch {
        /* udev logs the failed write in its journal */
      }
    } else if (a.kind === 'builtin') {
      const k = /^kmod load\s+(.+)$/.exec(a.cmd.trim())
      if (k) for (const m of k[1].split(/\s+/)) load(m)
    }
  }
}

export function makeHost(name: string, lpar: Lpar, persistent: Persistent): Host {
  return {name, lpar, persistent, runtime: boot(lpar, persistent), guests: []}
}
