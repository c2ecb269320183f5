// A new random UUID (version 4, RFC 9562), for `aplab mdev create`,
// `mdevctl define` and libvirt's domains without one: sixteen bytes of the
// kernel's random source with the version and variant bits set, as
// libuuid's uuid_generate_random makes it (Web Crypto's global, the first
// time it is touched, loads Node's crypto module: a millisecond of every
// such call); where there is no /dev/urandom, from Web Crypto's global, or
// from Node's crypto module where the global is turned off
// (--no-experimental-global-webcrypto).

import {createRequire} from 'node:module'

import {kernelRandom} from '../state/files.js'

export function newUuid(): string {
  const b = kernelRandom(16)
  if (b) {
    b[6] = (b[6] & 0x0f) | 0x40
    b[8] = (b[8] & 0x3f) | 0x80
    const h = b.toString('hex')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
  const web = (globalThis as {crypto?: {randomUUID?: () => string}}).crypto
  if (typeof web?.randomUUID === 'function') return web.randomUUID()
  return (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomUUID()
}
