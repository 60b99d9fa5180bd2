import { RedisBlobStore } from '../blobs/redis-blob-store.ts';
import type { Config } from '../core/config.ts';
import { BLOB_LIMITS, sessionLifetimeMs } from '../jobs/defaults.ts';
import type { Logger } from '../logging/logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { PackageJobs } from './install-job.ts';
import { RedisSessionPackages } from './redis-session-packages.ts';

/** A worker's package installs over Redis: wheels in its blob store, lists per session. */
export function redisPackageJobs(redis: Redis, config: Config, logger: Logger): PackageJobs {
  const lifetimeMs = sessionLifetimeMs(config.sessionIdleMs);
  return {
    settings: config.packages,
    blobs: new RedisBlobStore(redis, `${config.redisPrefix}:`, BLOB_LIMITS),
    store: new RedisSessionPackages(redis, config.redisPrefix, lifetimeMs),
    logger,
    lifetimeMs,
  };
}
