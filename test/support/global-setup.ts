import type { TestProject } from 'vitest/node';
import { createRedis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { SANDBOX_IMAGE, TEST_REDIS_URL, type ServiceProbe } from './services.ts';

/**
 * Finds Redis and Docker once per run. Without CI, a missing service skips its suites with
 * one loud line saying how to fix it; with CI set, a missing service fails the run, so a
 * broken CI machine can never pass by skipping everything.
 */
export default async function setup(project: TestProject): Promise<void> {
  const missing: string[] = [];
  const redisUrl = await probeRedis(missing);
  const { docker, image } = await probeDocker(missing);
  const probe: ServiceProbe = { redisUrl, docker, sandboxImage: image, missing };
  project.provide('services', probe);
  if (missing.length === 0) return;
  const banner = missing.map((m) => `  - ${m}`).join('\n');
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
    throw new Error(`CI is set and services are missing:\n${banner}`);
  }
  console.warn(
    `\n!!! ${project.name}: suites needing these services are SKIPPED:\n${banner}\n!!! run \`bash .ci/services.sh\` and \`npm run sandbox:build\` to get them.\n`,
  );
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
