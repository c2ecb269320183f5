// `aplab --help`, `aplab help ...` and a topic alone: oclif's own help
// renderer (its Help class) over the command table oclif would read, built
// from oclif.manifest.json and package.json as its Config builds it, without
// loading Config, the plugin machinery or the command classes. oclif's
// Config.load alone cost more than a whole aplab command (README "Speed").
//
// The text is oclif's by construction (its formatter, its wrapping, its
// terminal width and colours); this module supplies only the data, and only
// where it can supply all of it: with a theme file or user plugins in the
// places oclif looks for them, with a manifest of another version, or with
// commands this table does not describe (aliases, states, dynamic help), the
// caller runs oclif whole (helpHere returns false).

import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {CommandHelp, Help, normalizeArgv} from '@oclif/core/help'

import {packageRoot} from './package.js'
import {userAgent} from './version.js'

type Pjson = {name: string; version: string; description?: string; oclif: Record<string, unknown> & {bin: string; topicSeparator?: string; topics?: Record<string, {description?: string; hidden?: boolean}>}}
type ManifestCommand = {id: string; summary?: string; description?: string; hidden?: boolean; aliases?: string[]; hiddenAliases?: string[]; state?: string; hasDynamicHelp?: boolean; deprecateAliases?: boolean; permutations?: string[]}
type Topic = {name: string; description?: string; hidden?: boolean}

/** A directory of oclif's Config (config.js dir/scopedEnvVar): APLAB_<KIND>_DIR, XDG_<KIND>_HOME/aplab, ~/.<kind>/aplab. */
function oclifDir(bin: string, dirname: string, kind: 'config' | 'data'): string {
  const scoped = process.env[`${bin.replaceAll('@', '').replaceAll(/[-/]/g, '_')}_${kind}_DIR`.toUpperCase()]
  if (scoped) return scoped
  const home = process.env.HOME || os.homedir() || os.tmpdir()
  const base = process.env[`XDG_${kind.toUpperCase()}_HOME`] || path.join(home, kind === 'data' ? '.local/share' : '.config')
  return path.join(base, dirname)
}

/** The part of oclif's Config its Help reads, or undefined where oclif's own would differ. */
export function helpConfig(root: string): Record<string, unknown> | undefined {
  const pjson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Pjson
  const {oclif} = pjson
  // What this table does not model: oclif's own Config answers.
  if (oclif.theme || oclif.plugins || oclif.devPlugins || oclif.jitPlugins || oclif.flexibleTaxonomy || oclif.state || oclif.helpClass || oclif.helpOptions) return undefined
  const dirname = (oclif.dirname as string | undefined) ?? pjson.name
  if (fs.existsSync(path.join(oclifDir(oclif.bin, dirname, 'config'), 'theme.json'))) return undefined
  if (fs.existsSync(path.join(oclifDir(oclif.bin, dirname, 'data'), 'package.json'))) return undefined
  let manifest: {version: string; commands: Record<string, ManifestCommand>}
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'))
  } catch {
    return undefined // oclif makes one from the command classes
  }
  // JSON that is no manifest (hand-edited, truncated to `{}`): oclif's Plugin warns and makes one, or fails its own way.
  if (typeof manifest?.version !== 'string' || typeof manifest.commands !== 'object' || manifest.commands === null) return undefined
  if (manifest.version.split('-')[0] !== pjson.version.split('-')[0]) return undefined
  // Plugin.load: the manifest's commands sorted by id (localeCompare); Config.loadCommands:
  // each under its id. For ids of lower-case letters, `-` and `:`, code-unit order is
  // localeCompare's (CLDR root: `-` < `:` < letters), and ICU's collator, which the
  // first localeCompare loads, costs more than the help itself.
  const ids = Object.keys(manifest.commands)
  const plain = ids.every((id) => /^[a-z:-]+$/.test(id))
  const list = Object.values(manifest.commands)
    .map((c) => ({...c, pluginAlias: pjson.name, pluginName: pjson.name, pluginType: 'core'}))
    .sort(plain ? (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : (a, b) => a.id.localeCompare(b.id))
  if (list.some((c) => c.aliases?.length || c.hiddenAliases?.length || c.state || c.hasDynamicHelp || c.deprecateAliases)) return undefined
  const commands = new Map(list.map((c) => [c.id, c]))
  // Config.loadTopics: the package's topics, then one for each prefix of a visible command's id.
  const topics = new Map<string, Topic>()
  for (const [name, t] of Object.entries(oclif.topics ?? {})) topics.set(name, {...t, name})
  for (const c of list.filter((c) => !c.hidden)) {
    const parts = c.id.split(':')
    for (; parts.length > 0; parts.pop()) {
      const name = parts.join(':')
      if (!topics.has(name)) topics.set(name, {description: c.summary || c.description, name})
    }
  }
  return {
    bin: oclif.bin,
    commandIDs: list.map((c) => c.id),
    commands: list,
    findCommand: (id: string) => commands.get(id),
    findTopic: (name: string) => topics.get(name),
    flexibleTaxonomy: false,
    isSingleCommandCLI: false,
    name: pjson.name,
    pjson,
    platform: os.platform(),
    plugins: new Map(),
    root,
    shell: '',
    topicSeparator: oclif.topicSeparator ?? ':',
    topics: [...topics.values()],
    userAgent: userAgent(),
    version: pjson.version,
  }
}

