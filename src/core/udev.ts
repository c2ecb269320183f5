// The part of udev that a host's AP configuration goes through at boot: the
// rules under /etc/udev/rules.d, matched against one event, with the
// assignments they make. chzdev's 41-ap.rules is the rule that matters; any
// rule written in the same language is read the same way.

/** One uevent as udev sees it. */
export interface UdevEvent {
  action: string
  /** Below /sys, e.g. `/devices/ap`. */
  devpath: string
  subsystem: string
  env: Record<string, string>
  /** The value of a sysfs attribute relative to the device (trailing whitespace removed), or null. */
  attr: (name: string) => string | null
}

/** What the matching rules ask for, in order. */
export type UdevAction = {kind: 'attr'; path: string; value: string} | {kind: 'builtin'; cmd: string} | {kind: 'program'; cmd: string}

interface Token {
  key: string
  /** The `{...}` part of `ENV{X}`, `ATTR{x}`, `RUN{builtin}`. */
  sub?: string
  op: '==' | '!=' | '=' | '+=' | '-=' | ':='
  value: string
}

const TOKEN_RE = /^\s*([A-Z_]+)(?:\{([^}]*)\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/

/** The tokens of one rule line, or null when the line is not a valid rule (udev skips it). */
export function parseRule(line: string): Token[] | null {
  const tokens: Token[] = []
  let rest = line
  while (rest.trim() !== '') {
    const m = TOKEN_RE.exec(rest)
    if (!m) return null
    tokens.push({key: m[1], sub: m[2], op: m[3] as Token['op'], value: m[4].replace(/\\(.)/g, '$1')})
    rest = rest.slice(m[0].length)
  }
  return tokens.length ? tokens : null
}

/** fnmatch with udev's `|` alternatives: `*`, `?` and `[...]`. */
export function globMatch(pattern: string, text: string): boolean {
  return pattern.split('|').some((alt) => {
    let re = '^'
    for (let i = 0; i < alt.length; i++) {
      const c = alt[i]
      if (c === '*') re += '.*'
      else if (c === '?') re += '.'
      else if (c === '[') {
        const end = alt.indexOf(']', i + 1)
        if (end < 0) re += '\\['
        else {
          re += '[' + alt.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']'
          i = end
        }
      } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
    }
    return new RegExp(re + '$', 's').test(text)
  })
}

function matchValue(t: Token, ev: UdevEvent): string | null | undefined {
  switch (t.key) {
    case 'ACTION':
      return ev.action
    case 'DEVPATH':
      return ev.devpath
    case 'SUBSYSTEM':
      return ev.subsystem
    case 'KERNEL':
      return ev.devpath.slice(ev.devpath.lastIndexOf('/') + 1)
    case 'ENV':
      return ev.env[t.sub ?? ''] ?? ''
    case 'ATTR':
      return ev.attr(t.sub ?? '') ?? null
    default:
      return undefined
  }
}

/** Resolve `rel` (as in `ATTR{../../bus/ap/apmask}`) against the device's sysfs directory. */
export function attrPath(devpath: string, rel: string): string {
  const parts = ['sys', ...devpath.split('/').filter(Boolean)]
  for (const p of rel.split('/')) {
    if (p === '..') {
      if (parts.length > 1) parts.pop()
    } else if (p && p !== '.') parts.push(p)
  }
  return '/' + parts.join('/')
}

/**
 * Run the rules files (name and text; udev orders them by name) against one
 * event: every line whose match keys all hold contributes its assignments;
 * `GOTO` skips to its `LABEL` in the same file.
 */
export function runRules(files: Array<[string, string]>, ev: UdevEvent): UdevAction[] {
  const actions: UdevAction[] = []
  const sorted = [...files].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  for (const [, text] of sorted) {
    const lines = text.split('\n')
    let skipTo: string | null = null
    for (const raw of lines) {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) continue
      const tokens = parseRule(line)
      if (!tokens) continue
      if (skipTo !== null) {
        if (tokens.some((t) => t.key === 'LABEL' && t.value === skipTo)) skipTo = null
        continue
      }
      const matches = tokens.filter((t) => t.op === '==' || t.op === '!=')
      const holds = matches.every((t) => {
        const v = matchValue(t, ev)
        if (v === undefined) return false
        const hit = v !== null && globMatch(t.value, v)
        return t.op === '==' ? hit : !hit
      })
      if (!holds) continue
      for (const t of tokens) {
        if (t.op === '==' || t.op === '!=') continue
        if (t.key === 'ATTR') actions.push({kind: 'attr', path: attrPath(ev.devpath, t.sub ?? ''), value: t.value})
        else if (t.key === 'RUN') actions.push({kind: t.sub === 'builtin' ? 'builtin' : 'program', cmd: t.value})
        else if (t.key === 'GOTO') skipTo = t.value
      }
    }
  }
  return actions
}
