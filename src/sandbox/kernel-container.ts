import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Container } from 'dockerode';
import type { Logger } from '../logging/logger.ts';
import { SandbotError } from '../core/errors.ts';
import { containerSpec, DATA_DIR, volumeSpec, type SandboxLimits } from './container-spec.ts';
import { attach, removeQuietly } from './container-lifecycle.ts';
import { CgroupUsage, type ContainerCounters } from './cgroup-usage.ts';
import { sessionMemoryBytes } from './container-memory.ts';
import { isNotFound, translateDockerError, type Docker } from './docker-client.ts';
import { wasOomKilled } from './oom-event.ts';
import {
  assertUploadNames,
  FileReceiver,
  isSafeRelativePath,
  sandboxText,
  uploadRequests,
  type FetchedFile,
  type UploadFile,
} from './file-transfer.ts';
import type { Labels } from './labels.ts';
import { FrameReader } from './frame-reader.ts';
import { exchange } from './runner-exchange.ts';
import { encodeRequest, type RunnerFrame, type RunnerRequest } from './protocol.ts';

export interface KernelContainerOptions {
  readonly docker: Docker;
  readonly limits: SandboxLimits;
  readonly labels: Labels;
  readonly idleExitS: number;
  readonly logger: Logger;
  /** How long the runner may take to import the data stack and say `ready`. Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export interface ExitInfo {
  readonly oomKilled: boolean;
  readonly exitCode: number | undefined;
  /** Why the worker gave up on the container, when it was the worker's decision: `flood`
   *  when it sent more than any cell may (an oversized frame, frames nobody asked for, or a
   *  cell far past its output budget). */
  readonly reason: 'exited' | 'flood' | 'destroyed';
}

type FrameListener = (frame: RunnerFrame) => void;

/** Every container of this worker is read the same way (see CgroupUsage). */
const cgroups = new CgroupUsage();

/** How long a file's copy-out may go without a frame before it is given up. */
const FILE_STALL_MS = 15_000;
/** How long an upload may wait for the runner's answer once its bytes are sent. */
const UPLOAD_STALL_MS = 60_000;

/**
 * One sandbox container and its runner: created hardened, attached once, spoken to over the
 * attached stdin/stdout. Knows nothing about sessions or cells; `Sandbox` builds those on top.
 */
export class KernelContainer {
  private readonly listeners = new Map<string, FrameListener>();
  private exitListeners: ((info: ExitInfo) => void)[] = [];
  private exitInfo: ExitInfo | undefined;
  private readonly log: Logger;
  readonly createdAt = Date.now();
  pythonVersion = '';
  /** The image's Python distributions as the runner listed them at start (bounded names). */
  packages: readonly string[] | undefined;

  private readonly options: KernelContainerOptions;
  readonly container: Container;
  readonly volumeName: string | undefined;
  private readonly stream: Duplex;

  private constructor(
    options: KernelContainerOptions,
    container: Container,
    volumeName: string | undefined,
    stream: Duplex,
  ) {
    this.options = options;
    this.container = container;
    this.volumeName = volumeName;
    this.stream = stream;
    this.log = options.logger.child({ container: container.id.slice(0, 12) });
  }

