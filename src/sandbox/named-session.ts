import type { SandboxSettings } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import { SandbotError } from '../core/errors.ts';
import { translateDockerError, type Docker } from './docker-client.ts';
import { KernelContainer, type KernelContainerOptions } from './kernel-container.ts';
import { LABEL } from './labels.ts';
import { Sandbox } from './sandbox.ts';

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
 * exits after SESSION_IDLE_MINUTES without a request.
 */
export async function openNamedSession(options: NamedSessionOptions): Promise<NamedSession> {
  const { name, docker } = options;
  if (name !== undefined && !SESSION_NAME.test(name)) {
    throw new SandbotError(
      'INVALID_REQUEST',
      'a session id is 1 to 128 letters, digits, and . _ : - (starting with a letter or digit)',
    );
  }
  const labels = {
    [LABEL.worker]: 'cli',
    ...(name === undefined ? {} : { [LABEL.session]: name }),
  };
  const kernelOptions: KernelContainerOptions = {
    docker,
    limits: options.settings,
    labels,
    idleExitS: Math.ceil(options.sessionIdleMs / 1000),
    logger: options.logger,
  };
  const kernels: KernelContainer[] = [];
  let first = name === undefined ? undefined : await findRunning(docker, name);
  const acquire = async () => {
    const kernel =
      first === undefined
        ? await KernelContainer.create(kernelOptions)
        : await KernelContainer.attachExisting(kernelOptions, first);
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

async function findRunning(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const found = await docker.listContainers({
      filters: { label: [`${LABEL.managed}=1`, `${LABEL.session}=${name}`], status: ['running'] },
    });
    return found[0]?.Id;
  } catch (error) {
    throw translateDockerError(error, 'look up the session container');
  }
}
