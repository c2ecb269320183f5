// Running chzdev or lszdev (s390-tools 2.43.0, device type ap) on the
// emulated host, or on the real file system with sysfs below SYSFS_ROOT.
// The same function serves the drop-in binaries and `aplab chzdev` /
// `aplab lszdev`.

import {Stdio} from '../tools/libc.js'
import type {ZdevContext} from '../tools/zdev/misc.js'
import {asTool, onHost} from './dropin.js'
import type {Env} from './env.js'

export type ZdevProg = 'chzdev' | 'lszdev'

/** --import - reads standard input; nothing else does. */
const wantsStdin = (argv: string[]): boolean => argv.some((a, i) => (a === '-' && /^--?i/.test(argv[i - 1] ?? '')) || /^--import=-$/.test(a))

async function context(prog: ZdevProg, argv: string[], env: Env): Promise<ZdevContext> {
  const fs = await import('node:fs')
  const os = await import('node:os')
  let stdin: string | null = null
  if (wantsStdin(argv) && !process.stdin.isTTY)
    try {
      stdin = fs.readFileSync(0, 'utf8')
    } catch {
      stdin = null
    }
  return {
    prog,
    nodename: os.hostname(),
    stdoutIsTTY: env.stdoutIsTTY,
    readFile: (p) => fs.readFileSync(p, 'utf8'),
    writeFile: (p, text) => fs.writeFileSync(p, text),
    stdin,
    posixlyCorrect: process.env.POSIXLY_CORRECT !== undefined,
  }
}

export async function runZdevTool(prog: ZdevProg, argv: string[], env: Env): Promise<number> {
  const io = new Stdio(env.stdoutIsTTY)
  return asTool(prog, io, async () => {
    const ctx = await context(prog, argv, env)
    const tool = prog === 'chzdev' ? (await import('../tools/zdev/chzdev.js')).runChzdev : (await import('../tools/zdev/lszdev.js')).runLszdev
    if (env.sysfsRoot) {
      // As the real tool: sysfs below SYSFS_ROOT, every other path (the rule, the mdevctl
      // definitions) on the real file system unless --base moves it.
      const {RealSys} = await import('../tools/sys.js')
      const root = env.sysfsRoot.replace(/\/+$/, '') || '/'
      return tool(argv, new RealSys(root), io, {...ctx, sysfsRoot: root})
    }
    const {hostVfs} = await import('../sysfs/host.js')
    // The emulated host's uname nodename is its name.
    return onHost(env, prog === 'lszdev' ? 'read' : 'write', (host) => tool(argv, hostVfs(host, env.uid), io, {...ctx, nodename: host.name}))
  })
}
