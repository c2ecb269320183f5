// One error hierarchy for the whole emulator. Core operations throw these;
// the command layer maps them to the real tool's message and exit code.

/** Linux errno values used by the emulated kernel, with glibc's strerror texts. */
export const ERRNO = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EIO: [5, 'Input/output error'],
  EACCES: [13, 'Permission denied'],
  EBUSY: [16, 'Device or resource busy'],
  EEXIST: [17, 'File exists'],
  ENODEV: [19, 'No such device'],
  ENOTDIR: [20, 'Not a directory'],
  EISDIR: [21, 'Is a directory'],
  EINVAL: [22, 'Invalid argument'],
  ERANGE: [34, 'Numerical result out of range'],
  EUSERS: [87, 'Too many users'],
  EOPNOTSUPP: [95, 'Operation not supported'],
  EADDRINUSE: [98, 'Address already in use'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address'],
} as const

export type Errno = keyof typeof ERRNO

export function strerror(errno: Errno): string {
  return ERRNO[errno][1]
}

/** Base class: every error aplab raises on purpose. */
export class AplabError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message)
    this.name = new.target.name
  }
}

/** The emulated kernel refused an operation (a sysfs write, a lookup). */
export class KernelError extends AplabError {
  constructor(readonly errno: Errno, detail?: string) {
    super(detail ?? strerror(errno))
  }
}

/**
 * A tool finished with a message for stderr and an exit code, the way the
 * real tool would (errx, usage errors, ...). `message` is printed verbatim.
 */
export class ToolExit extends AplabError {}

/** The state file could not be read, parsed or validated. */
export class StateError extends AplabError {
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`)
  }
}

/** Bad input to one of aplab's own commands. */
export class UsageError extends AplabError {}
