/**
 * Infrastructure faults carry a stable code so callers (and users, through a short message
 * with a reference id) can tell them apart. A user's Python exception is never one of these:
 * it is a result.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'DOCKER_UNAVAILABLE'
  | 'SANDBOX_IMAGE_MISSING'
  | 'SANDBOX_START_FAILED'
  | 'SANDBOX_PROTOCOL'
  | 'SANDBOX_GONE'
  | 'FILE_REJECTED'
  | 'REDIS_UNAVAILABLE'
  | 'WORKER_ID_IN_USE'
  | 'BLOB_TOO_LARGE'
  | 'INVALID_REQUEST'
  | 'CANCELLED';

export class SandbotError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SandbotError';
    this.code = code;
  }
}

export function isSandbotError(error: unknown, code?: ErrorCode): error is SandbotError {
  return error instanceof SandbotError && (code === undefined || error.code === code);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
