// Where this aplab is installed: its package root, found from the running
// module (src/, dist/ or a bundle in dist/), so that the drop-ins and the
// bundles beside them can be started by path.

import * as fs from 'node:fs'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'

import {AplabError} from '../core/errors.js'

/** The package's root: the folder with bin/aplab.js above this module (src/cli, dist/cli or dist). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (fs.existsSync(path.join(dir, 'bin', 'aplab.js'))) return dir
    const up = path.dirname(dir)
    if (up === dir) throw new AplabError('cannot find the aplab package (bin/aplab.js) above ' + fileURLToPath(import.meta.url))
    dir = up
  }
}
