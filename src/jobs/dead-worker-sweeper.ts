import type { Logger } from '../logging/logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Docker } from '../sandbox/docker-client.ts';
import { LABEL } from '../sandbox/labels.ts';
import { removeContainers } from '../sandbox/sandbox-manager.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * Removes containers on this Docker host whose worker (of this deployment) has stopped
 * beating: a worker killed with SIGKILL cannot clean up after itself, so its neighbours do.
 * Returns the ids of the workers swept.
 */
export async function sweepDeadWorkers(options: {
  readonly docker: Docker;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly deployment: string;
  readonly selfId: string;
  readonly logger: Logger;
}): Promise<string[]> {
  const { docker, redis, keys } = options;
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.managed}=1`, `${LABEL.deployment}=${options.deployment}`] },
  });
  const workerIds = new Set(
    containers.map((c) => c.Labels[LABEL.worker]).filter((id): id is string => id !== undefined),
  );
  workerIds.delete(options.selfId);
  const swept: string[] = [];
  for (const workerId of workerIds) {
    if ((await redis.exists(keys.heartbeat(workerId))) === 1) continue;
    const removed = await removeContainers(docker, {
      [LABEL.worker]: workerId,
      [LABEL.deployment]: options.deployment,
    });
    options.logger.info(
      { deadWorker: workerId, removed },
      'removed containers of a stopped worker',
    );
    swept.push(workerId);
  }
  return swept;
}
