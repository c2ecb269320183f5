// The library API of aplab (`import {openHost} from 'aplab'`): an emulated
// host held in memory, for the test suites of provisioning tools written in
// JavaScript or TypeScript. See README.md, "As a library".

/** What a command line printed and its exit status, as a separate call of the binary would give them. */
export interface RunResult {
  stdout: string
  stderr: string
  status: number
}

export interface OpenOptions {
  /** A state file to load (it is read, never written unless saved). */
  state?: string
  /** A preset for a new state (aplab init --list); default: default. Not with state. */
  preset?: string
  /** The name of the preset's host (default host0). */
  hostName?: string
  /** $APLAB_UID for the commands (default 0: root). */
  uid?: number
}

export interface AplabHost {
  /**
   * Run one aplab or drop-in command line (`aplab mdev create`, `lszcrypt -V`,
   * `mdevctl list`), as a string split like a shell line or as words; its
   * changes stay in memory. Calls must not overlap (await each one).
   */
  run(line: string | readonly string[]): Promise<RunResult>
  /** The contents of an emulated file (`/sys/...`, `/etc/...`, `/proc/...`) of the current host, as root reads it. */
  read(path: string): string
  /** Write the state in memory to a file (replacing it), as aplab init --force would. */
  save(file: string): Promise<void>
}

export function openHost(options?: OpenOptions): Promise<AplabHost>
