import type { SandboxSettings } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import { SandbotError } from '../core/errors.ts';
import { translateDockerError, type Docker } from './docker-client.ts';
import { KernelContainer, type KernelContainerOptions } from './kernel-container.ts';
import { DEFAULT_MAX_LIFETIME_MS } from './container-spec.ts';
import { expiresAtMs, expiryLabel, LABEL } from './labels.ts';
import { Sandbox } from './sandbox.ts';
import { sweepSandboxes } from './sweep.ts';

const SESSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export interface NamedSessionOptions {
  readonly docker: Docker;
  readonly settings: SandboxSettings;
  readonly sessionIdleMs: number;
  readonly logger: Logger;
  /** Undefined: a throwaway kernel, removed by `close()`. */
  readonly name: string | undefined;
}

export interface NamedSession {
  readonly sandbox: Sandbox;
  /** Detaches from a named session's kernel (it lives on) or removes a throwaway one. */
  close(): Promise<void>;
}

/**
 * A sandbox for one-shot commands (`sandbot exec`) with no long-running worker: a named
 * session's container is found again by its label and outlives the command, until the runner
 * exits after SESSION_IDLE_MINUTES without a request, or at the latest when its hard lifetime
 * (SANDBOX_MAX_LIFETIME_S from its creation, in its `sandbot.expires` label) ends: its init
 * kills it then, whatever the runner does. Each call first removes what is expired or stopped
 * on the host (sweep.ts), stopped named sessions and their volumes included.
 */
export async function openNamedSession(options: NamedSessionOptions): Promise<NamedSession> {
  const { name, docker } = options;
  if (name !== undefined && !SESSION_NAME.test(name)) {
    throw new SandbotError(
      'INVALID_REQUEST',
      'a session id is 1 to 128 letters, digits, and . _ : - (starting with a letter or digit)',
    );
  }
  await sweep(options);
  const labels = {
    [LABEL.worker]: 'cli',
    ...(name === undefined ? {} : { [LABEL.session]: name }),
  };
  const kernelOptions = (): KernelContainerOptions => ({
    docker,
    limits: options.settings,
    // Made when the container is, so its expiry counts from then.
    labels: {
      ...labels,
      ...expiryLabel(options.settings.maxLifetimeMs ?? DEFAULT_MAX_LIFETIME_MS),
    },
    idleExitS: Math.ceil(options.sessionIdleMs / 1000),
    logger: options.logger,
  });
  const kernels: KernelContainer[] = [];
  let first = name === undefined ? undefined : await findRunning(docker, name);
  const acquire = async () => {
    const kernel =
      first === undefined
        ? await KernelContainer.create(kernelOptions())
        : await KernelContainer.attachExisting(kernelOptions(), first);
    first = undefined;
    kernels.push(kernel);
    return kernel;
  };
  const sandbox = new Sandbox({ acquire, limits: options.settings, logger: options.logger });
  return {
    sandbox,
    async close() {
      for (const kernel of kernels) {
        if (name !== undefined && kernel.alive) kernel.detach();
        else await kernel.destroy();
      }
    },
  };
}

/** Removes expired and stopped sandboxes; a Docker outage is left to the open that follows. */
async function sweep(options: NamedSessionOptions): Promise<void> {
  try {
    const swept = await sweepSandboxes(options.docker);
    if (swept.length > 0) options.logger.info({ swept }, 'removed expired or stopped sandboxes');
  } catch (error) {
    options.logger.debug({ err: error }, 'could not sweep expired sandboxes');
  }
}

/** The session's running container, unless its hard lifetime is about to end (or has). */
async function findRunning(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const found = await docker.listContainers({
      filters: { label: [`${LABEL.managed}=1`, `${LABEL.session}=${name}`], status: ['running'] },
    });
    const soonMs = Date.now() + 5000;
    return found.find((c) => (expiresAtMs(c.Labels) ?? Infinity) > soonMs)?.Id;
  } catch (error) {
    throw translateDockerError(error, 'look up the session container');
  }
}
