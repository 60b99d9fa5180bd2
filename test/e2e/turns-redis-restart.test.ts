import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { JobEvent } from '../../src/core/job.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { startFakeSlack, type FakeSlack } from '../fakes/fake-slack-server.ts';
import { connectRedis, uniquePrefix } from '../support/redis.ts';
import { privateRedis, type PrivateRedis } from '../support/redis-server.ts';
import { eventually } from '../support/sandbot-process.ts';
import { SlackDeployment, threadMentions } from '../support/slack-deployment.ts';

const services = inject('services');
/** Threads whose messages are all sent before Redis goes away. A worker runs two cells at
 *  once (WORKER_CONCURRENCY's default): two first cells run and two wait in the job queue. */
const THREADS = 4;
const ROUNDS = 3;
/** A thread whose messages arrive while Redis is away (Slack redelivers unacknowledged ones). */
const LATE = THREADS;
const LATE_ROUNDS = 2;
/** How long Redis stays stopped before it is started again. */
const REDIS_AWAY_MS = 5000;

/** The marker a message's cell prints, built at run time so it is never in the code. */
const marker = (thread: number, round: number) => `t${thread}-m${round}`;
/**
 * Each thread's first cell says it began, then sleeps: thread 0's cell ends while Redis is
 * away, the others' after it is back.
 */
