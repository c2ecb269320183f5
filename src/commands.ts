// The explicit command table (oclif "explicit" strategy): ids use colons,
// users type spaces.

import Chzcrypt from './commands/chzcrypt.js'
import Export from './commands/export.js'
import Import from './commands/import.js'
import Init from './commands/init.js'
import Lszcrypt from './commands/lszcrypt.js'
import SysfsCat from './commands/sysfs/cat.js'
import SysfsLs from './commands/sysfs/ls.js'
import SysfsWrite from './commands/sysfs/write.js'

export const COMMANDS = {
  chzcrypt: Chzcrypt,
  export: Export,
  import: Import,
  init: Init,
  lszcrypt: Lszcrypt,
  'sysfs:cat': SysfsCat,
  'sysfs:ls': SysfsLs,
  'sysfs:write': SysfsWrite,
}
