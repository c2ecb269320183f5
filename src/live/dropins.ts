// The host commands' drop-ins that live with the live host: modprobe,
// lsmod and dmesg (bin/*.js run these), on the state of
// $APLAB_STATE and the host of $APLAB_HOST, as the caller $APLAB_UID.

import {errorMessage, pickHost, processEnv} from '../cli/env.js'

export type LiveDropIn = 'modprobe' | 'lsmod' | 'dmesg'

async function run(tool: LiveDropIn, argv: string[]): Promise<number> {
  const env = processEnv()
  const store = await import('../state/store.js')
  if (tool === 'dmesg') {
    const {runDmesg} = await import('./dmesg.js')
    const show = (w: import('../core/model.js').World) => {
      const h = pickHost(w, env.host)
      const d = runDmesg(argv, h.runtime.dmesg, h.runtime.bootTime, env.uid)
      if (d.clear) h.runtime.dmesg = []
      return d
    }
    const clears = /^-[^-]*[Cc]|^--(clear|read-clear)$/
    const d = argv.some((a) => clears.test(a)) ? await store.mutate(env.state, show) : show(await store.load(env.state))
    process.stdout.write(d.stdout)
    process.stderr.write(d.stderr)
    return d.code
  }
  const kmod = await import('./kmod.js')
  let r: {stdout: string; stderr: string; code: number}
  if (tool === 'lsmod') {
    r = kmod.parseLsmod(argv) ?? {stdout: kmod.lsmodText(kmod.loadedModules(pickHost(await store.load(env.state), env.host))), stderr: '', code: 0}
  } else {
    const a = kmod.parseModprobe(argv)
    if ('code' in a) r = a
    else if (a.dryRun) r = kmod.runModprobe(pickHost(await store.load(env.state), env.host), a, env.uid)
    else r = await store.mutate(env.state, (w) => kmod.runModprobe(pickHost(w, env.host), a, env.uid))
  }
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  return r.code
}

export async function liveDropInMain(tool: LiveDropIn, argv: string[]): Promise<void> {
  for (const s of [process.stdout, process.stderr]) s.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 141 : 1))
  try {
    process.exitCode = await run(tool, argv)
  } catch (e) {
    const {message, exitCode} = errorMessage(e)
    process.stderr.write(`${tool}: ${message}\n`)
    process.exitCode = exitCode
  }
}
