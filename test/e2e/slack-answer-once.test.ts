import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import type { Args } from '../fakes/fake-slack-body.ts';
import { appMention } from '../fakes/fake-slack-payloads.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { SlackDeployment } from '../support/slack-deployment.ts';

const services = inject('services');

/** A cell whose answer is a text message and an uploaded file. */
const CELL_WITH_FILE = [
  '```python',
  'open("/mnt/data/result.csv", "w").write("a,b\\n1,2\\n")',
  // Built at run time, so the words appear only in the cell's output, never in its code.
  'print("the " + "answer")',
  '```',
].join('\n');

/**
 * A bot process killed after Slack carried out a part of the answer but before the process
 * heard back (so it could not record that the answer was posted): the turn is resumed by the
 * restarted process, which finds what was posted (message metadata, the upload's file names)
 * and posts only the rest. The user sees one answer.
 */
describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'a bot process killed between posting the answer and recording it (Slack, Redis)',
  () => {
    const prefix = uniquePrefix('slack-once');
    let slack: FakeSlack;
    let redis: Redis;
    let deployment: SlackDeployment;

    beforeAll(async () => {
      slack = await startFakeSlack();
      redis = await connectRedis(services.redisUrl ?? '');
      deployment = new SlackDeployment({
        slack,
        redisUrl: services.redisUrl ?? '',
        prefix,
        sandboxImage: services.sandboxImage ?? '',
        poolSize: 1,
      });
      await deployment.worker(`worker-${process.pid}`);
    });

    afterAll(async () => {
      deployment.dispose();
      await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await slack.close();
    });

    /** Asks in a new thread; kills the bot once `method` matching `match` was carried out. */
    async function killWhenPosted(
      channel: string,
      method: string,
      match: (args: Args) => boolean,
    ): Promise<{ ts: string }> {
      const bot = await deployment.bot(`bot-${process.pid}`);
      const withheld = slack.withholdAnswer(method, match);
      const ts = slack.workspace.nextTs();
      await slack.sendEvent(
        appMention(slack.ids, {
          channel,
          user: 'U0ANA',
          text: `<@${slack.ids.botUserId}> ${CELL_WITH_FILE}`,
          ts,
        }),
      );
      await withheld;
      await deployment.stop(bot, 'SIGKILL');
      const restarted = await deployment.bot(`bot-${process.pid}`);
      // The resumed turn ends by clearing the acknowledgement: everything it posts comes first.
      await slack.waitFor(
        () => slack.workspace.reactions.find((r) => r.ts === ts && r.removed),
        'the resumed turn finished',
        90_000,
      );
      await deployment.stop(restarted, 'SIGTERM');
      return { ts };
    }

    function answerIn(channel: string, ts: string) {
      const live = slack.workspace.messages.filter(
        (m) => m.channel === channel && m.threadTs === ts && !m.deleted,
      );
      return {
        texts: live.filter((m) => m.text.includes('the answer')),
        uploads: live.filter((m) => m.files.some((f) => f.name === 'result.csv')),
        lookups: slack.calls.filter(
          (c) => c.method === 'conversations.replies' && c.args.ts === ts,
        ),
      };
    }

    it(
      'killed after the answer text was posted: the text once, the file posted by the resumed turn',
      { timeout: 180_000 },
      async () => {
        const channel = 'C0ONCETXT';
        const { ts } = await killWhenPosted(channel, 'chat.postMessage', (args) =>
          String(args.text).includes('the answer'),
        );
        const { texts, uploads, lookups } = answerIn(channel, ts);
        expect(texts).toHaveLength(1);
        expect(texts[0]?.metadata).toMatchObject({ event_type: 'sandbot_answer' });
        expect(uploads).toHaveLength(1);
        expect(lookups.length).toBeGreaterThan(0);
      },
    );

    it(
      'killed after the file was shared: neither the text nor the file posted again',
      { timeout: 180_000 },
      async () => {
        const channel = 'C0ONCEFILE';
        const { ts } = await killWhenPosted(channel, 'files.completeUploadExternal', () => true);
        const { texts, uploads, lookups } = answerIn(channel, ts);
        expect(texts).toHaveLength(1);
        expect(uploads).toHaveLength(1);
        expect(lookups.length).toBeGreaterThan(0);
      },
    );
  },
);
