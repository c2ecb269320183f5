// Build: compile TypeScript to dist/ and write oclif.manifest.json, so a
// fresh `npm ci` leaves working binaries. No bundler, no network.
import {execFileSync} from 'node:child_process'
import {rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
rmSync(join(root, 'dist'), {recursive: true, force: true})
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], {stdio: 'inherit'})

// The entry point of the binaries, bundled into one file: the mirrored tools
// and the plain sysfs commands then load one module instead of about a
// hundred (oclif itself stays external and is loaded only when needed).
const {build} = await import('esbuild')
await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/main.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@oclif/core'],
  // CommonJS dependencies inside the ESM bundle expect these.
  banner: {
    js: [
      "import {createRequire as __aplabRequire} from 'node:module';",
      "import {fileURLToPath as __aplabPath} from 'node:url';",
      'const require = __aplabRequire(import.meta.url);',
      'const __filename = __aplabPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  logLevel: 'warning',
})

const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
