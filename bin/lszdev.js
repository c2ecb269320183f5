#!/usr/bin/env node
// Drop-in lszdev: behaves like s390-tools' lszdev (device type ap) on the emulated host (see lszdev(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('lszdev', process.argv.slice(2))
