// The explicit command table (oclif "explicit" strategy): ids use colons,
// users type spaces. It also hands oclif to the dispatcher (src/cli/main.ts),
// loaded only when it is needed (help, what is not plainly a
// command), so that both come from one bundle and oclif's own load of the
// explicit target finds the same command classes.

/** @oclif/core, loaded on demand. */
export const loadOclif = (): Promise<typeof import('@oclif/core')> => import('@oclif/core')

import Autocomplete from './commands/autocomplete.js'
import Batch from './commands/batch.js'
import Chzcrypt from './commands/chzcrypt.js'
import Chzdev from './commands/chzdev.js'
import Export from './commands/export.js'
import Import from './commands/import.js'
import GuestDeviceAdd from './commands/guest/device-add.js'
import GuestDeviceDel from './commands/guest/device-del.js'
import GuestExec from './commands/guest/exec.js'
import GuestList from './commands/guest/list.js'
import GuestMigrate from './commands/guest/migrate.js'
import GuestRemove from './commands/guest/remove.js'
import GuestPause from './commands/guest/pause.js'
import GuestReset from './commands/guest/reset.js'
import GuestResume from './commands/guest/resume.js'
import GuestShow from './commands/guest/show.js'
import GuestStart from './commands/guest/start.js'
import GuestStop from './commands/guest/stop.js'
import HostAdd from './commands/host/add.js'
import HostList from './commands/host/list.js'
import HostRemove from './commands/host/remove.js'
import HostUse from './commands/host/use.js'
import HwAdapterAdd from './commands/hw/adapter/add.js'
import HwAdapterRemove from './commands/hw/adapter/remove.js'
import HwDomainAdd from './commands/hw/domain/add.js'
import HwDomainRemove from './commands/hw/domain/remove.js'
import HostCmdline from './commands/host/cmdline.js'
import HostReboot from './commands/host/reboot.js'
import HostShow from './commands/host/show.js'
import Init from './commands/init.js'
import Demo from './commands/demo.js'
import Dmesg from './commands/dmesg.js'
import Lsmdev from './commands/lsmdev.js'
import Lszcrypt from './commands/lszcrypt.js'
import Lszdev from './commands/lszdev.js'
import Matrix from './commands/matrix.js'
import MdevAssign from './commands/mdev/assign.js'
import MdevCreate from './commands/mdev/create.js'
import MdevList from './commands/mdev/list.js'
import MdevRemove from './commands/mdev/remove.js'
import MdevShow from './commands/mdev/show.js'
import MdevStart from './commands/mdev/start.js'
import MdevStop from './commands/mdev/stop.js'
import MdevUnassign from './commands/mdev/unassign.js'
import Mdevctl from './commands/mdevctl.js'
import Lsmod from './commands/lsmod.js'
import Modprobe from './commands/modprobe.js'
import Mount from './commands/mount.js'
import Shell from './commands/shell.js'
import Shellenv from './commands/shellenv.js'
import StateCheck from './commands/state/check.js'
import SysfsCat from './commands/sysfs/cat.js'
import SysfsLs from './commands/sysfs/ls.js'
import SysfsReadlink from './commands/sysfs/readlink.js'
import SysfsWrite from './commands/sysfs/write.js'
import Umount from './commands/umount.js'
import Virsh from './commands/virsh.js'

export const COMMANDS = {
  autocomplete: Autocomplete,
  batch: Batch,
  chzcrypt: Chzcrypt,
  chzdev: Chzdev,
  export: Export,
  import: Import,
  'guest:device-add': GuestDeviceAdd,
  'guest:device-del': GuestDeviceDel,
  'guest:exec': GuestExec,
  'guest:list': GuestList,
  'guest:migrate': GuestMigrate,
  'guest:remove': GuestRemove,
  'guest:pause': GuestPause,
  'guest:reset': GuestReset,
  'guest:resume': GuestResume,
  'guest:show': GuestShow,
  'guest:start': GuestStart,
  'guest:stop': GuestStop,
  'host:add': HostAdd,
  'host:cmdline': HostCmdline,
  'host:list': HostList,
  'host:reboot': HostReboot,
  'host:show': HostShow,
  'host:remove': HostRemove,
  'host:use': HostUse,
  'hw:adapter:add': HwAdapterAdd,
  'hw:adapter:remove': HwAdapterRemove,
  'hw:domain:add': HwDomainAdd,
  'hw:domain:remove': HwDomainRemove,
  init: Init,
  demo: Demo,
  dmesg: Dmesg,
  lsmdev: Lsmdev,
  lszcrypt: Lszcrypt,
  lszdev: Lszdev,
  matrix: Matrix,
  'mdev:assign': MdevAssign,
  'mdev:create': MdevCreate,
  'mdev:list': MdevList,
  'mdev:remove': MdevRemove,
  'mdev:show': MdevShow,
  'mdev:start': MdevStart,
  'mdev:stop': MdevStop,
  'mdev:unassign': MdevUnassign,
  mdevctl: Mdevctl,
  lsmod: Lsmod,
  modprobe: Modprobe,
  mount: Mount,
  shell: Shell,
  shellenv: Shellenv,
  'state:check': StateCheck,
  'sysfs:cat': SysfsCat,
  'sysfs:ls': SysfsLs,
  'sysfs:readlink': SysfsReadlink,
  'sysfs:write': SysfsWrite,
  umount: Umount,
  virsh: Virsh,
}