/**
 * oclif's help for ARGV (its run's showHelp), if this module can give it;
 * false where oclif must run whole.
 */
export async function helpHere(argv: string[]): Promise<boolean> {
  const config = helpConfig(packageRoot())
  if (!config) return false
  await show(config, argv)
  return true
}

/**
 * Help.showHelp over CONFIG. Its one error (`Command X not found.`, by
 * oclif's error()) takes its exit status from the package's
 * oclif.exitCodes.default, which oclif's Config.load puts in oclif's cache
 * for error() to read: this module has no Config, so it is set here.
 */
async function show(config: Record<string, unknown>, argv: string[]): Promise<void> {
  try {
    await new PlainHelp(config as never, {}).showHelp(argv)
  } catch (e) {
    const exit = ((config.pjson as Pjson).oclif.exitCodes as {default?: number} | undefined)?.default
    const oclif = (e as {oclif?: {exit?: number}}).oclif
    if (oclif && exit !== undefined) oclif.exit = exit
    throw e
  }
}

/**
 * A topic alone (`aplab mdev`, `aplab hw adapter --x`): oclif's run reads
 * the command id off the line (normalizeArgv) and, when that is a topic and
 * no command, shows the topic's help. False where that is not so, or where
 * oclif must run whole.
 */
export async function topicHere(argv: string[]): Promise<boolean> {
  const config = helpConfig(packageRoot())
  if (!config) return false
  const [id] = normalizeArgv(config as never, [...argv])
  const find = config.findCommand as (id: string) => unknown
  const topic = config.findTopic as (id: string) => unknown
  if (!id || find(id) || !topic(id)) return false
  await show(config, [id])
  return true
}

/**
 * oclif renders every text of its help as an EJS template (ejs.render, a
 * compile per text). A text with no EJS tag (neither `<%` nor `%>`) renders
 * as itself, so it is given back as it is; one with a tag is EJS's.
 */
function plainTexts(formatter: {render: (text: string) => string}): void {
  const ejs = formatter.render
  formatter.render = (text) => (typeof text === 'string' && !text.includes('<%') && !text.includes('%>') ? text : ejs(text))
}

class PlainCommandHelp extends CommandHelp {
  constructor(...args: ConstructorParameters<typeof CommandHelp>) {
    super(...args)
    plainTexts(this)
  }
}

class PlainHelp extends Help {
  override CommandHelpClass = PlainCommandHelp
  constructor(...args: ConstructorParameters<typeof Help>) {
    super(...args)
    plainTexts(this)
  }
}
