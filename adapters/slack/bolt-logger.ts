import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';

/**
 * Bolt, its WebClient and its Socket Mode client log through this, so their lines go to the
 * bot's one pino logger (with token redaction and the bot's format) instead of the console.
 * The level is pino's; Bolt asking to change it is ignored.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const line = (parts: unknown[]) =>
    parts
      .map((part) =>
        typeof part === 'string'
          ? part
          : part instanceof Error
            ? part.message
            : JSON.stringify(part),
      )
      .join(' ');
  return {
    debug: (...parts: unknown[]) => logger.debug(line(parts)),
    info: (...parts: unknown[]) => logger.info(line(parts)),
    warn: (...parts: unknown[]) => logger.warn(line(parts)),
    error: (...parts: unknown[]) => logger.error(line(parts)),
    setLevel: () => undefined,
    setName: () => undefined,
    getLevel: () => {
      const level = logger.levelVal;
      if (level <= 20) return LogLevel.DEBUG;
      if (level <= 30) return LogLevel.INFO;
      if (level <= 40) return LogLevel.WARN;
      return LogLevel.ERROR;
    },
  };
}
