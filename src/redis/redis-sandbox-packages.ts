import type { Logger } from '../logging/logger.ts';
import type { SandboxPackages } from '../core/sandbox-packages.ts';
import type { Redis } from './connection.ts';

/** A list outlives its workers for a while, so a bot started alone still names them. */
const KEEP_S = 7 * 24 * 3600;
/** The bot reads the list at most this often (it is in every model request's prompt). */
const CACHE_MS = 60_000;
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;
const MAX_PACKAGES = 2000;

/**
 * The image's package list in Redis, one key per image: workers publish what their kernels
 * report, bot processes read it (cached). Workers already bound the list; it is checked again
 * here because a key in Redis is not the worker's word.
 */
export class RedisSandboxPackages implements SandboxPackages {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #logger: Logger;
  #cached: { readonly atMs: number; readonly names: readonly string[] | undefined } | undefined;

  constructor(redis: Redis, options: { prefix: string; image: string; logger: Logger }) {
    this.#redis = redis;
    this.#key = `${options.prefix}:sandbox-packages:${options.image}`;
    this.#logger = options.logger;
  }

  /** The list of a deployment's SANDBOX_IMAGE, as its workers and bots share it. */
  static of(
    redis: Redis,
    config: { readonly redisPrefix: string; readonly sandbox: { readonly image: string } },
    logger: Logger,
  ): RedisSandboxPackages {
    return new RedisSandboxPackages(redis, {
      prefix: config.redisPrefix,
      image: config.sandbox.image,
      logger,
    });
  }

  /** Worker side: called when a kernel lists the image's distributions. Never throws. */
  async publish(names: readonly string[]): Promise<void> {
    try {
      await this.#redis.set(this.#key, JSON.stringify(names), 'EX', KEEP_S);
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not publish the sandbox package list');
    }
  }

  async list(nowMs = Date.now()): Promise<readonly string[] | undefined> {
    if (this.#cached !== undefined && nowMs - this.#cached.atMs < CACHE_MS) {
      return this.#cached.names;
    }
    let names: readonly string[] | undefined;
    try {
      names = parseNames(await this.#redis.get(this.#key));
    } catch (error) {
      this.#logger.debug({ err: error }, 'could not read the sandbox package list');
      return this.#cached?.names;
    }
    // "None yet" is not cached: the first worker's list is used as soon as it is there.
    if (names !== undefined) this.#cached = { atMs: nowMs, names };
    return names;
  }
}

function parseNames(raw: string | null): readonly string[] | undefined {
  if (raw === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((v): v is string => typeof v === 'string' && NAME.test(v))
    .slice(0, MAX_PACKAGES);
}
