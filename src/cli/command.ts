import type { Environment } from '../config/config.ts';
import type { ExitCode } from './exit-codes.ts';

/** What every subcommand gets from the entry point. */
export interface CommandContext {
  readonly env: Environment;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  readonly nodeVersion: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands shut down when it fires. */
  readonly signal: AbortSignal;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  /**
   * After the first SIGTERM/SIGINT the command has this long to finish its shutdown before
   * the process exits regardless (documented in its help). Default 10 s.
   */
  readonly shutdownMs?: number;
  run(args: readonly string[], context: CommandContext): Promise<ExitCode>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
