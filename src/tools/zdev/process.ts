// One chzdev/lszdev process (s390-tools 2.43.0): the Zdev object holds the
// file system access (--base of path.c, SYSFS_ROOT of libutil), the
// dry-run record and misc_exit of misc.c, the cio_ignore look-up, the
// device type objects and their read/write dispatch (devtype.c); the ap
// type's own part is in ap.ts. apUdevMasks serves ap-check's reading of
// 41-ap.rules through the same code.

import {Crash} from '../libc.js'
import type {Fs} from '../sys.js'
import {AP_UDEV_RULE, ApType} from './ap.js'
import {AP_DEVTYPE, DEVTYPES, type Devtype, devtypeModules} from './devtype.js'
import {EXIT} from './exit_code.js'
import {maskToList} from './libap.js'
import {NotEmulated, ZOut, type ZdevContext, errText} from './misc.js'
import {type Namespace, nsIdValid, nsOf, nsRangeValid} from './namespace.js'
import type {SelectOpts} from './select.js'
import {SettingList, scopeActive, scopePersistent} from './setting.js'

export interface DtState {
  def: Devtype
  active: SettingList | null
  persistent: SettingList | null
  activeExists: boolean
  persistentExists: boolean
  processed: boolean
}

/** One chzdev/lszdev process: the file system, the messages and the device type objects. */
export class Zdev {
  private readonly base: Array<{from: string; to: string}> = []
  readonly dts = new Map<string, DtState>()
  dryrun = false
  /** Actions recorded by --dry-run (the tmpfile of misc.c). */
  readonly dryrunLog: string[] = []
  /** ap.c fclose()d the shared dry-run file (--dry-run -V with a rule write). */
  dryrunFileClosed = false
  private cioIgnoreWarned = false
  /** The ap device type's masks and their files (ap.c). */
  readonly ap: ApType = new ApType(this)

  constructor(
    readonly fs: Fs,
    readonly o: ZOut,
    readonly ctx: ZdevContext,
  ) {}

  dt(def: Devtype): DtState {
    let s = this.dts.get(def.name)
    if (!s) this.dts.set(def.name, (s = {def, active: null, persistent: null, activeExists: false, persistentExists: false, processed: false}))
    return s
  }

  /** path_set_base: `--base PATH` and `--base FROM=TO`, longest FROM first. */
  setBase(list: string[]): void {
    for (const b of list) {
      const eq = b.indexOf('=')
      const from = eq < 0 ? '' : b.slice(0, eq)
      const to = eq < 0 ? b : b.slice(eq + 1)
      const at = this.base.findIndex((p) => p.from.length < from.length)
      if (at < 0) this.base.push({from, to})
      else this.base.splice(at, 0, {from, to})
    }
  }

  /** path_get: a path with the --base conversion applied. */
  path(p: string): string {
    for (const b of this.base) if (p.startsWith(b.from)) return b.to + p.slice(b.from.length)
    return p
  }

  /** util_path_sysfs: below SYSFS_ROOT. */
  sysfs(rel: string): string {
    return `${this.ctx.sysfsRoot ?? '/sys'}/${rel}`
  }

  /** The entries of a directory; a warning and none when it cannot be read. */
  readdir(path: string): string[] {
    try {
      return this.fs.readdir(path)
    } catch (e) {
      this.o.warn(`Could not open directory ${path}: ${errText(e)}\n`)
      return []
    }
  }

  /** The first line of a file (util_file_read_line into a 67-byte buffer), or null. */
  readLine(path: string): string | null {
    const t = this.fs.readOrNull(path)
    if (t === null || t === '') return null
    const nl = t.indexOf('\n')
    return (nl < 0 ? t : t.slice(0, nl)).slice(0, 66)
  }

  // --- cio_ignore -----------------------------------------------------------------------------------

  /** unblacklist_devices: a device ID of a namespace with a blacklist makes zdev read /proc/cio_ignore. */
  unblacklistCheck(sel: SelectOpts): void {
    const nss = new Set<Namespace>()
    for (const dt of DEVTYPES) {
      if (sel.devtype && dt !== sel.devtype) continue
      for (const st of dt.subtypes) if (!sel.subtype || st === sel.subtype) nss.add(nsOf(st))
    }
    for (const ns of nss) {
      if (!ns.blacklist) continue
      for (const id of sel.devids) {
        if (nsIdValid(ns, id) || nsRangeValid(ns, id)) this.readCioIgnore()
      }
    }
  }

  private readCioIgnore(): void {
    const path = this.path('/proc/cio_ignore')
    if (this.fs.readOrNull(path) !== null || this.cioIgnoreWarned) return
    this.o.warn(`Failed to read ${path}: Could not access CIO blacklist\n`)
    this.cioIgnoreWarned = true
  }

