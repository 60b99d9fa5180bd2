import { createHash } from 'node:crypto';

/** A file named in an audit line: never its contents. */
export interface AuditFile {
  readonly name: string;
  readonly sizeBytes: number;
  /** Undefined when the blob had already expired when the line was written. */
  readonly sha256: string | undefined;
}

/**
 * One cell, as the audit trail keeps it (one JSON line): who ran what, where, and what it
 * cost. No code, no output, no file contents, no secrets: hashes and sizes only.
 */
export interface AuditRecord {
  /** ISO 8601, UTC, when the cell ended. */
  readonly time: string;
  readonly platform: string;
  readonly workspace: string;
  readonly channel: string;
  readonly thread: string;
  /** The platform's user id of whoever sent the message. */
  readonly user: string;
  /** Who wrote the code: the model (its name in `model`), the user (`direct`), or none
   *  (`upload`: the message's attachments placed in /mnt/data before the model ran). */
  readonly source: 'model' | 'direct' | 'upload';
  readonly model?: string;
  readonly codeSha256: string;
  readonly codeBytes: number;
  readonly status: string;
  readonly durationMs: number;
  /** Absent when the worker could not read the container's figures. */
  readonly cpuSeconds?: number;
  readonly memoryPeakBytes?: number;
  readonly filesIn: readonly AuditFile[];
  readonly filesOut: readonly AuditFile[];
}

export function sha256Hex(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
