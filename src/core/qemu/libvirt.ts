// Migration texts (migration/savevm.c, migration/migration.c) and the
// libvirt texts around vfio-ap (libvirt's qemu_migration.c, domain start).
// Pure. Split out of src/core/qemu.ts.

// ---------------------------------------------------------------------------
// Migration (migration/savevm.c, migration/migration.c; libvirt qemu_migration.c)

/**
 * The savevm id of a vfio-ap device: qdev_get_dev_path() of the ap-bus is
 * always "/1" (hw/s390x/ap-bridge.c), then "/" and the vmsd name "vfio-ap".
 * It does not depend on the device's id.
 */
export const VFIO_AP_VMSTATE_ID = '/1/vfio-ap'

/** `migrate` / `savevm` with a vfio-ap attached (qemu_savevm_state_blocked). */
export const NON_MIGRATABLE = (vmstateId: string = VFIO_AP_VMSTATE_ID): string => `State blocked by non-migratable device '${vmstateId}'`

/** query-migrate "blocked-reasons" entry for it (qemu_savevm_non_migratable_list). */
export const NON_MIGRATABLE_REASON = (vmstateId: string = VFIO_AP_VMSTATE_ID): string => `non-migratable device: ${vmstateId}`

// libvirt's own refusals before it runs QEMU (kernel-qemu.md section 5), in the
// order it checks: the domain's definition, then the mdev, then who holds it.

/** qemu_validate.c, VIR_ERR_CONFIG_UNSUPPORTED. */
export const LIBVIRT_ONE_VFIO_AP = 'unsupported configuration: Only one hostdev of model vfio-ap is supported'
/** virmdev.c: the mdev's sysfs directory does not exist. */
export const libvirtMdevNotFound = (uuid: string): string => `device not found: mediated device '${uuid}' not found`
/** virmdev.c: another running domain has it (VIR_ERR_OPERATION_INVALID). */
export const libvirtMdevInUse = (uuid: string, domain: string): string =>
  `Requested operation is not valid: mediated device /sys/bus/mdev/devices/${uuid} is in use by driver QEMU, domain ${domain}`
/** virsh start: its own line, then libvirt's error. */
export const virshStartFailed = (domain: string, msg: string): string => `error: Failed to start domain '${domain}'\nerror: ${msg}\n`

/**
 * libvirt without QEMU's blocked-reasons (qemuMigrationSrcIsAllowedHostdev):
 * VIR_ERR_OPERATION_UNSUPPORTED.
 */
export const LIBVIRT_MDEV_NOT_MIGRATABLE = `Operation not supported: cannot migrate a domain with <hostdev mode='subsystem' type='mdev'>`

/**
 * libvirt with QEMU >= 6.0 (QEMU_CAPS_MIGRATION_BLOCKED_REASONS, so also with
 * QEMU 10.1) asks QEMU instead: VIR_ERR_OPERATION_INVALID with the reasons joined by "; ".
 */
export function libvirtMigrationBlocked(reasons: readonly string[] = [NON_MIGRATABLE_REASON()]): string {
  return `Requested operation is not valid: cannot migrate domain: ${reasons.join('; ')}`
}
