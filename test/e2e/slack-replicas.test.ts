import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/redis/connection.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { jobStarts } from '../support/job-starts.ts';
import { connectRedis, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';
import { SlackDeployment, threadMentions } from '../support/slack-deployment.ts';

const services = inject('services');
const THREADS = 12;
const ROUNDS = 5;
/** Threads whose first cell takes twenty seconds. */
const SLOW = new Set([0, 5, 9]);

/** The marker a message's cell prints, built at run time so it is never in the code. */
const marker = (thread: number, round: number) => `t${thread}-m${round}`;
function cell(thread: number, round: number): string {
  const wait = round === 0 && SLOW.has(thread) ? 'import time; time.sleep(20); ' : '';
  return `run ${wait}print("t${thread}-m" + "${round}")`;
}

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'two bot processes and two workers on one Slack app (Redis)',
  () => {
    const prefix = uniquePrefix('slack-replicas');
    let slack: FakeSlack;
    let redis: Redis;
    let deployment: SlackDeployment;

    beforeAll(async () => {
      slack = await startFakeSlack({ spreadEvents: true });
      redis = await connectRedis(services.redisUrl ?? '');
      deployment = new SlackDeployment({
        slack,
        redisUrl: services.redisUrl ?? '',
        prefix,
        sandboxImage: services.sandboxImage ?? '',
        poolSize: 1,
      });
    });

    afterAll(async () => {
      await deployment.remove(redis);
      redis.disconnect();
      await slack.close();
    });

    it(
      'answers 60 messages over 12 threads exactly once and in order, through a SIGKILL and a rolling restart',
      { timeout: 300_000 },
      async () => {
        await deployment.worker('w1');
        await deployment.worker('w2');
        let a = await deployment.bot('bot-a');
        let b = await deployment.bot('bot-b');
        const { roots, send } = threadMentions(slack, {
          channel: 'C0REPLICA',
          text: cell,
          ackTimeoutMs: 2000,
          maxAttempts: 5,
        });
        const round = async (k: number) => {
          for (let t = 0; t < THREADS; t += 1) await send(t, k);
        };
        const answered = (t: number, k: number) =>
          slack.workspace.messages.filter(
            (m) => !m.deleted && m.threadTs === roots[t] && m.text.includes(`\n${marker(t, k)}\n`),
          );

        await round(0);
        await round(1);
        // Some answers are out, some turns are running (the slow cells): kill one bot.
        const faults = process.env.SANDBOT_TEST_NO_FAULTS !== '1';
        // Killed while only the slow cells run: the other threads' first two messages are
        // answered, the slow threads' are not. (Killed between posting an answer and recording
        // it, Slack would see that answer twice: a known gap, docs/production.md.)
        const fast = [...Array(THREADS).keys()].filter((t) => !SLOW.has(t));
        await slack.waitFor(
          () =>
            fast.every((t) => answered(t, 0).length > 0 && answered(t, 1).length > 0) &&
            [...SLOW].every((t) => answered(t, 0).length === 0),
          'only the slow cells running',
          120_000,
        );
        // ...and those answers are recorded: each fast thread's turns are done in the store.
        const turnsLeft = (t: number) =>
          redis.zcard(
            `${prefix}:turns:thread:slack:${slack.ids.teamId}:C0REPLICA:${roots[t] ?? ''}`,
          );
        await eventually(async () => {
          const left = await Promise.all(fast.map(turnsLeft));
          return left.every((n) => n === 0) ? true : undefined;
        }, 'the fast threads done in the turn store');
        // (The key is the store's: the slow threads' turns are still in it.)
        expect(await turnsLeft(0)).toBeGreaterThan(0);
        if (faults) {
          await deployment.stop(a, 'SIGKILL');
          a = await deployment.bot('bot-a');
        }
        await round(2);
        await round(3);
        // A rolling restart, one process at a time.
        if (faults) {
          await deployment.stop(a, 'SIGTERM');
          a = await deployment.bot('bot-a');
          await deployment.stop(b, 'SIGTERM');
          b = await deployment.bot('bot-b');
        }
        await round(4);

        const every = [...Array(THREADS).keys()].flatMap((t) =>
          [...Array(ROUNDS).keys()].map((k) => [t, k] as const),
        );
        await slack
          .waitFor(
            () => every.every(([t, k]) => answered(t, k).length > 0),
            'every message answered',
            240_000,
          )
          .catch((error: unknown) => {
            const missing = every.filter(([t, k]) => answered(t, k).length === 0);
            throw new Error(`unanswered: ${missing.map(([t, k]) => marker(t, k)).join(' ')}`, {
              cause: error,
            });
          });
        // Then no status message is left, in any thread.
        const threadMessages = () =>
          slack.workspace.messages.filter((m) => !m.deleted && roots.includes(m.threadTs ?? ''));
        await slack.waitFor(
          () => threadMessages().every((m) => /\nt\d+-m\d\n/.test(m.text)),
          'only answers left in the threads',
        );
        for (const [t, k] of every) expect(answered(t, k), marker(t, k)).toHaveLength(1);
        for (let t = 0; t < THREADS; t += 1) {
          const order = [...Array(ROUNDS).keys()].map((k) => answered(t, k)[0]?.ts ?? '');
          expect(order, `thread ${t}`).toEqual([...order].sort());
        }
        expect(threadMessages()).toHaveLength(THREADS * ROUNDS);
        // No cell ran twice: one job per message, each started once.
        const starts = await jobStarts(redis, prefix);
        expect(starts.size).toBe(THREADS * ROUNDS);
        for (const [stream, count] of starts) expect(count, stream).toBe(1);
      },
    );
  },
);
