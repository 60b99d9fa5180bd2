import type { Config } from '../../src/core/config.ts';
import type { PlaygroundStore } from '../../src/core/playground-store.ts';
import type { Logger } from '../../src/logging/logger.ts';
import { createRedis, type Redis } from '../../src/redis/connection.ts';
import { RedisHealth } from '../../src/redis/redis-health.ts';
import { openDatabase } from '../../src/sqlite/open-database.ts';
import { RedisPlaygroundEvents } from './redis-playground-events.ts';
import { RedisPlaygroundStore } from './redis-playground-store.ts';
import { SqlitePlaygroundStore } from './sqlite-playground-store.ts';

/**
 * Turns still running when the adapter stops get the bot's grace (3 s) to store their answer;
 * the store's Redis connection stays open this long after stop for them.
 */
const LATE_WRITES_MS = 10_000;

/** Where the playground keeps its threads, and how its page events reach every replica. */
export interface PlaygroundStorage {
  readonly store: PlaygroundStore;
  /** Redis only: events through pub/sub. Unset: this process's pages are all there is. */
  readonly events: RedisPlaygroundEvents | undefined;
  close(): Promise<void>;
}

/**
 * With REDIS_URL: the store and the event fan-out in Redis, on connections of the adapter's
 * own (the core's are not exposed to adapters), lazy, so a turns-only replica that never
 * serves the page connects on its first write. Without: the embedded mode's SQLite file,
 * opened again (WAL lets the core and the playground both write).
 */
export function playgroundStorage(config: Config, logger: Logger): PlaygroundStorage {
  if (config.redisUrl === undefined) {
    const db = openDatabase(config.dataDir);
    return {
      store: new SqlitePlaygroundStore(db),
      events: undefined,
      close: () => {
        db.close();
        return Promise.resolve();
      },
    };
  }
  const health = new RedisHealth({ logger });
  const connect = (name: string): Redis => {
    const connection = createRedis(config.redisUrl ?? '');
    health.watch(connection, `playground-${name}`);
    return connection;
  };
  const redis = connect('store');
  const subscriber = connect('events');
  return {
    store: new RedisPlaygroundStore(redis, config.redisPrefix),
    events: new RedisPlaygroundEvents(redis, subscriber, config.redisPrefix),
    async close() {
      await quit(subscriber);
      // See LATE_WRITES_MS; unref'd, so it never holds the process open.
      setTimeout(() => void quit(redis), LATE_WRITES_MS).unref();
    },
  };
}

/** Quits a connection; one never used (lazy, still waiting) is only dropped. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'wait' || connection.status === 'end') {
    connection.disconnect();
    return;
  }
  await connection.quit().catch(() => undefined);
}
