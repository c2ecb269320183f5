// Who may do what on the emulated host: the one permission model every path
// uses (the sysfs files, aplab's own commands, modprobe, QEMU, the tools).
// As on a real host, root is needed only where the kernel demands it: the
// files of sysfs, /etc and /dev/vfio belong to root, so their modes decide
// (root passes every read and write check), and module loading and reboot
// need a capability only root has. The caller is $APLAB_UID (root by default).

/** uid 0. */
export const ROOT_UID = 0

/** What a caller asks of a file: read it, write it, or both (O_RDWR). */
export type Access = 'r' | 'w' | 'rw'

/**
 * The kernel's DAC check (generic_permission) for a file owned by root:root:
 * root may read and write anything; any other uid gets the mode's bits for
 * "others". The emulated host has no other owners or groups.
 */
export function mayAccess(uid: number, mode: number, want: Access): boolean {
  if (uid === ROOT_UID) return true
  const others = mode & 0o007
  return (!want.includes('r') || (others & 0o4) !== 0) && (!want.includes('w') || (others & 0o2) !== 0)
}

/** The capabilities the emulated host checks; only root has them. */
export type Capability =
  /** init_module, finit_module and delete_module (modprobe, rmmod). */
  | 'CAP_SYS_MODULE'
  /** reboot(2). */
  | 'CAP_SYS_BOOT'
  /** syslog(2)'s clear of the kernel ring buffer (dmesg -C); reading it needs nothing (dmesg_restrict=0). */
  | 'CAP_SYSLOG'

export function capable(uid: number, _cap: Capability): boolean {
  return uid === ROOT_UID
}

/** Directories of the emulated host (/etc/..., /sys/...): root's, 0755. */
export const DIR_MODE = 0o755

/** A VFIO group's character device /dev/vfio/N: root's, 0600 (udev's default; libvirt hands it to QEMU). */
export const VFIO_GROUP_MODE = 0o600

/** Whether a QEMU run by uid can open the VFIO group device /dev/vfio/N (O_RDWR). */
export const mayOpenVfioGroup = (uid: number): boolean => mayAccess(uid, VFIO_GROUP_MODE, 'rw')
