import type { Registry } from 'prom-client';
import { createModelClient } from '../agent/model-client.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { RedisBlobStore } from '../blobs/redis-blob-store.ts';
import { SqliteBlobStore } from '../blobs/sqlite-blob-store.ts';
import type { Config } from '../core/config.ts';
import { AccessPolicy } from '../conversation/access-policy.ts';
import { Conversation, type ConversationOptions } from '../conversation/conversation.ts';
import { ConversationMetrics } from '../conversation/conversation-metrics.ts';
import { RedisDeliveryGuard } from '../conversation/delivery-guard-stores.ts';
import { SqliteDeliveryGuard } from '../conversation/sqlite-delivery-guard.ts';
import type { DeliveryGuard } from '../core/delivery-guard.ts';
import { MemoryRunningTurns } from '../core/memory-running-turns.ts';
import type { RateLimiterFactory } from '../core/rate-limiter.ts';
import { BullmqJobQueue } from '../jobs/bullmq-job-queue.ts';
import { BLOB_LIMITS, sessionLifetimeMs } from '../jobs/defaults.ts';
import { attachCheckpoints } from '../checkpoints/attach-checkpoints.ts';
import { SqliteCheckpointStore } from '../checkpoints/sqlite-checkpoint-store.ts';
import { EmbeddedJobQueue } from '../jobs/embedded-job-queue.ts';
import type { JobQueue } from '../core/job.ts';
import { JobExecutor } from '../jobs/job-executor.ts';
import type { Logger } from '../logging/logger.ts';
import { createRedis } from '../redis/connection.ts';
import { probeRedis } from '../redis/probe-redis.ts';
import { RedisHealth } from '../redis/redis-health.ts';
import { RedisRunningTurns } from '../redis/redis-running-turns.ts';
import { RedisSandboxPackages } from '../redis/redis-sandbox-packages.ts';
import { redisRateLimiters } from '../redis/redis-sliding-window-limiter.ts';
import { createDockerClient, translateDockerError } from '../sandbox/docker-client.ts';
import { SandboxManager } from '../sandbox/sandbox-manager.ts';
import { RedisSessionStore } from '../sessions/redis-session-store.ts';
import { SqliteSessionStore } from '../sessions/sqlite-session-store.ts';
import { RedisTurnStore } from '../conversation/redis-turn-store.ts';
import { RedisApprovalStore } from '../conversation/redis-approval-store.ts';
import { SqliteApprovalStore } from '../conversation/sqlite-approval-store.ts';
import { packageApprovalServices } from '../conversation/package-approval-wiring.ts';
import { SqliteTurnStore } from '../conversation/sqlite-turn-store.ts';
import { openAuditLog } from '../audit/audit-log.ts';
import { RedisMeterStore } from '../metering/redis-meter-store.ts';
import { SqliteMeterStore } from '../metering/sqlite-meter-store.ts';
import { SqliteSessionFiles } from '../jobs/sqlite-session-files.ts';
import { SqliteSessionPackages } from '../packages/sqlite-session-packages.ts';
import type { ChatAdapter } from '../core/chat-adapter.ts';
import type { TurnStore } from '../core/turn-store.ts';
import type { ApprovalStore } from '../conversation/approval-store.ts';
import { openDatabase, type DatabaseSync } from '../sqlite/open-database.ts';
import type { SessionStore } from '../core/session-store.ts';
import type { UsageServices } from '../conversation/turn-meter.ts';

export interface Core {
  readonly conversation: Conversation;
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;
  readonly sessions: SessionStore;
  readonly deliveries: DeliveryGuard;
  /** False while a service the core needs (Redis) is unreachable: /healthz reports it. */
  healthy(): boolean;
  /** Embedded mode only: the in-process worker's sandboxes. */
  readonly manager: SandboxManager | undefined;
  /** With REDIS_URL: limiters every bot process shares (adapters' platform rates). Unset:
   *  each counts in its own memory. */
  readonly limiters?: RateLimiterFactory;
  close(): Promise<void>;
}

