// chzdev (s390-tools 2.43.0): the actions of chzdev.c, complete for device
// type `ap` (chzdev-ap.md §1); the command line is in chzdev_cmdline.ts.
// Other device types get the real tool's answers on a host that has none of
// their devices; paths that would create devices or change their type
// settings are not emulated (they end with an aplab message).

import type {Stdio} from '../libc.js'
import type {Fs} from '../sys.js'
import {CHZDEV_USAGE, type Options, getAction, newOptions, parseOptions} from './chzdev_cmdline.js'
import {AP_DEVTYPE, DEVTYPES, type Devtype} from './devtype.js'
import {EXIT, exitCodeToStr} from './exit_code.js'
import {ExportWriter, type ImportObject, exportRead} from './export.js'
import {NotEmulated, type ZOut, type ZdevContext, errText, notEmulated, runZdevTool, versionText} from './misc.js'
import {type DtState, Zdev} from './process.js'
import {type Selected, devSpecified, selectDevices} from './select.js'
import {type Attrib, CONFIG_ACTIVE, CONFIG_ALL, CONFIG_PERSISTENT, SITE_FALLBACK, type SettingList, scopeActive, scopeAutoconf, scopePersistent, settingChanges} from './setting.js'
import {tableAttribsShow, tableAttribsShowDetails, tableTypesShow} from './table.js'

export function runChzdev(argv: string[], fs: Fs, io: Stdio, ctx: ZdevContext): number {
  return runZdevTool(io, ctx, (o) => new Chzdev(fs, o, ctx).main(argv))
}

class Chzdev {
  private readonly z: Zdev
  private opts: Options = newOptions()
  private persModDevtypes = 0
  private persModDevs = 0

  constructor(
    fs: Fs,
    private readonly o: ZOut,
    private readonly ctx: ZdevContext,
  ) {
    this.z = new Zdev(fs, o, ctx)
  }

  main(argv: string[]): number {
    const o = this.o
    let drc = 0
    let rc = parseOptions(argv, this.opts, o, this.ctx)
    if (rc) drc = rc
    else {
      const opts = this.opts
      o.stdoutData = opts.export === '-'
      o.verbose = opts.verbose
      o.quiet = opts.quiet
      o.force = opts.force
      this.z.dryrun = opts.dryrun
      this.z.setBase(opts.base)
      if (opts.dryrun) o.info('Starting dry-run, configuration will not be changed\n')
      try {
        rc = this.action()
      } catch (e) {
        if (!(e instanceof NotEmulated)) throw e
        o.delayedPrint(4)
        return notEmulated(o, e.message)
      }
      if (rc) drc = rc
      else if ((this.persModDevs || this.persModDevtypes) && !opts.noRootCheck && !opts.dryrun) {
        // initrd check: the root device of the emulated host is none zdev knows.
        o.verb('Note: Could not determine if root device configuration needs to be updated\n')
      }
    }
    o.delayedPrint(0)
    this.z.miscExit()
    if (o.foundForceable && !o.force) o.info('Note: You can use --force to override safety checks (*)\n')
    return drc
  }

  private action(): number {
    const o = this.o
    switch (getAction(this.opts)) {
      case 'configure':
        return this.doConfigure()
      case 'deconfigure':
        this.actionNote('Deconfiguring devices in', this.opts.config)
        return this.configureDevices(1, null, true)
      case 'list-attribs':
        return this.doAttribs(false)
      case 'help-attribs':
        return this.doAttribs(true)
      case 'list-types':
        return tableTypesShow(o, null, true, false)
      case 'export':
        return this.doExport()
      case 'import':
        return this.doImport()
      case 'is-owner':
        return this.doIsOwner()
      case 'apply':
        return this.doApply()
      case 'help':
        o.out(CHZDEV_USAGE)
        return EXIT.OK
      case 'version':
        o.out(versionText(this.ctx.prog))
        return EXIT.OK
    }
  }

  private actionNote(msg: string, config: number): void {
    if (config === CONFIG_ACTIVE) this.o.info(`${msg} the active configuration only\n`)
    else if (config === CONFIG_PERSISTENT) {
      if (this.opts.siteId === SITE_FALLBACK) this.o.info(`${msg} the persistent configuration only\n`)
      else this.o.info(`${msg} the site ${this.opts.siteId} configuration only\n`)
    } else if (config === 4) this.o.info(`${msg} the auto-configuration only\n`)
  }