function cell(thread: number, round: number): string {
  const sleepS = thread === 0 ? 4 : 12;
  const slow =
    round === 0 && thread !== LATE
      ? `print("t${thread}-be" + "gun", flush=True); import time; time.sleep(${sleepS}); `
      : '';
  return `run ${slow}print("t${thread}-m" + "${round}")`;
}

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'Redis restarted while turns wait (Slack, one bot, one worker)',
  () => {
    const prefix = uniquePrefix('turns-redis-restart');
    let server: PrivateRedis;
    let slack: FakeSlack;
    let deployment: SlackDeployment;

    beforeAll(async () => {
      // The persistence the shipped Redis has (.ci/images/redis/redis.conf): AOF fsynced every
      // second, RDB snapshots at Redis's default save points, never evicting.
      server = await privateRedis([
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '3600 1 300 100 60 10000',
        '--maxmemory',
        '1gb',
        '--maxmemory-policy',
        'noeviction',
      ]);
      await server.start();
      slack = await startFakeSlack();
      deployment = new SlackDeployment({
        slack,
        redisUrl: server.url,
        prefix,
        sandboxImage: services.sandboxImage ?? '',
        poolSize: 1,
      });
    });

    afterAll(async () => {
      deployment.dispose();
      await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
      await server.dispose();
      await slack.close();
    });

    it(
      'loses no turn: every message is answered once, in order, and no cell runs twice',
      { timeout: 240_000 },
      async () => {
        const worker = await deployment.worker('w1');
        const bot = await deployment.bot('bot');
        const { roots, send } = threadMentions(slack, {
          channel: 'C0REDIS',
          text: cell,
          ackTimeoutMs: 3000,
          maxAttempts: 10,
        });
        for (let k = 0; k < ROUNDS; k += 1) for (let t = 0; t < THREADS; t += 1) await send(t, k);

        const live = (t: number) =>
          slack.workspace.messages.filter((m) => !m.deleted && m.threadTs === roots[t]);
        const answered = (t: number, k: number) =>
          live(t).filter((m) => m.text.includes(`\n${marker(t, k)}\n`));
        const begun = (t: number) => live(t).some((m) => m.text.includes(`t${t}-begun`));
        const turnsLeft = (redis: Redis, t: number) =>
          redis.zcard(`${prefix}:turns:thread:slack:${slack.ids.teamId}:C0REDIS:${roots[t] ?? ''}`);
        const early = [...Array(THREADS).keys()];

        // Two first cells run; every thread's other turns wait behind its first.
        await slack.waitFor(
          () => early.filter(begun).length >= 2,
          'two slow cells running',
          90_000,
        );
        // Threads 1..3 (12 s cells) still have every turn waiting; thread 0's short cell may
        // have ended already on a loaded machine, and its quick turns with it.
        const slow = early.filter((t) => t !== 0);
        const redis = await connectRedis(server.url);
        const waiting = await Promise.all(slow.map((t) => turnsLeft(redis, t)));
        redis.disconnect();
        expect(waiting).toEqual(Array<number>(slow.length).fill(ROUNDS));
        for (const t of slow) expect(answered(t, 0)).toEqual([]);

        // A restart as an operator does one: SIGTERM (Redis persists), then the same port and
        // data directory a few seconds later. Meanwhile a new thread's messages come in.
        await server.stop();
        const late = (async () => {
          for (let k = 0; k < LATE_ROUNDS; k += 1) await send(LATE, k);
        })();
        await new Promise((resolve) => setTimeout(resolve, REDIS_AWAY_MS));
        await server.start();
        await late;

        const every = [
          ...early.flatMap((t) => [...Array(ROUNDS).keys()].map((k) => [t, k] as const)),
          ...[...Array(LATE_ROUNDS).keys()].map((k) => [LATE, k] as const),
        ];
        const all = [...early, LATE];
        await slack
          .waitFor(
            () => every.every(([t, k]) => answered(t, k).length > 0),
            'every message answered',
            150_000,
          )
          .catch((error: unknown) => {
            const missing = every.filter(([t, k]) => answered(t, k).length === 0);
            throw new Error(`unanswered: ${missing.map(([t, k]) => marker(t, k)).join(' ')}`, {
              cause: error,
            });
          });
        // Then only answers are left: no status message still says it is running.
        const threads = () => all.flatMap(live);
        await slack.waitFor(
          () => threads().every((m) => /\nt\d+-m\d\n/.test(m.text)),
          'only answers left in the threads',
        );
        for (const [t, k] of every) expect(answered(t, k), marker(t, k)).toHaveLength(1);
        for (const t of all) {
          const order = every.filter(([u]) => u === t).map(([, k]) => answered(t, k)[0]?.ts ?? '');
          expect(order, `thread ${t}`).toEqual([...order].sort());
        }
        expect(threads()).toHaveLength(every.length);

        const after = await connectRedis(server.url);
        try {
          // Every turn is done in the store...
          await eventually(async () => {
            const left = await Promise.all(all.map((t) => turnsLeft(after, t)));
            return left.every((n) => n === 0) ? true : undefined;
          }, 'every turn completed in the store');
          // ...and no cell ran twice: one job per message, each started once and ended once.
          const streams: string[] = [];
          let cursor = '0';
          do {
            const [next, keys] = await after.scan(
              cursor,
              'MATCH',
              `${prefix}:job:*:events`,
              'COUNT',
              1000,
            );
            cursor = next;
            streams.push(...keys);
          } while (cursor !== '0');
          expect(streams).toHaveLength(every.length);
          for (const stream of streams) {
            const events = (await after.xrange(stream, '-', '+')).map(
              ([, fields]) => JSON.parse(fields[1] ?? '{}') as JobEvent,
            );
            expect(
              events.filter((e) => e.type === 'started'),
              stream,
            ).toHaveLength(1);
            expect(
              events.filter((e) => e.type === 'done'),
              stream,
            ).toEqual([expect.objectContaining({ status: 'ok' })]);
          }
        } finally {
          after.disconnect();
        }
        // Neither process gave up while Redis was away, and both still stop cleanly.
        expect(bot.exitCode).toBeNull();
        expect(worker.exitCode).toBeNull();
        await deployment.stop(bot, 'SIGTERM');
        await deployment.stop(worker, 'SIGTERM');
        expect([bot.exitCode, worker.exitCode]).toEqual([0, 0]);
      },
    );
  },
);