export interface BuildCoreOptions {
  /** Names the in-process worker's containers (embedded mode). A long-running bot keeps one
   *  id so it removes its leftovers at start; a one-shot command uses its own. */
  readonly embeddedWorkerId?: string;
  /** Where the conversation's metrics go (the bot's /metrics); none when unset. */
  readonly metrics?: Registry;
  /**
   * The chat adapters of this process (`sandbot start`): with them, turns are durable (stored
   * in Redis or the SQLite file, answered by a turn runner in any bot process, resumed after
   * a crash). Without them (`sandbot chat`), turns run in this process.
   */
  readonly adapters?: () => readonly ChatAdapter[];
}

/** A turn whose bot process died is taken up again after this long (and at most 1 s more). */
const TURN_LEASE_MS = 10_000;

/** Where turns keep their state: the turns themselves, and their package approvals. */
interface TurnStores {
  readonly turns: TurnStore;
  readonly approvals: ApprovalStore;
}

/** Durable turns on `stores`, when the process has adapters to answer them; package
 *  approvals when PACKAGE_APPROVERS is set. */
function durableTurns(
  stores: TurnStores,
  config: Config,
  logger: Logger,
  options: BuildCoreOptions,
): Pick<ConversationOptions, 'durable' | 'approvals'> {
  const approvals = packageApprovalServices(stores.approvals, config, logger);
  if (options.adapters === undefined) return approvals;
  return {
    ...approvals,
    durable: {
      store: stores.turns,
      runnerId: `${config.worker.id}-${process.pid}`,
      logger,
      adapters: options.adapters,
      leaseMs: TURN_LEASE_MS,
    },
  };
}

/** What the conversation needs whatever the transport. */
type ConversationBase = Omit<ConversationOptions, 'jobs' | 'blobs' | 'sessions' | 'usage'> & {
  readonly usage: UsageServices;
};

/**
 * The conversation core as every surface uses it. With REDIS_URL: queue, blobs and sessions
 * in Redis, code run by `sandbot worker` processes. Without: all of it in this process.
 */
export async function buildCore(
  config: Config,
  logger: Logger,
  options: BuildCoreOptions = {},
): Promise<Core> {
  const model = createModelClient(config.openai);
  const base: ConversationBase = {
    policy: new AccessPolicy(config.policy),
    agent: config.agent,
    logger,
    model: model === undefined ? undefined : { client: model, name: config.openai.model },
    usage: usageServices(config, logger),
    ...(config.packages === undefined ? {} : { packageAllowlist: config.packages.allow }),
    ...(options.metrics === undefined ? {} : { metrics: new ConversationMetrics(options.metrics) }),
  };
  return config.redisUrl === undefined
    ? buildEmbeddedCore(config, logger, base, options)
    : buildRedisCore(config, config.redisUrl, logger, base, options);
}

async function buildRedisCore(
  config: Config,
  redisUrl: string,
  logger: Logger,
  base: ConversationBase,
  options: BuildCoreOptions,
): Promise<Core> {
  // Refuse at once (exit 69) rather than retrying in the background for ever; once running,
  // losing Redis is retried, logged once per interval and shown on /healthz.
  await probeRedis(redisUrl);
  const health = new RedisHealth({ logger });
  const redis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  health.watch(redis, 'core');
  await redis.connect();
  const blobs = new RedisBlobStore(redis, `${config.redisPrefix}:`, BLOB_LIMITS);
  const sessions = new RedisSessionStore(
    redis,
    config.redisPrefix,
    config.sessionIdleMs * 48,
    blobs,
  );
  const jobs = new BullmqJobQueue({
    redisUrl,
    prefix: config.redisPrefix,
    logger,
    redisHealth: health,
  });
  const limiters = redisRateLimiters(redis, config.redisPrefix);
  // Replaces the base's policy, which counts each person's rate in this process only.
  const policy = new AccessPolicy(config.policy, { limiters });
  // A stop reaches the running turn whichever bot process runs it.
  const runningTurns = new RedisRunningTurns(redis, { prefix: config.redisPrefix });
  const turns = {
    turns: new RedisTurnStore(redis, config.redisPrefix),
    approvals: new RedisApprovalStore(redis, config.redisPrefix),
  };
  return {
    conversation: new Conversation({
      ...base,
      usage: { ...base.usage, meters: new RedisMeterStore(redis, config.redisPrefix) },
      policy,
      jobs,
      blobs,
      sessions,
      runningTurns,
      packages: RedisSandboxPackages.of(redis, config, logger),
      ...durableTurns(turns, config, logger, options),
    }),
    jobs,
    blobs,
    sessions,
    deliveries: new RedisDeliveryGuard(redis, config.redisPrefix),
    healthy: () => health.ok,
    manager: undefined,
    limiters,
    async close() {
      await jobs.close();
      await base.usage.audit?.flush();
      await runningTurns.close();
      await turns.turns.close();
      redis.disconnect();
    },
  };
}

