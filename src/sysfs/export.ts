// `aplab export ROOT`: the host as real files, directories and symlinks,
// laid out like a host's root file system, so that tools reading sysfs from
// a directory (SYSFS_ROOT) see the same host.

import * as fs from 'node:fs'
import * as path from 'node:path'

import type {Host} from '../core/model.js'
import {hostVfs} from './host.js'
import type {Vfs} from './vfs.js'

function writeTree(vfs: Vfs, vpath: string, dest: string): void {
  const {node} = vfs.lookup(vpath, false)
  if (node.kind === 'link') {
    fs.symlinkSync(node.target, dest)
    return
  }
  if (node.kind === 'file') {
    let text = ''
    if (node.show)
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
  for (const name of node.list()) writeTree(vfs, `${vpath === '/' ? '' : vpath}/${name}`, path.join(dest, name))
}

/** The subtrees of ROOT that export writes (and --force replaces). */
export const EXPORTED = ['sys', 'proc', 'etc', 'usr/lib/mdevctl'] as const

export function exportHost(host: Host, root: string, force: boolean): void {
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
    writeTree(vfs, `/${d}`, path.join(root, d))
  }
}
