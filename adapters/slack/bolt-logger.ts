import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';

/**
 * Bolt, its WebClient and its Socket Mode client log through this, so their lines go to the
 * bot's one pino logger (with token redaction and the bot's format) instead of the console.
 * The level is pino's; Bolt asking to change it is ignored.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const line = (parts: unknown[]) => parts.map(describe).join(' ');
  // Formatting is skipped below the logger's level: Bolt logs a lot at debug.
  return {
    debug: (...parts: unknown[]) => logger.isLevelEnabled('debug') && logger.debug(line(parts)),
    info: (...parts: unknown[]) => logger.isLevelEnabled('info') && logger.info(line(parts)),
    warn: (...parts: unknown[]) => logger.isLevelEnabled('warn') && logger.warn(line(parts)),
    error: (...parts: unknown[]) => logger.isLevelEnabled('error') && logger.error(line(parts)),
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

/** One part of a Bolt log call as text; never throws (a circular object is named, not shown). */
function describe(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return part.message;
  try {
    // JSON.stringify gives undefined for undefined and functions, whatever its type says.
    return typeof part === 'object' && part !== null ? JSON.stringify(part) : String(part);
  } catch {
    return Object.prototype.toString.call(part);
  }
}
