import type { SandboxSettings } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import { translateDockerError, type Docker } from './docker-client.ts';
import { KernelContainer } from './kernel-container.ts';
import { DEFAULT_MAX_LIFETIME_MS } from './container-spec.ts';
import { expiryLabel, LABEL, type Labels } from './labels.ts';
import { Sandbox } from './sandbox.ts';
import { sweepSandboxes } from './sweep.ts';
import { PoolSizer } from './pool-sizer.ts';
import { WarmPool } from './warm-pool.ts';

/** How often a worker removes expired and stopped sandboxes on its host. */
const SWEEP_EVERY_MS = 60_000;

export interface SandboxManagerOptions {
  readonly docker: Docker;
  readonly settings: SandboxSettings;
  /** Names this worker's containers; leftovers with the same id are removed at start. */
  readonly workerId: string;
  readonly sessionIdleMs: number;
  readonly logger: Logger;
  /** Extra labels on everything created (tests use one per run to clean up). */
  readonly labels?: Labels;
  readonly interruptGraceMs?: number;
  /** Told the image's Python distributions when a kernel first lists them, and whenever the
   *  list changes (a new image): the worker publishes them for the model's prompt. */
  readonly onPackages?: (names: readonly string[]) => void;
}

/**
 * The sandboxes of one worker: one per session, a warm pool behind them, idle reaping, and
 * removal of containers a previous run of this worker left behind.
 */
export class SandboxManager {
  private readonly sessions = new Map<string, Sandbox>();
  readonly pool: WarmPool;
  private reaper: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly labels: Labels;
  #packages: readonly string[] | undefined;
  /** Kernels being started now, and who waits for the first one's package list. */
  #starting = 0;
  #packageWaiters: (() => void)[] = [];

  private readonly options: SandboxManagerOptions;

  constructor(options: SandboxManagerOptions) {
    this.options = options;
    this.labels = { ...options.labels, [LABEL.worker]: options.workerId };
    const maxLifetimeMs = options.settings.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS;
    this.pool = new WarmPool({
      size: options.settings.poolSize,
      // A pooled container handed out must still have a session's idle time ahead of it.
      maxAgeMs: Math.max(0, maxLifetimeMs - options.sessionIdleMs),
      create: () => this.createKernel(),
      logger: options.logger.child({ component: 'warm-pool' }),
      ...(options.settings.poolMax === undefined
        ? {}
        : {
            sizer: new PoolSizer({
              restingSize: options.settings.poolSize,
              maxSize: options.settings.poolMax,
              kernelMemoryBytes: options.settings.memoryMb * 1024 * 1024,
            }),
          }),
    });
  }

  /** The image's Python distributions, as the newest kernel listed them; undefined before. */
  get packages(): readonly string[] | undefined {
    return this.#packages;
  }