  // --- device types -------------------------------------------------------------------------------

  private doConfigure(): number {
    if (this.opts.type) {
      this.actionNote('Configuring device type in', this.opts.config)
      return this.configureDevtype()
    }
    this.actionNote('Configuring devices in', this.opts.config)
    return this.configureDevices(1, null, false)
  }

  private needsWriting(st: DtState, config: number): boolean {
    return (scopeActive(config) && !!st.active && st.active.modified()) || (scopePersistent(config) && !!st.persistent && st.persistent.modified())
  }

  /** apply_setting of devtype.c: known or unknown attribute, one value each. */
  private applySetting(st: DtState, config: number, key: string, value: string, processed: string[]): number {
    const o = this.o
    const a = st.def.typeAttribs.find((x) => x.name === key) ?? null
    if (a) {
      if (!o.force && !a.multi && processed.includes(key)) {
        o.delayedForceable(`Cannot specify multiple values for attribute '${key}'\n`)
        return EXIT.INVALID_SETTING
      }
    } else {
      if (!st.def.unknownTypeAttribs) {
        o.delayedErr(`Unknown device type attribute specified: ${key}\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
      if (!o.force) {
        o.delayedForceable(`Unknown device type attribute specified: ${key}\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
    }
    processed.push(key)
    if (scopeActive(config)) st.active?.applySpecified(a, key, value)
    if (scopePersistent(config)) st.persistent?.applySpecified(a, key, value)
    return EXIT.OK
  }

  private applyStrlist(st: DtState, config: number, settings: string[]): number {
    const processed: string[] = []
    for (const kv of settings) {
      const eq = kv.indexOf('=')
      const rc = this.applySetting(st, config, kv.slice(0, eq), kv.slice(eq + 1), processed)
      if (rc) return rc
    }
    return EXIT.OK
  }

  private applySettings(st: DtState, config: number, list: SettingList): number {
    const processed: string[] = []
    for (const s of list.items) {
      const rc = this.applySetting(st, config, s.name, s.value, processed)
      if (rc) return rc
    }
    return EXIT.OK
  }

  private removable(list: SettingList | null, active: boolean): number {
    if (!list) return 0
    return list.items.filter((s) => (!active || (s.attrib && s.attrib.activerem)) && !s.derived && !(s.attrib && s.attrib.mandatory)).length
  }

  private removeAll(st: DtState, config: number): number {
    const act = scopeActive(config) ? this.removable(st.active, true) : 0
    const pers = scopePersistent(config) ? this.removable(st.persistent, false) : 0
    if (act === 0 && pers === 0) {
      this.o.delayedErr('No removable settings found\n')
      return EXIT.SETTING_NOT_FOUND
    }
    const mark = (list: SettingList | null, active: boolean) => {
      for (const s of list?.items ?? []) {
        if ((active && !(s.attrib && s.attrib.activerem)) || s.derived || (s.attrib && s.attrib.mandatory)) continue
        s.removed = true
        s.modified = true
      }
    }
    if (act) mark(st.active, true)
    if (pers) mark(st.persistent, false)
    return EXIT.OK
  }

  private removeSettings(st: DtState, config: number, names: string[]): number {
    const notfound: string[] = []
    const remove = (list: SettingList | null, checkActiverem: boolean): number => {
      for (const name of names) {
        const s = list?.find(name)
        if (s && !s.derived) {
          if (s.attrib && s.attrib.mandatory) {
            this.o.delayedErr(`Cannot remove setting for mandatory attribute '${name}'\n`)
            return EXIT.USAGE_ERROR
          }
          if (checkActiverem && s.attrib && !s.attrib.activerem) {
            this.o.delayedErr(`Cannot remove setting '${name}' from the active configuration\n`)
            return EXIT.USAGE_ERROR
          }
          s.removed = true
          s.modified = true
          continue
        }
        if (!notfound.includes(name)) notfound.push(name)
      }
      return EXIT.OK
    }
    let rc = EXIT.OK as number
    if (scopeActive(config)) rc = remove(st.active, true)
    if (!rc && scopePersistent(config)) rc = remove(st.persistent, false)
    if (rc) return rc
    if (notfound.length) {
      this.o.delayedErr(`Setting not found: ${notfound.join(' ')}\n`)
      return EXIT.SETTING_NOT_FOUND
    }
    return EXIT.OK
  }

  private printDevtypeResult(st: DtState, config: number, rc: number): void {
    const o = this.o
    if (rc) {
      o.warn(`${st.def.name} device type configure failed\n`)
      if (o.delayedErrors === 0) o.delayedErr(`${exitCodeToStr(rc)}\n`)
    } else if (!this.needsWriting(st, config)) o.out(`${st.def.name} device type already configured\n`)
    else {
      o.out(`${st.def.name} device type configured\n`)
      if (o.verbose) {
        const changes = settingChanges(scopeActive(config) ? st.active : null, scopePersistent(config) ? st.persistent : null)
        if (changes) o.info(`    Changes: ${changes}\n`)
      }
    }
    o.delayedPrint(4)
  }

  private configureDevtype(): number {
    const opts = this.opts
    const st = this.z.dt(opts.select.devtype!)
    let rc = this.z.readSettings(st, opts.config)
    if (!rc && opts.removeAll) rc = this.removeAll(st, opts.config)
    if (!rc && opts.remove.length) rc = this.removeSettings(st, opts.config, opts.remove)
    if (!rc) rc = this.applyStrlist(st, opts.config, opts.settings)
    if (!rc && this.needsWriting(st, opts.config)) {
      if (scopePersistent(opts.config)) this.persModDevtypes++
      rc = this.z.writeSettings(st, opts.config)
    }
    this.printDevtypeResult(st, opts.config, rc)
    return rc
  }

  private applyDevtype(def: Devtype, specified: boolean, found: {n: number}): number {
    const st = this.z.dt(def)
    let rc = this.z.readSettings(st, CONFIG_ALL)
    if (rc) return rc
    if (!st.persistent || st.persistent.countSet() === 0) {
      if (!specified) return EXIT.OK
      rc = EXIT.NO_DATA
    } else {
      found.n++
      rc = this.applySettings(st, CONFIG_ACTIVE, st.persistent)
      if (!rc && this.needsWriting(st, CONFIG_ACTIVE)) rc = this.z.writeSettings(st, CONFIG_ACTIVE)
    }
    this.printDevtypeResult(st, CONFIG_ACTIVE, rc)
    return rc
  }

  private doApply(): number {
    const opts = this.opts
    let drc = 0
    const found = {n: 0}
    let specified = 0
    if (opts.type) {
      let rc = 0
      if (opts.select.devtype) {
        specified++
        rc = this.applyDevtype(opts.select.devtype, true, found)
      } else {
        for (const def of DEVTYPES) {
          const r = this.applyDevtype(def, false, found)
          if (r && !rc) rc = r
        }
      }
      if (rc && !drc) drc = rc
    }
    if (devSpecified(opts.select)) {
      specified++
      const rc = this.configureDevices(1, found, false)
      if (rc && !drc) drc = rc
    }
    if (!found.n && !specified) {
      this.o.error('No configuration data found\n')
      if (!drc) drc = EXIT.NO_DATA
    }
    return drc
  }

  private doAttribs(details: boolean): number {
    const o = this.o
    const opts = this.opts
    const def = opts.select.devtype!
    const names = opts.positional.length ? opts.positional : null
    let attribs: Attrib[] | null
    if (opts.type) {
      if (!details && def.typeAttribs.length === 0) {
        o.error(`Device type ${def.name} does not provide type attributes\n`)
        return EXIT.ATTRIB_NOT_FOUND
      }
      if (def !== AP_DEVTYPE && def.typeAttribs.length) throw new NotEmulated(`describing ${def.name} device type attributes`)
      attribs = []
      for (const n of names ?? def.typeAttribs.map((a) => a.name)) {
        const a = def.typeAttribs.find((x) => x.name === n)
        if (!a) {
          o.error(`${def.name} type attribute '${n}' not found!\n`)
          attribs = null
          break
        }
        attribs.push(a)
      }
    } else {
      if (def !== AP_DEVTYPE) throw new NotEmulated(`describing ${def.name} device attributes`)
      // The ap device type has no device attributes.
      attribs = []
      if (names) {
        o.error(`${opts.select.subtype ? opts.select.subtype.devname : def.devname} attribute '${names[0]}' not found!\n`)
        attribs = null
      }
    }
    if (!attribs) return EXIT.ATTRIB_NOT_FOUND
    if (details) tableAttribsShowDetails(o, attribs)
    else tableAttribsShow(o, attribs)
    return EXIT.OK
  }

  // --- devices --------------------------------------------------------------------------------------

  /**
   * configure_devices / deconfigure_devices on a host with no such devices:
   * every selected ID ends in "not found" (or "already deconfigured").
   */
  private configureDevices(specified: number, found: {n: number} | null, deconfigure: boolean): number {
    const o = this.o
    const opts = this.opts
    const config = opts.config
    const sel = opts.select
    let existing = true
    if (!deconfigure && ((!scopeActive(config) && (scopePersistent(config) || scopeAutoconf(config))) || (sel.subtype && sel.subtype.definable))) existing = false
    const selected: Selected[] = []
    const rc = selectDevices(this.z, sel, selected, existing, !deconfigure, config)
    if (rc) return rc
    if (selected.length === 0) {
      if (!specified) return EXIT.OK
      o.error('No device was selected!\n')
      return EXIT.EMPTY_SELECTION
    }
    if (opts.siteId !== SITE_FALLBACK) {
      for (const s of selected) {
        if (s.dt && s.dt.name !== 'dasd') {
          o.error(`Site specific configuration is not supported for ${s.dt.devname} devices\n`)
          return EXIT.OK
        }
      }
    }
    let drc = 0
    for (const s of selected) {
      let r = deconfigure ? EXIT.DEVICE_NOT_FOUND : s.rc
      if (!deconfigure && r === EXIT.INCOMPLETE_TYPE && scopeActive(config)) r = EXIT.DEVICE_NOT_FOUND
      r = this.printConfigResult(s, config, r, deconfigure)
      if (r && !drc) drc = r
    }
    void found
    return drc
  }

  private printConfigResult(sel: Selected, config: number, rc: number, deconfigure: boolean): number {
    const o = this.o
    const op = deconfigure ? 'deconfigure' : 'configure'
    const verb = deconfigure ? 'deconfigured' : 'configured'
    let already = false
    if (deconfigure && rc === EXIT.DEVICE_NOT_FOUND && !scopeActive(config) && (scopePersistent(config) || scopeAutoconf(config))) {
      rc = EXIT.OK
      already = true
    }
    if (o.force) already = false
    const devname = sel.st ? sel.st.devname : sel.dt ? sel.dt.devname : 'Device'
    const devid = sel.id || (sel.param ?? '')
    if (rc) {
      o.warn(`${devname} ${devid} ${op} failed\n`)
      if (o.delayedErrors === 0) o.delayedErr(`${exitCodeToStr(rc)}\n`)
    } else if (already) o.out(`${devname} ${devid} already ${verb}\n`)
    else o.out(`${devname} ${devid} ${verb}\n`)
    o.delayedPrint(4)
    return rc
  }

  // --- export and import ----------------------------------------------------------------------------

  private doExport(): number {
    const o = this.o
    const opts = this.opts
    const file = opts.export!
    const toStdout = file === '-'
    if (toStdout) o.info('Exporting data to standard output\n')
    else {
      o.info(`Exporting data to ${file}\n`)
      try {
        this.ctx.writeFile(file, '')
      } catch (e) {
        o.error(`Could not write to file ${file}: ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    const w = new ExportWriter(this.ctx.nodename)
    let rc = EXIT.OK as number
    const devices = devSpecified(opts.select)
    if (opts.type && !devices) {
      for (const def of DEVTYPES) {
        if (opts.select.devtype && def !== opts.select.devtype) continue
        rc = this.exportDevtype(w, def)
        if (rc) break
      }
    }
    if (!rc && devices) {
      const selected: Selected[] = []
      rc = selectDevices(this.z, opts.select, selected, true, false, opts.config)
      if (!rc) {
        let drc = 0
        for (const s of selected) {
          const devname = s.st ? s.st.devname : s.dt ? s.dt.devname : 'Device'
          o.warn(`${devname} ${s.id} export failed\n`)
          o.warn(`    Error: ${exitCodeToStr(s.rc)}\n`)
          if (!drc) drc = s.rc
        }
        rc = drc
      }
    }
    if (rc === EXIT.OK && w.first) {
      o.error('No settings found to export\n')
      rc = EXIT.EMPTY_SELECTION
    }
    if (toStdout) o.out(w.text)
    else {
      try {
        this.ctx.writeFile(file, w.text)
      } catch {
        // fclose() result is not checked
      }
    }
    return rc
  }

  private exportDevtype(w: ExportWriter, def: Devtype): number {
    const st = this.z.dt(def)
    const rc = this.z.readSettings(st, this.opts.config)
    if (rc || st.processed) return rc
    st.processed = true
    w.devtype(st, this.opts.config)
    return EXIT.OK
  }

  private doImport(): number {
    const o = this.o
    const opts = this.opts
    const file = opts.import!
    let text: string
    let filename: string
    if (file === '-') {
      filename = 'Standard input'
      text = this.ctx.stdin ?? ''
    } else {
      filename = file
      try {
        text = this.ctx.readFile(file)
      } catch (e) {
        o.error(`Could not open file ${file}: ${errText(e)}\n`)
        return EXIT.RUNTIME_ERROR
      }
    }
    o.info(`Importing data from ${filename}\n`)
    const objects: ImportObject[] = []
    const rc = exportRead(this.z, filename, text, objects)
    if (rc) return rc
    const found = objects.length > 0
    const kept = objects.filter((obj) => (obj.kind === 'devtype' ? this.importDevtypeSelected(obj.st) : this.importDeviceSelected(obj)))
    if (kept.length === 0) {
      if (found) {
        o.error(`${filename}: Imported configuration data did not match selection\n`)
        return EXIT.EMPTY_SELECTION
      }
      o.info(`${filename}: No settings found to import\n`)
      return EXIT.OK
    }
    let drc = 0
    for (const obj of kept) {
      const r = obj.kind === 'devtype' ? this.importDevtype(obj.st) : this.importDevice(obj)
      if (r && !drc) drc = r
    }
    return drc
  }

  private importDevtypeSelected(st: DtState): boolean {
    const opts = this.opts
    if (!opts.type) return false
    if (opts.config === CONFIG_ACTIVE && (!st.active || st.active.items.length === 0)) return false
    if (opts.config === CONFIG_PERSISTENT && (!st.persistent || st.persistent.items.length === 0)) return false
    return true
  }

  private importDeviceSelected(dev: Extract<ImportObject, {kind: 'device'}>): boolean {
    const s = this.opts.select
    if (!devSpecified(s)) return false
    if ((dev.config & this.opts.config) === 0) return false
    if (s.devtype && !s.devtype.subtypes.includes(dev.st)) return false
    if (s.subtype && dev.st !== s.subtype) return false
    if (s.devids.length) return s.devids.includes(dev.id)
    return !(s.online || s.failed)
  }

  private importDevtype(st: DtState): number {
    const opts = this.opts
    if (st.processed) return EXIT.OK
    const active = st.active ? st.active.copy() : null
    const persistent = st.persistent ? st.persistent.copy() : null
    st.active = null
    st.persistent = null
    let rc = this.z.readSettings(st, opts.config)
    if (!rc) {
      st.processed = true
      if (active) rc = this.applySettings(st, CONFIG_ACTIVE, active)
      if (!rc && persistent) rc = this.applySettings(st, CONFIG_PERSISTENT, persistent)
      if (!rc && this.needsWriting(st, opts.config)) {
        if (scopePersistent(opts.config)) this.persModDevtypes++
        rc = this.z.writeSettings(st, opts.config)
      }
    }
    this.printDevtypeResult(st, opts.config, rc)
    return rc
  }

  /** import_device: the device does not exist on this host. */
  private importDevice(dev: Extract<ImportObject, {kind: 'device'}>): number {
    const config = dev.config & this.opts.config
    if (!scopeActive(config) || dev.st.definable) throw new NotEmulated(`importing the configuration of ${dev.st.devname} ${dev.id}`)
    this.o.warn(`${dev.st.devname} ${dev.id} configure failed\n`)
    if (this.o.delayedErrors === 0) this.o.delayedErr(`${exitCodeToStr(EXIT.DEVICE_NOT_FOUND)}\n`)
    this.o.delayedPrint(4)
    return EXIT.DEVICE_NOT_FOUND
  }

  /** --is-owner FILE: was the file generated by chzdev? */
  private doIsOwner(): number {
    const file = this.opts.isOwner!
    const fs = this.z.fs
    let text: string
    try {
      text = fs.read(file)
    } catch (e) {
      this.o.error(`Could not open file ${file}: ${errText(e)}\n`)
      return EXIT.RUNTIME_ERROR
    }
    if (text === '') return EXIT.RUNTIME_ERROR
    // EXIT_UNKNOWN_FILE (value not in the sources read; assumed next after EXIT_UNGROUP_FAILED).
    return text.startsWith('# Generated by chzdev') ? EXIT.OK : 33
  }
}
