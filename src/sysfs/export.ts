// `aplab export ROOT`: the host as real files, directories and symlinks,
// laid out like a host's root file system, so that tools reading sysfs from
// a directory (SYSFS_ROOT) see the same host.

import * as fs from 'node:fs'
import * as path from 'node:path'

import type {Host} from '../core/model.js'
import {hostVfs} from './host.js'
import type {Vfs} from './vfs.js'
import {shQuote} from '../views/shell.js'

const AP_CHECK = '/usr/lib/mdevctl/scripts.d/callouts/ap-check'


/**
 * The exported ap-check: a script that runs aplab's ap-check on the tree it
 * lies in, so that a real mdevctl pointed at the tree (MDEVCTL_ENV_ROOT)
 * gets the answers s390-tools' ap-check would give on the host.
 */
export function apCheckScript(argv: string[]): string {
  return [
    '#!/bin/sh',
    '# ap-check of a host exported by aplab: aplab applies its rules to this tree.',
    `exec ${argv.map((a) => shQuote(a)).join(' ')} ap-check --root "$(cd "$(dirname "$0")/../../../../.." && pwd)" "$@"`,
    '',
  ].join('\n')
}

function writeTree(vfs: Vfs, vpath: string, dest: string, apCheck?: string): void {
  const {node} = vfs.lookup(vpath, false)
  if (node.kind === 'link') {
    fs.symlinkSync(node.target, dest)
    return
  }
  if (node.kind === 'file') {
    let text = ''
    if (vpath === AP_CHECK && apCheck !== undefined) text = apCheck
    else if (node.show)
      try {
        text = node.show()
      } catch {
        text = '' // an attribute whose read fails is exported empty
      }
    fs.writeFileSync(dest, text, {mode: 0o600})
    fs.chmodSync(dest, node.mode)
    return
  }
  fs.mkdirSync(dest, {mode: 0o755})
  for (const name of node.list()) writeTree(vfs, `${vpath === '/' ? '' : vpath}/${name}`, path.join(dest, name), apCheck)
}

/** The subtrees of ROOT that export writes (and --force replaces). */
export const EXPORTED = ['sys', 'proc', 'etc', 'usr/lib/mdevctl'] as const

/** @param apCheck the contents of the exported ap-check callout (default: the host's stub) */
export function exportHost(host: Host, root: string, force: boolean, apCheck?: string): void {
  if (path.resolve(root) === '/') throw new Error('refusing to export over /')
  fs.mkdirSync(root, {recursive: true})
  for (const d of EXPORTED) {
    const p = path.join(root, d)
    if (fs.existsSync(p)) {
      if (!force) throw new Error(`${p} exists already (use --force to replace it)`)
      fs.rmSync(p, {recursive: true, force: true})
    }
  }
  const vfs = hostVfs(host)
  for (const d of EXPORTED) {
    fs.mkdirSync(path.dirname(path.join(root, d)), {recursive: true})
    writeTree(vfs, `/${d}`, path.join(root, d), apCheck)
  }
}
