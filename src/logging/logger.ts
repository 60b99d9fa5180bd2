import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  /** pino level name; `silent` turns logging off. */
  readonly level: string;
  /** `auto` is readable on a terminal and JSON everywhere else (containers, CI, files). */
  readonly format: 'auto' | 'json' | 'pretty';
  /** Where log lines go. Defaults to stderr, keeping stdout for command output. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Keys whose values never reach a log line, wherever they sit in the logged object.
 * Tokens travel in config and HTTP headers; both get logged by accident in every codebase.
 */
export const REDACTED_PATHS = [
  'token',
  'apiKey',
  'password',
  'secret',
  'authorization',
  '*.token',
  '*.apiKey',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.password',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'config.openai.apiKey',
  'config.slack.botToken',
  'config.slack.appToken',
  'config.slack.signingSecret',
  'config.discord.token',
  'config.redisUrl',
];

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr;
  const usePretty =
    options.format === 'pretty' ||
    (options.format === 'auto' && 'isTTY' in destination && destination.isTTY);
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (usePretty) {
    return pino(base, pretty({ destination, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, destination);
}
