import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';

const services = inject('services');
const BIN = join(process.cwd(), 'bin/sandbot.js');

/** A cell that says it began, then takes long enough for its bot process to be killed. */
const SLOW_CELL = [
  '```python',
  'import time',
  // Built at run time, so the words appear only in the cell's output, never in its code.
  'print("be" + "gun", flush=True)',
  'time.sleep(6)',
  'print("fini" + "shed")',
  '```',
].join('\n');

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'a bot process killed in the middle of a turn (Slack, Redis)',
  () => {
    const prefix = uniquePrefix('slack-resume');
    const children: ChildProcess[] = [];
    const outputs: string[] = [];
    let slack: FakeSlack;
    let redis: Redis;

    const env = (role: string) => ({
      PATH: process.env.PATH ?? '',
      REDIS_URL: services.redisUrl ?? '',
      REDIS_PREFIX: prefix,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
      HTTP_PORT: '0',
      METRICS_PORT: '0',
      WORKER_ID: `${role}-${process.pid}`,
      SANDBOX_IMAGE: services.sandboxImage ?? '',
      SANDBOX_POOL_SIZE: '0',
      SANDBOX_MEMORY_MB: '384',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
    });

    async function start(command: 'start' | 'worker', role: string, ready: RegExp) {
      const cwd = await mkdtemp(join(tmpdir(), 'sandbot-resume-'));
      const child = spawn(
        process.execPath,
        [BIN, command, '--no-build'].slice(0, command === 'start' ? 3 : 2),
        {
          cwd,
          env: env(role),
        },
      );
      children.push(child);
      const index = outputs.push('') - 1;
      const append = (chunk: Buffer) =>
        (outputs[index] = `${outputs[index] ?? ''}${chunk.toString()}`);
      child.stdout.on('data', append);
      child.stderr.on('data', append);
      await eventually(() => {
        if (child.exitCode !== null) throw new Error(`${command} exited:\n${outputs[index] ?? ''}`);
        return ready.test(outputs[index] ?? '') ? true : undefined;
      }, `${command} ready`);
      return child;
    }

    beforeAll(async () => {
      slack = await startFakeSlack();
      redis = await connectRedis(services.redisUrl ?? '');
    });

    afterAll(async () => {
      if (process.env.SANDBOT_TEST_DEBUG === '1') console.log(outputs.join('\n=====\n'));
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await slack.close();
    });

    it(
      'is answered once by the restarted process, which follows the running cell instead of running it again',
      { timeout: 120_000 },
      async () => {
        await start('worker', 'worker', /worker ready/);
        const first = await start('start', 'bot', /sandbot is running \(slack\)/);
        const ts = slack.workspace.nextTs();
        await slack.sendEvent(
          appMention(slack.ids, {
            channel: 'C0RESUME',
            user: 'U0ANA',
            text: `<@${slack.ids.botUserId}> ${SLOW_CELL}`,
            ts,
          }),
        );
        const inThread = () =>
          slack.workspace.messages.filter((m) => m.channel === 'C0RESUME' && m.threadTs === ts);
        // The cell has begun: its output shows in the status message.
        await slack.waitFor(
          () => inThread().find((m) => !m.deleted && m.text.includes('begun')),
          'the cell running',
          60_000,
        );
        first.kill('SIGKILL');
        await new Promise((resolve) => first.once('exit', resolve));
        await start('start', 'bot', /sandbot is running \(slack\)/);

        const answer = await slack.waitFor(
          () => inThread().find((m) => !m.deleted && m.text.includes('finished')),
          'the answer from the restarted process',
          90_000,
        );
        expect(answer.text).toContain('begun');
        // One answer; the dead process's status message was taken over and is removed once
        // the answer is posted.
        await slack.waitFor(
          () => inThread().every((m) => m.deleted || m === answer),
          'the status message removed',
        );
        const live = inThread().filter((m) => !m.deleted);
        expect(live.filter((m) => m.text.includes('finished'))).toHaveLength(1);
        expect(live.filter((m) => m !== answer)).toEqual([]);
        // The cell ran once: one job, started once, ended once.
        const [, streams] = await redis.scan('0', 'MATCH', `${prefix}:job:*:events`, 'COUNT', 1000);
        expect(streams).toHaveLength(1);
        const events = (await redis.xrange(streams[0] ?? '', '-', '+')).map(
          ([, fields]) => JSON.parse(fields[1] ?? '{}') as JobEvent,
        );
        expect(events.filter((e) => e.type === 'started')).toHaveLength(1);
        expect(events.filter((e) => e.type === 'done')).toEqual([
          expect.objectContaining({ status: 'ok' }),
        ]);
      },
    );
  },
);
