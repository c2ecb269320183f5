#!/usr/bin/env node
// Drop-in lszcrypt: behaves like s390-tools' lszcrypt on the emulated host (see lszcrypt(8)).
process.removeAllListeners('warning')
require('./bundles.cjs').run('lszcrypt', process.argv.slice(2))
