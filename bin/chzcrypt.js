#!/usr/bin/env node
// Drop-in chzcrypt: behaves like s390-tools' chzcrypt on the emulated host (see chzcrypt(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('chzcrypt', process.argv.slice(2))
