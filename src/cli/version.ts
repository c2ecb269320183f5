// `aplab --version`: the line oclif prints for it (its Config's userAgent:
// NAME/VERSION PLATFORM-ARCH node-NODEVERSION, with `wsl` for Linux under
// Windows and `x86` for ia32), without loading oclif for it.

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import isWsl from 'is-wsl'

import {packageRoot} from './package.js'

export function userAgent(): string {
  const pjson = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {name: string; version: string}
  const arch = os.arch() === 'ia32' ? 'x86' : os.arch()
  return `${pjson.name}/${pjson.version} ${isWsl ? 'wsl' : os.platform()}-${arch} node-${process.version}`
}
