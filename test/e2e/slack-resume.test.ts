import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { SlackDeployment } from '../support/slack-deployment.ts';

const services = inject('services');

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
    let slack: FakeSlack;
    let redis: Redis;
    let deployment: SlackDeployment;
    let model: FakeOpenAI;

    beforeAll(async () => {
      slack = await startFakeSlack();
      redis = await connectRedis(services.redisUrl ?? '');
      model = await startFakeOpenAI();
      deployment = new SlackDeployment({
        slack,
        redisUrl: services.redisUrl ?? '',
        prefix,
        sandboxImage: services.sandboxImage ?? '',
        poolSize: 0,
        env: { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-model' },
      });
    });

    afterAll(async () => {
      deployment.dispose();
      await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await slack.close();
      await model.close();
    });

    it(
      'is answered once by the restarted process, which follows the running cell instead of running it again',
      { timeout: 120_000 },
      async () => {
        await deployment.worker(`worker-${process.pid}`);
        const first = await deployment.bot(`bot-${process.pid}`);
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
        await deployment.stop(first, 'SIGKILL');
        const restarted = await deployment.bot(`bot-${process.pid}`);

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
        await expectJobsRanOnce(1);
        await deployment.stop(restarted, 'SIGTERM');
      },
    );

    it(
      'a model turn killed in its cell is resumed from its recorded steps: the model is not asked again for them, the cell runs once',
      { timeout: 120_000 },
      async () => {
        const bot = await deployment.bot(`bot-${process.pid}`);
        const code = SLOW_CELL.split('\n').slice(1, -1).join('\n');
        model.script(
          { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
          (request) => ({
            kind: 'text',
            text: `The model saw: ${JSON.stringify(request.body.messages.at(-1)).includes('finished') ? 'finished' : 'nothing'}`,
          }),
        );
        const ts = slack.workspace.nextTs();
        await slack.sendEvent(
          appMention(slack.ids, {
            channel: 'C0RESUME2',
            user: 'U0BO',
            text: `<@${slack.ids.botUserId}> please do the slow thing`,
            ts,
          }),
        );
        const inThread = () =>
          slack.workspace.messages.filter((m) => m.channel === 'C0RESUME2' && m.threadTs === ts);
        await slack.waitFor(
          () => inThread().find((m) => !m.deleted && m.text.includes('begun')),
          'the cell running',
          60_000,
        );
        await deployment.stop(bot, 'SIGKILL');
        await deployment.bot(`bot-${process.pid}`);
        await slack.waitFor(
          () => inThread().find((m) => !m.deleted && m.text.includes('The model saw: finished')),
          'the answer from the restarted process',
          90_000,
        );
        // One model call before the kill, one after (for the answer): the first step was not
        // asked for again, and the resumed turn followed the running cell.
        expect(model.requests).toHaveLength(2);
        await expectJobsRanOnce(2);
      },
    );

    /** Every job of the deployment so far (`count` of them) started once and ended once, ok. */
    async function expectJobsRanOnce(count: number): Promise<void> {
      const streams: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:job:*:events`);
        streams.push(...keys);
        cursor = next;
      } while (cursor !== '0');
      expect(streams).toHaveLength(count);
      for (const stream of streams) {
        const events = (await redis.xrange(stream, '-', '+')).map(
          ([, fields]) => JSON.parse(fields[1] ?? '{}') as JobEvent,
        );
        expect(events.filter((e) => e.type === 'started')).toHaveLength(1);
        expect(events.filter((e) => e.type === 'done')).toEqual([
          expect.objectContaining({ status: 'ok' }),
        ]);
      }
    }
  },
);
