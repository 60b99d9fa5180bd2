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
  run(args: readonly string[], context: CommandContext): Promise<ExitCode>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