  get id(): string {
    return this.container.id;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Creates the volume and the container, attaches, starts, and waits for `ready`. */
  static async create(options: KernelContainerOptions): Promise<KernelContainer> {
    const { docker } = options;
    const suffix = randomBytes(6).toString('hex');
    const volumeName = `sandbot-data-${suffix}`;
    try {
      await docker.createVolume(volumeSpec(volumeName, options.limits.diskMb, options.labels));
    } catch (error) {
      throw translateDockerError(error, 'create a sandbox volume');
    }
    let container: Container | undefined;
    try {
      container = await docker.createContainer(
        containerSpec({
          name: `sandbot-kernel-${suffix}`,
          volumeName,
          limits: options.limits,
          labels: options.labels,
          idleExitS: options.idleExitS,
        }),
      );
      const stream = await attach(container);
      const kernel = new KernelContainer(options, container, volumeName, stream);
      const ready = kernel.waitForReady(options.readyTimeoutMs ?? 60_000);
      await container.start();
      kernel.watchExit();
      await ready;
      return kernel;
    } catch (error) {
      await removeQuietly(docker, container, volumeName);
      if (isNotFound(error)) {
        throw new SandbotError(
          'SANDBOX_IMAGE_MISSING',
          `sandbox image ${options.limits.image} is not built: run \`npm run sandbox:build\``,
          { cause: error },
        );
      }
      throw translateDockerError(error, 'start a sandbox container');
    }
  }

  /** Attaches to a running sandbox container made earlier (a named `sandbot exec` session). */
  static async attachExisting(
    options: KernelContainerOptions,
    containerId: string,
  ): Promise<KernelContainer> {
    const container = options.docker.getContainer(containerId);
    try {
      const info = await container.inspect();
      const volume = info.Mounts.find((m) => m.Destination === DATA_DIR)?.Name;
      const stream = await attach(container);
      const kernel = new KernelContainer(options, container, volume, stream);
      kernel.watchExit();
      return kernel;
    } catch (error) {
      throw translateDockerError(error, 'attach to a sandbox container');
    }
  }

  private waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new SandbotError(
            'SANDBOX_START_FAILED',
            `the sandbox did not become ready within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onReady = (frame: RunnerFrame) => {
        if (frame.type !== 'ready') return;
        this.pythonVersion = frame.pythonVersion;
        this.packages = frame.packages;
        cleanup();
        resolve();
      };
      const onExit = (info: ExitInfo) => {
        cleanup();
        reject(
          new SandbotError(
            'SANDBOX_START_FAILED',
            `the sandbox exited during start-up (exit code ${info.exitCode ?? 'unknown'})`,
          ),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete('');
        this.exitListeners = this.exitListeners.filter((l) => l !== onExit);
      };
      this.listeners.set('', onReady);
      this.exitListeners.push(onExit);
    });
  }

  private watchExit(): void {
    this.reader = new FrameReader({
      docker: this.options.docker,
      stream: this.stream,
      log: this.log,
      route: (frame) => this.route(frame),
      onFlood: (why) => {
        this.log.warn({ why }, 'the sandbox flooded the worker; killing it');
        void this.kill('flood');
      },
    });
    this.stream.on('error', (error) => this.log.debug({ err: error }, 'attach stream error'));
    this.stream.on('close', () => void this.onStreamEnded());
    this.stream.on('end', () => void this.onStreamEnded());
  }

  private reader: FrameReader | undefined;

  /** The longest frame accepted from now on (a cell sizes it by its output limit). */
  limitFrames(maxChars: number): void {
    if (this.reader !== undefined) this.reader.maxFrameChars = maxChars;
  }

  private route(frame: RunnerFrame): boolean {
    const listener = this.listeners.get('id' in frame ? frame.id : '');
    listener?.(frame);
    return listener !== undefined;
  }

  private ending: Promise<void> | undefined;

  private detached = false;

  /** Lets go of the container without stopping it (a named session lives on). */
  detach(): void {
    this.detached = true;
    this.stream.destroy();
  }

  private onStreamEnded(): Promise<void> {
    // Detached, or ended by us: nothing to learn from Docker.
    if (this.detached || this.exitInfo !== undefined) return Promise.resolve();
    this.ending ??= (async () => {
      let oomKilled = false;
      let exitCode: number | undefined;
      try {
        // The stream can end a moment before Docker records the exit; wait for the state.
        const waited = (await Promise.race([
          this.container.wait(),
          new Promise((resolve) => setTimeout(resolve, 5000, undefined).unref()),
        ])) as { StatusCode?: number } | undefined;
        exitCode = waited?.StatusCode;
        const info = await this.container.inspect();
        exitCode ??= info.State.ExitCode;
        oomKilled = await wasOomKilled(this.options.docker, info, exitCode, this.killedFor);
      } catch {
        // Already removed: nothing more to learn.
      }
      // Ended by our own kill (a flood, a timeout): the kill's reason, whichever comes first.
      this.markExited({ oomKilled, exitCode, reason: this.killedFor ?? 'exited' });
    })();
    return this.ending;
  }

  /** Why we killed the container, once we decided to. */
  private killedFor: ExitInfo['reason'] | undefined;

  private markExited(info: ExitInfo): void {
    if (this.exitInfo !== undefined) return;
    this.exitInfo = info;
    this.log.debug(info, 'sandbox container gone');
    for (const listener of this.exitListeners) listener(info);
    this.exitListeners = [];
  }

  /** Resolves with how the container ended; immediately if it already has. */
  onExit(listener: (info: ExitInfo) => void): () => void {
    if (this.exitInfo !== undefined) {
      listener(this.exitInfo);
      return () => undefined;
    }
    this.exitListeners.push(listener);
    return () => {
      this.exitListeners = this.exitListeners.filter((l) => l !== listener);
    };
  }

  /** Routes frames carrying `id` to `listener` until the returned function is called. */
  subscribe(id: string, listener: FrameListener): () => void {
    this.listeners.set(id, listener);
    return () => this.listeners.delete(id);
  }

  send(request: RunnerRequest): void {
    if (!this.alive) throw new SandbotError('SANDBOX_GONE', 'the sandbox container has exited');
    this.stream.write(encodeRequest(request));
  }

  /** Asks the runner something and waits for the frame with the same id. */
  async ask(
    request: RunnerRequest & { type: 'snapshot' | 'ping' },
    timeoutMs = 10_000,
  ): Promise<void> {
    await exchange(this, request, timeoutMs, () => true);
  }

  /** SIGINT reaches the runner through Docker's init and interrupts the running cell. */
  async interrupt(): Promise<void> {
    if (!this.alive) return;
    try {
      await this.container.kill({ signal: 'SIGINT' });
    } catch (error) {
      this.log.debug({ err: error }, 'interrupt failed (container already stopped?)');
    }
  }

  /** Kills the container now; the exit listeners fire with `reason`. */
  async kill(reason: ExitInfo['reason'] = 'destroyed'): Promise<void> {
    // Before the kill: the stream may end, and be reported, while Docker is still answering.
    this.killedFor ??= reason;
    this.reader?.stop();
    try {
      await this.container.kill({ signal: 'SIGKILL' });
    } catch {
      // Already stopped.
    }
    this.markExited({ oomKilled: false, exitCode: 137, reason });
  }

  /** Removes the container and its volume. Safe to call more than once. */
  async destroy(): Promise<void> {
    this.markExited({ oomKilled: false, exitCode: undefined, reason: 'destroyed' });
    this.stream.destroy();
    await removeQuietly(this.options.docker, this.container, this.volumeName);
  }

  /**
   * Places files in /mnt/data, written by the runner as the sandbox user (never by Docker as
   * root into a directory user code can change meanwhile). Throws FILE_REJECTED with the
   * runner's reason when one cannot be written (a directory of that name, a full disk).
   */
  async putFiles(files: readonly UploadFile[]): Promise<void> {
    assertUploadNames(files);
    for (const file of files) {
      const refused = await exchange(
        this,
        uploadRequests(file, `write-${randomUUID()}`),
        UPLOAD_STALL_MS,
        (frame) => (frame.type === 'file_written' ? (frame.refused ?? '') : undefined),
      );
      if (refused !== '') {
        const reason = sandboxText(refused);
        throw new SandbotError('FILE_REJECTED', `upload of ${file.name} refused: ${reason}`);
      }
    }
  }

  /**
   * Copies one file out of /mnt/data: the runner reads it with the sandbox user's privilege,
   * opening each component of the path without following a symlink, and streams its bytes
   * (docs/sandbox-protocol.md, "Trust model"). The worker never asks Docker to read a path
   * the sandbox named, so a race or a forged frame yields at most bytes the sandbox user can
   * read anyway. At most `maxBytes` are kept, whatever the frames say.
   */
  async getFile(relativePath: string, maxBytes: number): Promise<FetchedFile> {
    if (!isSafeRelativePath(relativePath)) {
      return { kind: 'skipped', reason: 'its path is not a plain path inside /mnt/data' };
    }
    const receiver = new FileReceiver(maxBytes);
    return await exchange(
      this,
      { type: 'read_file', id: `read-${randomUUID()}`, path: relativePath, maxBytes },
      FILE_STALL_MS,
      (frame) => receiver.take(frame),
    );
  }

  /**
   * Memory this session alone costs, in bytes: anonymous memory plus tmpfs (files in
   * /mnt/data and /tmp). Page cache of the image's files is left out: every session shares it.
   */
  async memoryBytes(): Promise<number> {
    return sessionMemoryBytes(await this.container.stats({ stream: false }));
  }

  /** The container's CPU and memory counters from its cgroup; undefined once it is gone. */
  counters(): Promise<ContainerCounters | undefined> {
    return cgroups.read(this.container);
  }
}