  /**
   * The package list, waiting up to `timeoutMs` for a kernel that is starting now (the warm
   * pool's first, right after start-up) rather than answering "unknown" a moment too early.
   */
  async packagesSoon(timeoutMs: number): Promise<readonly string[] | undefined> {
    if (this.#packages !== undefined || this.#starting === 0) return this.#packages;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#packageWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.#packages;
  }

  private async createKernel(labels: Labels = {}): Promise<KernelContainer> {
    this.#starting += 1;
    try {
      const kernel = await this.startKernel(labels);
      const names = kernel.packages;
      if (names !== undefined && names.join(',') !== this.#packages?.join(',')) {
        this.#packages = names;
        this.options.onPackages?.(names);
      }
      return kernel;
    } finally {
      this.#starting -= 1;
      for (const wake of this.#packageWaiters.splice(0)) wake();
    }
  }

  private startKernel(labels: Labels): Promise<KernelContainer> {
    const { settings } = this.options;
    return KernelContainer.create({
      docker: this.options.docker,
      limits: settings,
      labels: {
        ...this.labels,
        ...expiryLabel(settings.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS),
        ...labels,
      },
      // A little longer than our own reaping, so the runner's self-exit only ever catches
      // containers whose worker died.
      idleExitS: Math.ceil(this.options.sessionIdleMs / 1000) + 60,
      logger: this.options.logger,
    });
  }

  async start(): Promise<void> {
    // This worker's labels include its deployment's: a worker of another deployment on the
    // same host (staging beside production, another test) may have the same WORKER_ID.
    const removed = await removeContainers(this.options.docker, this.labels);
    if (removed > 0) this.options.logger.info({ removed }, 'removed leftover sandbox containers');
    await this.sweep();
    this.pool.start();
    const every = Math.min(60_000, Math.max(1000, this.options.sessionIdleMs / 4));
    this.reaper = setInterval(() => void this.reapIdle(), every);
    this.reaper.unref();
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }

  /**
   * Removes what is expired or stopped on this host, whoever made it (sweep.ts): the bound on
   * a sandbox that outlives its idle time, whatever its runner does, while this worker runs.
   * Never throws: a Docker outage is reported where a cell needs Docker.
   */
  async sweep(): Promise<void> {
    try {
      const swept = await sweepSandboxes(this.options.docker);
      if (swept.length > 0) {
        this.options.logger.info({ swept }, 'removed expired or stopped sandboxes');
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not sweep expired sandboxes');
    }
  }

  /** The session's sandbox, created on first use (its container comes from the pool). */
  session(sessionId: string): Sandbox {
    let sandbox = this.sessions.get(sessionId);
    if (sandbox === undefined) {
      const { settings } = this.options;
      sandbox = new Sandbox({
        acquire: () => this.pool.take(),
        limits: settings,
        logger: this.options.logger.child({ session: sessionId }),
        ...(this.options.interruptGraceMs === undefined
          ? {}
          : { interruptGraceMs: this.options.interruptGraceMs }),
      });
      this.sessions.set(sessionId, sandbox);
    }
    return sandbox;
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** The session's sandbox if this worker has one; never creates one. */
  find(sessionId: string): Sandbox | undefined {
    return this.sessions.get(sessionId);
  }

  /**
   * Called before a session's sandbox is removed for idleness or at close (a worker draining):
   * the checkpoint keeper saves the session's variables there. It must not throw.
   */
  beforeRetire: ((sessionId: string) => Promise<void>) | undefined;

  get liveSessions(): number {
    return this.sessions.size;
  }

  /** Sessions with a cell, an upload or a checkpoint's step running or queued. */
  get busySessions(): number {
    return [...this.sessions.values()].filter((sandbox) => sandbox.busy).length;
  }

  async destroySession(sessionId: string): Promise<void> {
    const sandbox = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    await sandbox?.destroy();
  }

  /** Removes sessions idle for longer than SESSION_IDLE_MINUTES. */
  async reapIdle(now = Date.now()): Promise<number> {
    const idle = [...this.sessions].filter(
      ([, sandbox]) => !sandbox.busy && now - sandbox.lastUsedAt > this.options.sessionIdleMs,
    );
    await Promise.all(
      idle.map(([id, sandbox]) => {
        // A job that arrived during the save (it marks the sandbox used as it starts) keeps
        // the kernel: the session is not idle any more.
        const usedAt = sandbox.lastUsedAt;
        return this.retire(id, () => sandbox.lastUsedAt === usedAt);
      }),
    );
    if (idle.length > 0) this.options.logger.info({ reaped: idle.length }, 'reaped idle sessions');
    return idle.length;
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
    clearInterval(this.sweeper);
    await this.pool.close();
    const ids = [...this.sessions.keys()];
    await Promise.all(ids.map((id) => this.retire(id)));
  }

  /** Saves what the session wants saved (beforeRetire), then removes its sandbox if `stillDue`. */
  private async retire(sessionId: string, stillDue: () => boolean = () => true): Promise<void> {
    await this.beforeRetire?.(sessionId);
    if (stillDue()) await this.destroySession(sessionId);
  }
}

/** Removes every sandbot container and volume carrying all of `labels`. Returns the count. */
export async function removeContainers(docker: Docker, labels: Labels): Promise<number> {
  const label = [`${LABEL.managed}=1`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)];
  try {
    const containers = await docker.listContainers({ all: true, filters: { label } });
    await Promise.all(
      containers.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    const { Volumes: volumes } = await docker.listVolumes({ filters: { label } });
    await Promise.all(
      volumes.map((v) =>
        docker
          .getVolume(v.Name)
          .remove()
          .catch(() => undefined),
      ),
    );
    return containers.length;
  } catch (error) {
    throw translateDockerError(error, 'list sandbox containers');
  }
}
