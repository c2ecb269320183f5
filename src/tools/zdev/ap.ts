// The `ap` device type of chzdev and lszdev (s390-tools 2.43.0,
// zdev/src/ap.c): the apmask/aqmask settings read from sysfs and from the
// udev rule /etc/udev/rules.d/41-ap.rules (or /run/... for autoconf),
// written to both, and the conflict checks against vfio_ap mediated devices
// (running in sysfs, or autostart definitions in /etc/mdevctl.d/matrix).
// Behaviour follows chzdev-ap.md and the C sources.
//
// The ap config lock (/run/lock/s390apconfig.lock) is not modelled, as in
// apcheck.ts: aplab runs one command at a time, so every lock succeeds.

import {EXIT} from './exit_code.js'
import {VFIO_AP_TYPE, isValidUuid, maskToList, maskToSetting, parseMatrix, readVfioApConfig, validateMaskInput} from './libap.js'
import {SIGSEGV, errText} from './misc.js'
import type {DtState, Zdev} from './process.js'
import {SettingList, scopeActive, scopeAutoconf, scopePersistent} from './setting.js'
import {udevParse} from './udev.js'

export const AP_UDEV_RULE = '/etc/udev/rules.d/41-ap.rules'
const AP_UDEV_RULE_AUTO = '/run/udev/rules.d/41-ap.rules'
const VFIO_AP_CONFIG_PATH = '/etc/mdevctl.d/matrix'

/** The ap device type of one process: its masks (static buffers of ap.c) and their files. */
export class ApType {
  /** The ap masks of ap.c (static buffers): active and persistent, `0x` + 64 hex digits when valid. */
  apmask = ''
  aqmask = ''
  pApmask = ''
  pAqmask = ''
  validPAp = false
  validPAq = false

  constructor(private readonly z: Zdev) {}

  /** ap_read_sysfs_masks */
  private readSysfsMasks(): {ap: string; aq: string} | null {
    const ap = this.z.readLine(this.z.sysfs('bus/ap/apmask'))
    if (ap === null) return null
    const aq = this.z.readLine(this.z.sysfs('bus/ap/aqmask'))
    if (aq === null) return null
    return {ap, aq}
  }

  /**
   * ap_read_udev_masks: the first key of each parsed line of the rule; an
   * ATTR{...apmask...} / ATTR{...aqmask...} key gives that mask (66 chars at
   * most). Masks the rule lacks come from sysfs. False on a read error.
   */
  readUdevMasks(path: string): boolean {
    this.validPAp = this.validPAq = false
    if (this.z.fs.exists(path)) {
      const text = this.z.fs.readOrNull(path)
      if (text === null) return false
      for (const entries of udevParse(this.z.o, path, text)) {
        const e = entries[0]
        if (!e || !e.key.startsWith('ATTR{')) continue
        if (e.key.includes('apmask')) {
          this.pApmask = e.value.slice(0, 66)
          this.validPAp = true
        } else if (e.key.includes('aqmask')) {
          this.pAqmask = e.value.slice(0, 66)
          this.validPAq = true
        }
      }
    }
    if (!this.validPAp || !this.validPAq) {
      const sys = this.readSysfsMasks()
      if (!sys) return false
      if (!this.validPAp) this.pApmask = sys.ap
      if (!this.validPAq) this.pAqmask = sys.aq
    }
    return true
  }

  /** ap_devtype_read_settings */
  readSettings(st: DtState, config: number): number {
    st.active = new SettingList()
    st.persistent = new SettingList()
    if (scopeActive(config)) {
      const m = this.readSysfsMasks()
      if (!m) return EXIT.RUNTIME_ERROR
      this.apmask = m.ap
      this.aqmask = m.aq
      st.activeExists = true
    }
    if (scopePersistent(config)) {
      if (this.readUdevMasks(this.z.path(AP_UDEV_RULE))) st.persistentExists = true
    } else if (scopeAutoconf(config)) {
      if (this.readUdevMasks(this.z.path(AP_UDEV_RULE_AUTO))) st.persistentExists = true
    }
    const a = (n: string) => st.def.typeAttribs.find((x) => x.name === n) ?? null
    if (st.activeExists) {
      st.active.addRead(a('apmask'), 'apmask', maskToSetting(this.apmask))
      st.active.addRead(a('aqmask'), 'aqmask', maskToSetting(this.aqmask))
    }
    if (st.persistentExists) {
      if (this.validPAp) st.persistent.addRead(a('apmask'), 'apmask', maskToSetting(this.pApmask))
      if (this.validPAq) st.persistent.addRead(a('aqmask'), 'aqmask', maskToSetting(this.pAqmask))
    }
    return EXIT.OK
  }

