// Shell completion: `aplab autocomplete bash|zsh` prints a script whose
// function calls `aplab __complete WORD...` (hidden, dispatched before oclif
// is loaded) with the words typed so far, the last one being completed. The
// candidates come from oclif's manifest (commands, flags) and from the state
// (mdev UUIDs, guest and host names, presets), one per line, filtered by the
// word's prefix. An empty answer lets the shell complete file names.

import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {writeOut} from './env.js'

interface ManifestFlag {
  name: string
  char?: string | null
  type: 'option' | 'boolean'
  hidden?: boolean
  options?: string[]
}
interface ManifestCommand {
  id: string
  hidden?: boolean
  flags: Record<string, ManifestFlag>
  args: Record<string, {name: string; options?: string[]}>
}

/** What a value is: where its candidates come from. */
type Source = 'mdev' | 'guest' | 'host' | 'preset' | 'file' | 'none'

/** Flags whose value names something in the state. */
const FLAG_SOURCES: Record<string, Source> = {host: 'host', to: 'host', guest: 'guest', mdev: 'mdev', uuid: 'mdev', preset: 'preset', state: 'file', html: 'file'}

/** The operands of a command: which source each position draws from. */
function argSource(commandId: string, arg: string): Source {
  if (arg === 'uuid') return 'mdev'
  if (arg === 'name') return commandId.startsWith('host:') ? 'host' : commandId.startsWith('guest:') ? 'guest' : 'none'
  if (arg === 'root' || arg === 'path' || arg === 'file' || arg === 'dir') return 'file'
  return 'none'
}

function manifest(): Record<string, ManifestCommand> {
  // The bundles live in dist/; the manifest beside package.json.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..')
  return (JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}).commands
}

async function fromState(source: Source, statePath: string | undefined, hostName: string | undefined): Promise<string[]> {
  if (source === 'preset') return (await import('../core/presets.js')).PRESETS.map((p) => p.name)
  if (source !== 'mdev' && source !== 'guest' && source !== 'host') return []
  const [{load, statePath: defaultState}] = await Promise.all([import('../state/store.js')])
  let world
  try {
    world = await load(statePath ?? defaultState())
  } catch {
    return []
  }
  if (source === 'host') return world.hosts.map((h) => h.name)
  if (source === 'guest') return world.hosts.flatMap((h) => h.guests.map((g) => g.name))
  const host = world.hosts.find((h) => h.name === (hostName || world.current)) ?? world.hosts[0]
  const defined = Object.keys(host?.persistent.files ?? {})
    .map((f) => /^\/etc\/mdevctl\.d\/matrix\/([0-9a-f-]{36})$/.exec(f)?.[1])
    .filter((u): u is string => u !== undefined)
  return [...new Set([...(host?.runtime.mdevs.map((m) => m.uuid) ?? []), ...defined])].sort()
}

/** The candidates for the last of `words` (the words after `aplab`). */
export async function complete(words: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const cur = words.at(-1) ?? ''
  const done = words.slice(0, -1)
  let state = env.APLAB_STATE || undefined
  let host = env.APLAB_HOST || undefined
  const commands = manifest()
  const visible = Object.values(commands).filter((c) => !c.hidden)
  const match = (xs: string[]): string[] => [...new Set(xs.filter((x) => x.startsWith(cur)))]

  // Global options before the command.
  let i = 0
  const globals = (): string[] => ['--state', '--host', '--help', '--version']
  while (i < done.length && /^--(state|host)$/.test(done[i])) {
    if (done[i] === '--state') state = done[i + 1]
    else host = done[i + 1]
    i += 2
  }
  if (i > done.length) return match(await fromState(done.at(-1) === '--host' ? 'host' : 'file', state, host))
  // The longest command id (or topic) made of the next words.
  let prefix = ''
  const isLeaf = (id: string): boolean => commands[id] !== undefined && !visible.some((c) => c.id.startsWith(id + ':'))
  while (i < done.length && !done[i].startsWith('-')) {
    const next = prefix ? `${prefix}:${done[i]}` : done[i]
    if (!visible.some((c) => c.id === next || c.id.startsWith(next + ':'))) break
    prefix = next
    i++
    if (isLeaf(prefix)) break
  }
  if (i === done.length && !isLeaf(prefix)) {
    if (cur.startsWith('-')) return prefix === '' ? match(globals()) : match(['--help'])
    // The next word of a command id: `mdev` -> create, assign, ...
    return match(visible.filter((c) => prefix === '' || c.id.startsWith(prefix + ':')).map((c) => c.id.slice(prefix ? prefix.length + 1 : 0).split(':')[0]))
  }
  if (!isLeaf(prefix)) return []
  const c = commands[prefix]
  // A drop-in's own options are the real tool's business.
  if (['lszcrypt', 'chzcrypt', 'chzdev', 'lszdev', 'mdevctl', 'lsmdev', 'virsh'].includes(c.id)) return []
  const flags = Object.values(c.flags).filter((f) => !f.hidden)
  const flagByWord = (w: string): ManifestFlag | undefined => flags.find((f) => w === `--${f.name}` || (f.char && w === `-${f.char}`))
  // Operands so far, skipping flags and their values; the value of a flag being completed.
  let operands = 0
  for (let k = i; k < done.length; k++) {
    const w = done[k]
    if (w === '--') {
      operands += done.length - k - 1
      break
    }
    const f = flagByWord(w)
    if (f) {
      if (f.type === 'option') {
        if (f.name === 'host') host = done[k + 1]
        if (f.name === 'state') state = done[k + 1]
        k++
      }
    } else if (!w.startsWith('-')) operands++
  }
  const last = flagByWord(done.at(-1) ?? '')
  if (last?.type === 'option' && done.length - 1 >= i) {
    if (last.options) return match(last.options)
    return match(await fromState(FLAG_SOURCES[last.name] ?? 'none', state, host))
  }
  if (cur.startsWith('-')) return match([...flags.map((f) => `--${f.name}`), '--help'])
  const args = Object.values(c.args)
  // Commands that read their own operands (guest start, guest exec) name the guest first.
  const arg = args[operands] ?? (args.length === 0 && operands === 0 && c.id.startsWith('guest:') ? {name: 'name'} : undefined)
  if (!arg) return []
  if ('options' in arg && arg.options) return match(arg.options)
  return match(await fromState(argSource(c.id, arg.name), state, host))
}

export const BASH_SCRIPT = `# aplab completion for bash: eval "$(aplab autocomplete bash)" in ~/.bashrc
_aplab_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(aplab __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _aplab_complete aplab
`

export const ZSH_SCRIPT = `#compdef aplab
# aplab completion for zsh: eval "$(aplab autocomplete zsh)" in ~/.zshrc (after compinit)
_aplab() {
  local -a reply
  reply=("\${(@f)$(aplab __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  reply=(\${reply:#})
  if (( \${#reply} )); then compadd -a reply; else _files; fi
}
compdef _aplab aplab
`

/** `aplab __complete WORD...`: the candidates, one per line. */
export async function completeMain(words: string[]): Promise<void> {
  try {
    const out = await complete(words.length ? words : [''])
    if (out.length) writeOut(1, out.join('\n') + '\n')
  } catch {
    // A completion never prints an error into the user's command line.
  }
}
