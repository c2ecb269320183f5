// dmesg's default line format: `[seconds.micros] message`.

import type {LogLine} from '../core/model.js'

export function dmesgText(lines: LogLine[]): string {
  return lines
    .map((l) => {
      const us = Math.round(l.t)
      const sec = Math.floor(us / 1e6)
      return `[${String(sec).padStart(5)}.${String(us % 1e6).padStart(6, '0')}] ${l.msg}\n`
    })
    .join('')
}
