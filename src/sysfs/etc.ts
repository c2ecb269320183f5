// The host's persistent files as a directory tree: /etc is read and written
// like a disk, and its contents survive reboots. A key ending in `/` stands
// for a directory that has no files yet.

import type {Persistent} from '../core/model.js'
import {type DirNode, type Node} from './vfs.js'

/** Directories the installed packages provide on every host (mdevctl, udev, systemd). */
export const STANDARD_DIRS = [
  '/etc/mdevctl.d/',
  '/etc/mdevctl.d/scripts.d/',
  '/etc/mdevctl.d/scripts.d/callouts/',
  '/etc/mdevctl.d/scripts.d/notifiers/',
  '/etc/modules-load.d/',
  '/etc/udev/',
  '/etc/udev/rules.d/',
]

function children(p: Persistent, dirPath: string): Map<string, 'file' | 'dir'> {
  const out = new Map<string, 'file' | 'dir'>()
  const keys = [...Object.keys(p.files), ...STANDARD_DIRS]
  for (const k of keys) {
    if (!k.startsWith(dirPath) || k === dirPath) continue
    const rest = k.slice(dirPath.length)
    const slash = rest.indexOf('/')
    if (slash < 0) out.set(rest, 'file')
    else out.set(rest.slice(0, slash), 'dir')
  }
  return out
}

/** The directory at `dirPath` (ending in `/`) of the persistent file store. */
export function etcDir(p: Persistent, dirPath = '/etc/'): DirNode {
  return {
    kind: 'dir',
    list: () => [...children(p, dirPath).keys()],
    // One lookup costs one probe for a file and, for a directory, a scan
    // that stops at the first key under it: not a listing of the directory
    // (with a thousand mdevctl definitions, every read of one was a scan of all).
    get: (name): Node | undefined => {
      if (name === '' || name.includes('/')) return undefined
      const key = dirPath + name
      const sub = key + '/'
      const isDir = (): boolean => {
        if (STANDARD_DIRS.some((d) => d.startsWith(sub))) return true
        for (const k in p.files) if (k.startsWith(sub)) return true
        return false
      }
      if (Object.hasOwn(p.files, key)) return {kind: 'file', mode: 0o644, show: () => p.files[key], store: (buf) => void (p.files[key] = buf)}
      return isDir() ? etcDir(p, sub) : undefined
    },
    create: (name, data) => {
      p.files[dirPath + name] = data
      delete p.files[dirPath]
    },
    mkdir: (name) => {
      p.files[`${dirPath}${name}/`] = ''
    },
    remove: (name) => {
      delete p.files[dirPath + name]
      // Keep the now empty directory, as unlink(2) does.
      if (children(p, dirPath).size === 0 && !STANDARD_DIRS.includes(dirPath)) p.files[dirPath] = ''
    },
  }
}
