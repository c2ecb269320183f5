// HMP's argument parsing for device_add and device_del (monitor/hmp.c
// get_str, system/qdev-monitor.c): the device or id, or QemuError with the
// monitor's own text. What the commands do is core/qemu/monitor.ts. Pure.
// Split out of src/core/qemu.ts.

import {deviceFromPairs, type QemuDevice} from './devices.js'
import {flagWarning, optsId, optTokens} from './options.js'
import {hintLines, hmpError, ID_HINT, ID_NOT_IDENTIFIER, idWellformed, missingParameter, QemuError} from './texts.js'

// ---------------------------------------------------------------------------
// HMP: device_add, device_del (monitor/hmp.c, system/qdev-monitor.c)

const isSpace = (c: string | undefined): boolean => c !== undefined && ' \t\n\v\f\r'.includes(c)

/** monitor/hmp.c get_str(): a "quoted" string with \n \r \\ \' \" escapes, or a word up to white space. */
function hmpGetStr(s: string, p: number): {value: string; end: number; stdout?: string} | null {
  while (isSpace(s[p])) p++
  if (p >= s.length) return null
  let v = ''
  if (s[p] === '"') {
    p++
    while (p < s.length && s[p] !== '"') {
      if (s[p] === '\\') {
        p++
        const c = s[p++]
        const map: Record<string, string> = {n: '\n', r: '\r', '\\': '\\', "'": "'", '"': '"'}
        if (c === undefined || !(c in map)) return {value: '', end: -1, stdout: `unsupported escape code: '\\${c ?? ''}'\n`}
        v += map[c]
      } else v += s[p++]
    }
    if (s[p] !== '"') return {value: '', end: -1, stdout: 'unterminated string\n'}
    p++
  } else {
    while (p < s.length && !isSpace(s[p])) v += s[p++]
  }
  return {value: v.slice(0, 1023), end: p}
}

const tryHelp = (cmd: string): string => `Try "help ${cmd}" for more information`

export interface HmpDeviceAdd {
  device: QemuDevice
  /** Lines the monitor printed while parsing (short-form boolean warnings). */
  monitor: string[]
}

/**
 * HMP `device_add ARG` (ARG is everything after the command name): the device,
 * or QemuError whose message is what the monitor prints (no program prefix).
 */
export function parseDeviceAddFull(arg: string): HmpDeviceAdd {
  let p = 0
  while (isSpace(arg[p])) p++
  const monitor: string[] = []
  if (p >= arg.length) throw new QemuError(hmpError(missingParameter('driver')))
  const g = hmpGetStr(arg, p)!
  if (g.end < 0) throw new QemuError([tryHelp('device_add')], {stdout: g.stdout})
  const params = g.value
  // qemu_opts_parse_noisily(device opts, params, true): errors via error_report_err, no "Error: ".
  const id = optsId(params)
  if (id !== undefined && !idWellformed(id)) {
    throw new QemuError([ID_NOT_IDENTIFIER, ...hintLines(ID_HINT), tryHelp('device_add')])
  }
  const toks = optTokens(params, 'driver')
  for (const t of toks) if (t.flag && !t.help) monitor.push(...flagWarning(t, null, null))
  let q = g.end
  while (isSpace(arg[q])) q++
  if (q < arg.length) {
    throw new QemuError([...monitor, 'device_add: extraneous characters at the end of line', tryHelp('device_add')])
  }
  const device = deviceFromPairs(
    toks.map((t) => [t.name, t.value]),
    id,
    {},
  )
  if (!device.driver) throw new QemuError([...monitor, ...hmpError(missingParameter('driver'))])
  return {device, monitor}
}

/** HMP `device_add ARG`: the device, or QemuError with the monitor's text. */
export function parseDeviceAdd(arg: string): QemuDevice {
  return parseDeviceAddFull(arg).device
}

/** HMP `device_del ID`: the id, or QemuError with the monitor's text. */
export function parseDeviceDel(arg: string): string {
  const g = hmpGetStr(arg, 0)
  if (!g) throw new QemuError(['device_del: string expected', tryHelp('device_del')])
  if (g.end < 0) throw new QemuError(['device_del: string expected', tryHelp('device_del')], {stdout: g.stdout})
  let q = g.end
  while (isSpace(arg[q])) q++
  if (q < arg.length) throw new QemuError(['device_del: extraneous characters at the end of line', tryHelp('device_del')])
  return g.value
}
