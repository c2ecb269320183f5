// QEMU's command-line option table (qemu-options.hx, system/vl.c) and the
// QemuOpts syntax of -device and friends (util/qemu-option.c): tokens,
// short-form boolean warnings, ids. Pure. Split out of src/core/qemu.ts.

import {own, table} from '../table.js'
import {stderrWarning} from './texts.js'

// ---------------------------------------------------------------------------
// Command-line options (qemu-options.hx, system/vl.c)

export interface OptionDef {
  arg: boolean
  /** Not for s390x: "Option not supported for this target". */
  otherArch?: boolean
}

// Every option of qemu-system-s390x 10.1, from the option switch in
// system/vl.c qemu_init() and the DEF() lines of qemu-options.hx.
export const OPTIONS: Record<string, OptionDef> = (() => {
  const t = table<OptionDef>()
  const withArg =
    'machine M cpu accel smp numa add-fd set global boot m mem-path k audio audiodev device name uuid ' +
    'fda fdb hda hdb hdc hdd cdrom blockdev drive mtdblock sd pflash fsdev virtfs iscsi usbdevice display vga ' +
    'vnc netdev nic net chardev tpmdev bios kernel shim append initrd dtb compat fw_cfg serial parallel ' +
    'monitor qmp qmp-pretty mon debugcon pidfile overcommit gdb d D dfilter seed L xen-domid action loadvm ' +
    'option-rom rtc icount watchdog-action echr incoming sandbox readconfig trace plugin qtest qtest-log ' +
    'run-with msg dump-vmstate object'
  const noArg =
    'h help version mem-prealloc snapshot usb nographic full-screen preconfig S s enable-kvm xen-attach ' +
    'xen-domid-restrict no-reboot no-shutdown daemonize only-migratable nodefaults no-user-config ' +
    'enable-sync-profile perfmap jitdump'
  for (const o of withArg.split(' ')) t[o] = {arg: true}
  for (const o of noArg.split(' ')) t[o] = {arg: false}
  // Options whose arch mask excludes s390x.
  for (const o of ['g', 'acpitable', 'smbios', 'prom-env', 'semihosting-config']) t[o] = {arg: true, otherArch: true}
  for (const o of ['win2k-hack', 'no-fd-bootchk', 'old-param', 'semihosting']) t[o] = {arg: false, otherArch: true}
  return t
})()

/** Whether qemu-system-s390x knows an option (without its dashes) and whether it takes an argument. */
export function qemuOption(name: string): {takesArgument: boolean; forThisTarget: boolean} | undefined {
  const d = own(OPTIONS, name)
  return d ? {takesArgument: d.arg, forThisTarget: !d.otherArch} : undefined
}

// ---------------------------------------------------------------------------
// QemuOpts syntax (util/qemu-option.c)

interface OptToken {
  name: string
  value: string
  /** "foo" / "nofoo" without '=' (short-form boolean). */
  flag: boolean
  /** "no" when the flag was nofoo. */
  prefix: string
  help: boolean
}

/** get_opt_value(): up to the next single comma; ",," is a literal comma. */
export function getOptValue(s: string, p: number): [string, number] {
  let v = ''
  for (;;) {
    const c = s.indexOf(',', p)
    const end = c < 0 ? s.length : c
    if (c >= 0 && s[c + 1] === ',') {
      v += s.slice(p, c + 1)
      p = c + 2
      continue
    }
    v += s.slice(p, end)
    return [v, end]
  }
}

export const isHelpOption = (s: string): boolean => s === 'help' || s === '?'

/** get_opt_name_value() over the whole string. */
export function optTokens(params: string, firstname: string | null): OptToken[] {
  const out: OptToken[] = []
  let p = 0
  let first = firstname
  while (p < params.length) {
    const rest = params.slice(p)
    const m = /[=,]/.exec(rest)
    const len = m ? m.index : rest.length
    let tok: OptToken
    if (rest[len] !== '=') {
      if (first) {
        const [v, e] = getOptValue(params, p)
        tok = {name: first, value: v, flag: false, prefix: '', help: false}
        p = e
      } else {
        let name = rest.slice(0, len)
        let prefix = ''
        let value = 'on'
        let help = false
        if (name.startsWith('no')) {
          name = name.slice(2)
          value = 'off'
          prefix = 'no'
        } else help = isHelpOption(name)
        tok = {name, value, flag: true, prefix, help}
        p += len
      }
    } else {
      const name = rest.slice(0, len)
      const [v, e] = getOptValue(params, p + len + 1)
      tok = {name, value: v, flag: false, prefix: '', help: false}
      p = e
    }
    if (params[p] === ',') p++
    out.push(tok)
    first = null
  }
  return out
}

/** The warning lines of a short-form boolean (printed at parse time). */
export function flagWarning(t: OptToken, location: string | null, prog: string | null): string[] {
  const msg = `short-form boolean option '${t.prefix}${t.name}' deprecated`
  const line = prog === null ? `warning: ${msg}` : stderrWarning(msg, location, prog)
  const please = t.name === 'delay' ? `Please use nodelay=${t.prefix ? 'on' : 'off'} instead` : `Please use ${t.name}=${t.value} instead`
  return [line, please]
}

/** opts_parse_id(): the first "id" item, flags included ("id" alone gives "on"). */
export function optsId(params: string): string | undefined {
  return optTokens(params, null).find((t) => t.name === 'id')?.value
}
