// Configuration sets (misc.h's config_t: active, persistent, autoconf),
// attributes (attrib.h) and settings with their lists (setting.c), as
// chzdev and lszdev (s390-tools 2.43.0) use them for device type settings.

// --- configuration sets ------------------------------------------------------------------------------

export const CONFIG_ACTIVE = 1
export const CONFIG_PERSISTENT = 2
export const CONFIG_AUTOCONF = 4
export const CONFIG_ALL = 7
export const SITE_FALLBACK = 10

export const scopeActive = (c: number): boolean => (c & CONFIG_ACTIVE) !== 0
export const scopePersistent = (c: number): boolean => (c & CONFIG_PERSISTENT) !== 0
export const scopeAutoconf = (c: number): boolean => (c & CONFIG_AUTOCONF) !== 0
export const scopeSingle = (c: number): boolean => c === CONFIG_ACTIVE || c === CONFIG_PERSISTENT || c === CONFIG_AUTOCONF

export const getConfig = (active: boolean, persistent: boolean, autoconf: boolean): number =>
  (active ? CONFIG_ACTIVE : 0) | (persistent ? CONFIG_PERSISTENT : 0) | (autoconf ? CONFIG_AUTOCONF : 0)

export function configToStr(c: number): string {
  if (c === CONFIG_ACTIVE) return 'active'
  if (c === CONFIG_PERSISTENT) return 'persistent'
  if (c === CONFIG_AUTOCONF) return 'autoconf'
  if (c === CONFIG_ALL) return 'all'
  return 'multiple'
}


export function strToConfig(s: string): number | null {
  const l = s.toLowerCase()
  if (l === 'active') return CONFIG_ACTIVE
  if (l === 'persistent') return CONFIG_PERSISTENT
  if (l === 'autoconf') return CONFIG_AUTOCONF
  if (l === 'all') return CONFIG_ALL
  return null
}

// --- attributes and settings (attrib.h, setting.c) --------------------------------------------------

export interface Attrib {
  name: string
  title: string
  desc: string
  defval?: string
  rewrite?: boolean
  activerem?: boolean
  mandatory?: boolean
  activeonly?: boolean
  multi?: boolean
  readonly?: boolean
}

export interface Setting {
  name: string
  attrib: Attrib | null
  value: string
  modified: boolean
  specified: boolean
  removed: boolean
  derived: boolean
}

export class SettingList {
  readonly items: Setting[] = []

  find(name: string): Setting | undefined {
    return this.items.find((s) => s.name === name)
  }

  copy(): SettingList {
    const l = new SettingList()
    for (const s of this.items) l.items.push({...s, specified: false, derived: false})
    return l
  }

  modified(): boolean {
    return this.items.some((s) => s.modified)
  }

  countSet(): number {
    return this.items.filter(isSet).length
  }

  /** setting_list_apply_specified: the user's KEY=VALUE. */
  applySpecified(attrib: Attrib | null, name: string, value: string): Setting {
    const s = this.apply(attrib, name, value)
    s.specified = true
    return s
  }

  /** setting_list_apply: modify an existing setting or add a modified one. */
  apply(attrib: Attrib | null, name: string, value: string): Setting {
    const s = this.find(name)
    if (s) {
      // A rewrite of the same value is no change.
      if (!(!s.derived && s.attrib && !s.attrib.rewrite && s.value === value)) {
        s.value = value
        s.modified = true
        s.removed = false
      }
      return s
    }
    const n: Setting = {name, attrib, value, modified: true, specified: false, removed: false, derived: false}
    this.items.push(n)
    return n
  }

  /** A setting read from the configuration: not modified. */
  addRead(attrib: Attrib | null, name: string, value: string): void {
    this.items.push({name, attrib, value, modified: false, specified: false, removed: false, derived: false})
  }
}

export const isSet = (s: Setting): boolean => !s.removed && (s.modified || !s.derived)

/** setting_get_changes: the persistent list first, then active entries not yet listed. */
export function settingChanges(act: SettingList | null, pers: SettingList | null): string | null {
  const out: string[] = []
  const done = new Set<string>()
  if (pers) {
    for (const s of pers.items) {
      if (s.removed) out.push(`-${s.name}`)
      else if (s.modified) out.push(`${s.name}=${s.value}`)
      else continue
      done.add(s.name)
    }
  }
  if (act) {
    for (const s of act.items) {
      if (!s.modified && !s.removed) continue
      if (done.has(s.name)) continue
      out.push(s.removed ? `-${s.name}` : `${s.name}=${s.value}`)
      done.add(s.name)
    }
  }
  return out.length ? out.join(' ') : null
}
