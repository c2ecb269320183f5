// libvirt's errors: an error code whose template (src/util/virerror.c,
// virErrorMsgStrings) frames the detail, and the way virsh prints them
// (tools/vsh.c vshError: "error: " + message on stderr).

import {AplabError} from '../core/errors.js'

const TEMPLATES = {
  INTERNAL_ERROR: 'internal error: %s',
  OPERATION_FAILED: 'operation failed: %s',
  XML_ERROR: 'XML error: %s',
  XML_DETAIL: '%s',
  NO_NAME: 'missing name information in %s',
  PARSE_FAILED: 'failed to parse configuration file %s',
  NO_DOMAIN: 'Domain not found: %s',
  NO_NODE_DEVICE: 'Node device not found: %s',
  OPERATION_INVALID: 'Requested operation is not valid: %s',
  CONFIG_UNSUPPORTED: 'unsupported configuration: %s',
  OPERATION_UNSUPPORTED: 'Operation not supported: %s',
  DEVICE_MISSING: 'device not found: %s',
  SYSTEM_ERROR: '%s',
  ARGUMENT_UNSUPPORTED: 'argument unsupported: %s',
  INVALID_ARG: 'invalid argument: %s',
  NO_CONNECT: 'no connection driver available for %s',
  OPERATION_DENIED: 'operation forbidden: %s',
  AUTH_UNAVAILABLE: 'authentication unavailable: %s',
} as const

export type VirErrorCode = keyof typeof TEMPLATES

/** Messages a code gives without a detail (virErrorMsgStrings' first column). */
const BARE: Partial<Record<VirErrorCode, string>> = {
  XML_ERROR: 'XML description is invalid or not well formed',
  NO_NAME: 'missing name information',
  NO_DOMAIN: 'Domain not found',
  OPERATION_INVALID: 'Requested operation is not valid',
}

/** A libvirt error (virReportError): `message` is what virsh prints after "error: ". */
export class VirError extends AplabError {
  constructor(
    readonly code: VirErrorCode,
    readonly detail: string | null,
  ) {
    super(detail === null ? (BARE[code] ?? TEMPLATES[code].replace(': %s', '')) : TEMPLATES[code].replace('%s', detail))
  }
}

/**
 * A virsh command failed: its own context lines (vshError) come first, then
 * the libvirt error, if any (vshReportError). Exit status 1.
 */
export class VirshFailure extends AplabError {
  constructor(
    readonly lines: string[],
    override readonly cause: VirError | null = null,
  ) {
    super([...lines, ...(cause ? [cause.message] : [])].join('\n'))
  }
  /** What virsh writes on stderr. */
  get stderr(): string {
    return [...this.lines, ...(this.cause ? [this.cause.message] : [])].map((l) => `error: ${l}\n`).join('')
  }
}

/** The context line, then the libvirt error it wraps (any other error passes through). */
export function failWith(line: string, e: unknown): never {
  if (e instanceof VirError) throw new VirshFailure([line], e)
  throw e
}
