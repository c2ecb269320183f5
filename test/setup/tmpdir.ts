// One private temporary directory for the whole run: every test and every
// process it starts (os.tmpdir() follows $TMPDIR) makes its files there, and
// the directory goes when the run ends, so a run leaves nothing in /tmp even
// where a test does not clean up after itself.

import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'aplab-test-'))
  process.env.TMPDIR = dir
  return () => {
    try {
      rmSync(dir, {recursive: true, force: true, maxRetries: 3})
    } catch (e) {
      process.stderr.write(`could not remove ${dir}: ${(e as Error).message}\n`)
    }
  }
}
