// How aplab's own commands refuse: one line naming what was refused and why,
// and a refusal that keeps what the kernel logged on the way.

import {AplabError, type Errno, UsageError, strerror} from '../core/errors.js'
import type {World} from '../core/model.js'
import {type Capability, capable} from '../core/perm.js'

/** `cannot WHAT: Strerror (ERRNO): why` */
export function refusal(what: string, errno: Errno, why?: string): AplabError {
  return new AplabError(`cannot ${what}: ${strerror(errno)} (${errno})${why ? `: ${why}` : ''}`)
}

/** Refuse WHAT unless uid has the capability the kernel checks for it (EPERM, as the system call fails). */
export function requireCapability(uid: number, cap: Capability, what: string, why: string): void {
  if (!capable(uid, cap)) throw refusal(what, 'EPERM', `${why} (${cap})`)
}

/**
 * mutate for a change the kernel may refuse: a refusal keeps what the kernel
 * logged on the way, as on a real host ("a refused operation changes nothing
 * but the kernel log"). The change must undo everything else itself before
 * it throws (all or nothing); the state is saved with the log, then the
 * refusal is reported. Usage errors are refused before anything runs.
 */
export async function mutateKeepingLog<T>(file: string, change: (w: World) => T | Promise<T>): Promise<T> {
  const {mutate} = await import('../state/store.js')
  const r = await mutate(file, async (w): Promise<{ok: T} | {refused: AplabError}> => {
    try {
      return {ok: await change(w)}
    } catch (e) {
      if (e instanceof AplabError && !(e instanceof UsageError)) return {refused: e}
      throw e
    }
  })
  if ('refused' in r) throw r.refused
  return r.ok
}