  // --- files ------------------------------------------------------------------------------------------

  /** remove_file: dry-run aware unlink. */
  removeFile(path: string): number {
    if (this.dryrun) {
      this.dryrunLog.push(`CMD:rm -f ${path}\n`)
      return EXIT.OK
    }
    try {
      this.fs.unlink(path)
      return EXIT.OK
    } catch (e) {
      this.o.delayedErr(`Could not remove file ${path}: ${errText(e)}\n`)
      return EXIT.RUNTIME_ERROR
    }
  }

  /** path_create: create the missing directories of `path` (real even with --dry-run). */
  pathCreate(path: string): number {
    const parts = path.split('/')
    for (let i = 1; i < parts.length - 1; i++) {
      const dir = parts.slice(0, i + 1).join('/')
      if (dir === '') continue
      if (this.fs.exists(dir)) {
        if (!this.fs.isDir(dir)) {
          this.o.error(`Non-directory found in path '${path}': ${dir}\n`)
          return EXIT.RUNTIME_ERROR
        }
        continue
      }
      try {
        this.fs.mkdirp(dir)
      } catch (e) {
        this.o.error(`Could not create directory '${dir}': ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    return EXIT.OK
  }

  /** misc_exit: with --dry-run -V, print the skipped actions (or crash on the closed tmpfile). */
  miscExit(): void {
    if (this.dryrunLog.length === 0 || !this.o.verbose) return
    if (this.dryrunFileClosed) {
      // dryrun_print() works on the FILE that ap.c fclose()d: observed to
      // abort when the tmpfile was first opened for the rule's removal.
      if (this.dryrunLog[0].startsWith('CMD:')) throw new Crash(134, 'free(): invalid pointer\n')
      return
    }
    this.o.info('Skipped actions due to --dry-run:\n')
    let cmd = false
    for (const e of this.dryrunLog) {
      if (!cmd) {
        this.o.info('  Run:\n')
        cmd = true
      }
      this.o.indent(4, e.slice(4))
    }
  }

  // --- device types: read ---------------------------------------------------------------------------

  /** dt->read_settings */
  readSettings(st: DtState, config: number): number {
    if (st.def === AP_DEVTYPE) return this.ap.readSettings(st, config)
    if (st.def.moduleParams) {
      // Module parameters: /sys/module/<mod>/parameters and /etc/modprobe.d/s390x-<type>.conf.
      if (scopeActive(config) && !st.active) {
        st.activeExists = false
        if (this.fs.isDir(this.path(`/sys/module/${st.def.moduleParams}`))) throw new NotEmulated(`reading ${st.def.name} module parameters`)
        st.active = new SettingList()
      }
      if (scopePersistent(config) && !st.persistent) {
        st.persistentExists = false
        if (this.fs.exists(this.path(`/etc/modprobe.d/s390x-${st.def.name}.conf`))) throw new NotEmulated(`reading /etc/modprobe.d/s390x-${st.def.name}.conf`)
        st.persistent = new SettingList()
      }
      return EXIT.OK
    }
    st.active = new SettingList()
    st.persistent = new SettingList()
    if (st.def.activeFromModules && scopeActive(config))
      st.activeExists = devtypeModules(st.def).some((m) => this.fs.isDir(this.path(`/sys/module/${m}`)))
    return EXIT.OK
  }

  // --- device types: write --------------------------------------------------------------------------

  /** dt->write_settings */
  writeSettings(st: DtState, config: number): number {
    if (st.def === AP_DEVTYPE) return this.ap.writeSettings(st, config)
    if (st.def.typeAttribs.length === 0) return EXIT.OK
    throw new NotEmulated(`changing ${st.def.name} device type settings`)
  }
}

/**
 * ap_read_udev_masks for ap-check: the masks of ROOT's 41-ap.rules as bit
 * lists, from ROOT's sysfs where the rule sets none; null on a read error.
 * util_udev's messages go to `err`; util_assert throws Crash.
 */
export function apUdevMasks(fs: Fs, root: string, err: (s: string) => void): {apmask: number[]; aqmask: number[]} | null {
  const o = new ZOut('ap-check', 'ap-check', false)
  const z = new Zdev(fs, o, {prog: 'ap-check', nodename: '', readFile: () => '', writeFile: () => {}, sysfsRoot: `${root}/sys`})
  try {
    if (!z.ap.readUdevMasks(`${root}${AP_UDEV_RULE}`)) return null
    return {apmask: maskToList(z.ap.pApmask), aqmask: maskToList(z.ap.pAqmask)}
  } finally {
    err(o.std.stderr)
  }
}
