// The host commands' drop-ins that live with the live host: modprobe,
// and lsmod (bin/*.js run these), on the state of
// $APLAB_STATE and the host of $APLAB_HOST, as the caller $APLAB_UID.

import {errorMessage, pickHost, processEnv} from '../cli/env.js'

export type LiveDropIn = 'modprobe' | 'lsmod'

async function run(tool: LiveDropIn, argv: string[]): Promise<number> {
  const env = processEnv()
  const store = await import('../state/store.js')
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
