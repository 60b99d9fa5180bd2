import { randomBytes } from 'node:crypto';
import { createDockerClient, type Docker } from '../../src/sandbox/docker-client.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';

/** Label put on everything a test creates, so the test can remove exactly what it made. */
export const TEST_RUN_LABEL = 'sandbot.test-run';

export interface DockerTestScope {
  readonly docker: Docker;
  /** Labels to pass to whatever creates containers in this test. */
  readonly labels: Readonly<Record<string, string>>;
  /** Removes every container and volume the test created; returns how many containers. */
  cleanup(): Promise<number>;
  /** Containers (any state) this test created that still exist. */
  leftovers(): Promise<number>;
}

export function dockerTestScope(): DockerTestScope {
  const docker = createDockerClient();
  const run = randomBytes(6).toString('hex');
  const labels = { [TEST_RUN_LABEL]: run };
  return {
    docker,
    labels,
    cleanup: () => removeContainers(docker, labels),
    async leftovers() {
      const found = await docker.listContainers({
        all: true,
        filters: { label: [`${TEST_RUN_LABEL}=${run}`] },
      });
      return found.length;
    },
  };
}