async function buildEmbeddedCore(
  config: Config,
  logger: Logger,
  base: ConversationBase,
  options: BuildCoreOptions,
): Promise<Core> {
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch (error) {
    throw translateDockerError(error, 'reach the engine');
  }
  const manager = new SandboxManager({
    docker,
    settings: config.sandbox,
    workerId: options.embeddedWorkerId ?? `embedded-${config.worker.id}`,
    sessionIdleMs: config.sessionIdleMs,
    logger,
  });
  // One SQLite file under SANDBOT_DATA_DIR: a restart (or the next `sandbot chat`) forgets
  // nothing, and processes sharing the directory share the stores. Opened before any sandbox
  // starts, so a data directory that cannot be used leaves nothing behind.
  const db = openDatabase(config.dataDir);
  try {
    await manager.start();
  } catch (error) {
    db.close();
    throw error;
  }
  const blobs = new SqliteBlobStore(db, BLOB_LIMITS);
  const sessions = new SqliteSessionStore(db, config.sessionIdleMs * 48, blobs);
  const jobs = embeddedJobs(manager, blobs, db, config, logger);
  const turns = { turns: new SqliteTurnStore(db), approvals: new SqliteApprovalStore(db) };
  return {
    conversation: new Conversation({
      ...base,
      usage: { ...base.usage, meters: new SqliteMeterStore(db) },
      jobs,
      blobs,
      sessions,
      runningTurns: new MemoryRunningTurns(),
      // At most a kernel's start-up: the first turn after start waits for the pool's first.
      packages: { list: () => manager.packagesSoon(60_000) },
      ...durableTurns(turns, config, logger, options),
    }),
    jobs,
    blobs,
    sessions,
    deliveries: new SqliteDeliveryGuard(db),
    healthy: () => true,
    manager,
    async close() {
      await jobs.close();
      await base.usage.audit?.flush();
      await manager.close();
      await turns.turns.close();
      db.close();
    },
  };
}

/** Prices and the audit log (AUDIT_LOG: one file per process); each core adds its meter store. */
function usageServices(config: Config, logger: Logger): UsageServices {
  const audit = openAuditLog(config.usage, `${config.worker.id}-${process.pid}`, logger);
  return { settings: config.usage, ...(audit === undefined ? {} : { audit }) };
}

/** Jobs run in this process. A kernel ends with its process; the next one (`chat --session`,
 *  a restart) gets the thread's files back from the SQLite file. */
function embeddedJobs(
  manager: SandboxManager,
  blobs: BlobStore,
  db: DatabaseSync,
  config: Config,
  logger: Logger,
): EmbeddedJobQueue {
  const lifetimeMs = sessionLifetimeMs(config.sessionIdleMs);
  const sessionFiles = new SqliteSessionFiles(db, lifetimeMs);
  const checkpoints = attachCheckpoints(
    manager,
    new SqliteCheckpointStore(db, {
      ttlMs: lifetimeMs,
      budgetBytes: config.checkpoints.totalBytes,
    }),
    config.checkpoints,
    logger,
  );
  const store = new SqliteSessionPackages(db, lifetimeMs);
  const packages = { settings: config.packages, blobs, store, logger, lifetimeMs };
  return new EmbeddedJobQueue(
    new JobExecutor({
      manager,
      blobs,
      workerId: 'embedded',
      logger,
      sessionFiles,
      checkpoints,
      packages,
    }),
  );
}
