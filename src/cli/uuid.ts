// A new random UUID (version 4), for `aplab mdev create`, `mdevctl define`
// and libvirt's domains without one: from Web Crypto's global, so that Node's
// crypto module is loaded only when a UUID is made, or from that module where
// the global is turned off (--no-experimental-global-webcrypto).

import {createRequire} from 'node:module'

export function newUuid(): string {
  const web = (globalThis as {crypto?: {randomUUID?: () => string}}).crypto
  if (typeof web?.randomUUID === 'function') return web.randomUUID()
  return (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).randomUUID()
}