  /** ap_devtype_write_settings: validate, check conflicts, then commit (nothing on any failure). */
  writeSettings(st: DtState, config: number): number {
    let writeAp = false
    let writeAq = false
    let writeUdev = false
    const adds = {ap: [] as number[], aq: [] as number[], pap: [] as number[], paq: [] as number[]}
    const validate = (which: 'apmask' | 'aqmask' | 'pApmask' | 'pAqmask', input: string, into: number[]): boolean => {
      const r = validateMaskInput(this[which], input)
      if (r === null) {
        this.z.o.error(`Invalid input string ${input}\n`)
        return false
      }
      this[which] = r.mask
      into.push(...r.adds)
      return true
    }
    if (scopeActive(config) && st.active) {
      let s = st.active.find('apmask')
      if (s && s.specified) {
        if (!validate('apmask', s.value, adds.ap)) return EXIT.INVALID_SETTING
        writeAp = true
      }
      s = st.active.find('aqmask')
      if (s && s.specified) {
        if (!validate('aqmask', s.value, adds.aq)) return EXIT.INVALID_SETTING
        writeAq = true
      }
    }
    if ((scopePersistent(config) || scopeAutoconf(config)) && st.persistent) {
      let s = st.persistent.find('apmask')
      if (s && s.specified) {
        if (!validate('pApmask', s.value, adds.pap)) return EXIT.INVALID_SETTING
        writeUdev = true
        this.validPAp = true
      } else if (s && s.removed) {
        writeUdev = true
        this.validPAp = false
      }
      s = st.persistent.find('aqmask')
      if (s && s.specified) {
        if (!validate('pAqmask', s.value, adds.paq)) return EXIT.INVALID_SETTING
        writeUdev = true
        this.validPAq = true
      } else if (s && s.removed) {
        writeUdev = true
        this.validPAq = false
      }
    }

    const rc = this.checkMaskChanges(config, adds)
    if (rc !== EXIT.OK) return rc

    // Commit: fopen("w") + fputs, results ignored (also with --dry-run).
    const writeMask = (attr: string, mask: string) => {
      try {
        this.z.fs.writeFile(this.z.path(`/sys/bus/ap/${attr}`), mask)
      } catch {
        // write_sysfs_mask ignores the kernel's answer
      }
    }
    if (writeAp) writeMask('apmask', this.apmask)
    if (writeAq) writeMask('aqmask', this.aqmask)
    if (writeUdev) {
      if (scopePersistent(config)) this.writeUdevRule(this.z.path(AP_UDEV_RULE))
      else if (scopeAutoconf(config)) this.writeUdevRule(this.z.path(AP_UDEV_RULE_AUTO))
    }
    return EXIT.OK
  }

