import type { TestProject } from 'vitest/node';
import { createRedis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { TEST_RUN_LABEL } from './docker.ts';
import { SANDBOX_IMAGE, TEST_REDIS_URL, type ServiceProbe } from './services.ts';

/**
 * Finds Redis and Docker once per run. Without CI, a missing service skips its suites with
 * one loud line saying how to fix it; with CI set, a missing service fails the run, so a
 * broken CI machine can never pass by skipping everything.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAtS = Math.floor(Date.now() / 1000) - 1;
  const missing: string[] = [];
  const redisUrl = await probeRedis(missing);
  const { docker, image } = await probeDocker(missing);
  const probe: ServiceProbe = { redisUrl, docker, sandboxImage: image, missing };
  project.provide('services', probe);
  // Set only while several people run suites against one Docker engine at once, where
  // another run's containers would look like leftovers of this one. CI never sets it.
  const shared = process.env.SANDBOT_TEST_SHARED_DOCKER === '1';
  const teardown = () => (docker && !shared ? failOnLeftovers(startedAtS) : Promise.resolve());
  if (missing.length === 0) return teardown;
  const banner = missing.map((m) => `  - ${m}`).join('\n');
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    throw new Error(`CI is set and services are missing:\n${banner}`);
  }
  console.warn(
    `\n!!! ${project.name}: suites needing these services are SKIPPED:\n${banner}\n!!! run \`bash .ci/services.sh\` and \`npm run sandbox:build\` to get them.\n`,
  );
  return teardown;
}

/**
 * After the suite, no container made by a test may remain: those labelled by a test scope,
 * and any sandbot container created during the run (the exec command's included). Leftovers
 * are removed, then reported as a failure.
 */
async function failOnLeftovers(startedAtS: number): Promise<void> {
  const docker = createDockerClient();
  const all = await docker.listContainers({ all: true, filters: { label: ['sandbot.managed=1'] } });
  const leftovers = all.filter(
    (c) => c.Labels[TEST_RUN_LABEL] !== undefined || c.Created >= startedAtS,
  );
  await Promise.all(
    leftovers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  if (leftovers.length > 0) {
    const names = leftovers.map((c) => `${c.Names.join(',')} (${c.State})`).join('\n  ');
    throw new Error(`containers left behind after the suite:\n  ${names}`);
  }
}

async function probeRedis(missing: string[]): Promise<string | undefined> {
  const redis = createRedis(TEST_REDIS_URL, {
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return TEST_REDIS_URL;
  } catch {
    missing.push(`Redis at ${TEST_REDIS_URL} (set TEST_REDIS_URL, or start redis-server)`);
    return undefined;
  } finally {
    redis.disconnect();
  }
}

async function probeDocker(
  missing: string[],
): Promise<{ docker: boolean; image: string | undefined }> {
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch {
    missing.push('a Docker engine (DOCKER_HOST or /var/run/docker.sock)');
    return { docker: false, image: undefined };
  }
  try {
    await docker.getImage(SANDBOX_IMAGE).inspect();
    return { docker: true, image: SANDBOX_IMAGE };
  } catch {
    missing.push(`the sandbox image ${SANDBOX_IMAGE} (npm run sandbox:build)`);
    return { docker: true, image: undefined };
  }
}
