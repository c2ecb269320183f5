// The host's own commands as drop-ins: kmod's modprobe and lsmod and
// util-linux's dmesg (src/tools/kmod.ts, dmesg.ts), on the state of
// $APLAB_STATE and the host of $APLAB_HOST, as the caller $APLAB_UID. The
// binaries and `aplab modprobe|lsmod|dmesg` run the same code.

import {type Env, pickHost, writeOut} from './env.js'

/** dmesg -w in aplab batch or the library: the state is held in memory, so no record can come. */
const BATCH_NO_FOLLOW = 'dmesg: cannot follow the kernel log here: the state is held in memory (aplab batch), no other process can log\n'

export type HostTool = 'modprobe' | 'lsmod' | 'dmesg'

export async function runHostTool(tool: HostTool, argv: string[], env: Env): Promise<number> {
  const store = await import('../state/store.js')
  if (tool === 'dmesg') {
    const {mayClear, runDmesg} = await import('../tools/dmesg.js')
    const noFollow = store.heldInSession(env.state) ? BATCH_NO_FOLLOW : undefined
    let followed: import('../live/kmsg.js').Followed | undefined
    const show = (w: import('../core/model.js').World) => {
      const h = pickHost(w, env.host)
      const d = runDmesg(argv, h.runtime.dmesg, h.runtime.bootTime, env.uid, noFollow)
      if (d.clear) h.runtime.dmesg = []
      if (d.follow) followed = {host: h.name, bootTime: h.runtime.bootTime, log: h.runtime.dmesg}
      return d
    }
    const d = mayClear(argv) ? await store.mutate(env.state, show) : show(await store.load(env.state))
    if (d.follow) {
      const {followKmsg, lineBuffered} = await import('../live/kmsg.js')
      if (d.stderr) writeOut(2, d.stderr)
      const out = lineBuffered((t) => writeOut(1, t))
      out(d.stdout)
      return followKmsg(env, followed!, d.follow, out)
    }
    if (d.stdout) writeOut(1, d.stdout)
    if (d.stderr) writeOut(2, d.stderr)
    return d.code
  }
  const kmod = await import('../tools/kmod.js')
  let r: {stdout: string; stderr: string; code: number}
  if (tool === 'lsmod') {
    const {loadedModules} = await import('../core/modules.js')
    r = kmod.parseLsmod(argv) ?? {stdout: kmod.lsmodText(loadedModules(pickHost(await store.load(env.state), env.host))), stderr: '', code: 0}
  } else {
    const a = kmod.parseModprobe(argv)
    if ('code' in a) r = a
    else if (a.dryRun) r = kmod.runModprobe(pickHost(await store.load(env.state), env.host), a, env.uid)
    else r = await store.mutate(env.state, (w) => kmod.runModprobe(pickHost(w, env.host), a, env.uid))
  }
  if (r.stdout) writeOut(1, r.stdout)
  if (r.stderr) writeOut(2, r.stderr)
  return r.code
}
