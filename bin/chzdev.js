#!/usr/bin/env node
// Drop-in chzdev: behaves like s390-tools' chzdev (device type ap) on the emulated host (see chzdev(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('chzdev', process.argv.slice(2))