  /** ap_write_type_udev (its result is ignored by the caller). */
  private writeUdevRule(path: string): void {
    if (this.z.fs.isFile(path)) {
      if (this.z.removeFile(path)) {
        this.z.o.error(`Could not remove file ${path}\n`)
        return
      }
    }
    if (!(this.validPAp || this.validPAq)) return
    if (this.z.pathCreate(path)) return
    const text =
      '# Generated by chzdev\n' +
      'ACTION=="add", DEVPATH=="/bus/ap", ATTR{bindings_complete_count}!="0", GOTO="cfg_ap"\n' +
      'ACTION=="change", SUBSYSTEM=="ap", DEVPATH=="/devices/ap", ENV{BINDINGS}=="complete", ENV{COMPLETECOUNT}=="1", GOTO="cfg_ap"\n' +
      'GOTO="end_ap"\n\n' +
      'LABEL="cfg_ap"\n\n' +
      (this.validPAp ? `ATTR{../../bus/ap/apmask}="${this.pApmask}"\n` : '') +
      (this.validPAq ? `ATTR{../../bus/ap/aqmask}="${this.pAqmask}"\n` : '') +
      'RUN{builtin}+="kmod load vfio_ap"\n' +
      '\nLABEL="end_ap"\n'
    if (this.z.dryrun) {
      // misc_fopen: the shared tmpfile with -V (which ap.c then fclose()s), else /dev/null.
      if (this.z.o.verbose) {
        this.z.dryrunLog.push(`WRITE:${path}`)
        this.z.dryrunFileClosed = true
      }
      return
    }
    try {
      this.z.fs.writeFile(path, text)
    } catch (e) {
      this.z.o.error(`Could not write to file ${path}: ${errText(e)}\n`)
    }
  }

  /** ap_check_mask_changes: only APQNs given back to the host are checked. */
  private checkMaskChanges(config: number, adds: {ap: number[]; aq: number[]; pap: number[]; paq: number[]}): number {
    let rc: number = EXIT.OK
    let rc2: number = EXIT.OK
    if (scopeActive(config) && (adds.ap.length || adds.aq.length)) {
      const allAp = maskToList(this.apmask)
      const allAq = maskToList(this.aqmask)
      rc = this.checkAgainst(adds.ap, allAq, false, true)
      const r2 = this.checkAgainst(allAp, adds.aq, false, false)
      rc = rc === EXIT.OK ? r2 : rc
    }
    if ((scopePersistent(config) || scopeAutoconf(config)) && (adds.pap.length || adds.paq.length)) {
      const allAp = maskToList(this.pApmask)
      const allAq = maskToList(this.pAqmask)
      rc2 = this.checkAgainst(adds.pap, allAq, true, true)
      const r3 = this.checkAgainst(allAp, adds.paq, true, false)
      rc2 = rc2 === EXIT.OK ? r3 : rc2
    }
    return rc === EXIT.OK ? rc2 : rc
  }

  /** check_mask_changes: the running mdevs (sysfs) or the autostart definitions (/etc/mdevctl.d/matrix). */
  private checkAgainst(adapters: number[], domains: number[], persistent: boolean, typeap: boolean): number {
    let found = false
    const report = (uuid: string, a2: number[], d2: number[]) => {
      for (const a of adapters) {
        if (!a2.includes(a)) continue
        for (const d of domains) {
          if (!d2.includes(d)) continue
          const what = typeap ? 'apmask' : 'aqmask'
          this.z.o.warnx(
            persistent
              ? `persistent ${what} conflicts with defined autostart mdev ${uuid} APQN ${a >>> 0}.${d >>> 0}`
              : `${what} conflicts with mdev ${uuid} APQN ${a >>> 0}.${d >>> 0}`,
          )
          found = true
        }
      }
    }
    if (persistent) {
      const root = this.z.path(VFIO_AP_CONFIG_PATH)
      if (this.z.fs.isDir(root)) {
        for (const name of this.z.readdir(root)) {
          if (!isValidUuid(name)) continue
          const dev = readVfioApConfig(this.z.fs.readOrNull(`${root}/${name}`))
          if (!dev) continue
          if (dev.type === null) SIGSEGV() // strcmp(NULL, ...)
          if (dev.type !== VFIO_AP_TYPE || dev.manual) continue
          report(name, dev.adapters, dev.domains)
        }
      }
    } else {
      const root = this.z.sysfs('devices/vfio_ap/matrix/')
      if (this.z.fs.isDir(root)) {
        for (const name of this.z.readdir(root)) {
          if (!isValidUuid(name)) continue
          const text = this.z.fs.readOrNull(this.z.sysfs(`devices/vfio_ap/matrix/${name}/matrix`))
          if (text === null) SIGSEGV() // fgets on a NULL FILE
          const m = parseMatrix(text!)
          report(name, m.adapters, m.domains)
        }
      }
    }
    return found ? EXIT.INVALID_CONFIG : EXIT.OK
  }
}
