/**
 * The playground on two bot replicas behind one Redis (REDIS_URL, one REDIS_PREFIX), as a load
 * balancer would spread a page's requests: a thread made and written to through one replica
 * is listed, read and answered through the other, its live events reach pages on both, and a
 * replica killed with SIGKILL while it runs a turn leaves the turn to the other, which answers
 * it once. Real `sandbot start` and `sandbot worker` processes, no chat tokens, no model.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from '../../src/redis/connection.ts';
import { createDockerClient } from '../../src/sandbox/docker-client.ts';
import { LABEL } from '../../src/sandbox/labels.ts';
import { removeContainers } from '../../src/sandbox/sandbox-manager.ts';
import { BotDeployment } from '../support/bot-deployment.ts';
import { listenToPlayground, type PlaygroundEvents } from '../support/playground-events.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { eventually } from '../support/sandbot-process.ts';
import { freePort } from '../support/start-process.ts';

const services = inject('services');

interface Item {
  readonly kind: 'user' | 'bot';
  readonly id: string;
  readonly text: string;
  readonly replyTo?: string;
}
interface ThreadView {
  readonly id: string;
  readonly title: string;
  readonly progress?: string;
  readonly items: readonly Item[];
}

/** A bot replica serving the playground on a port of its own. */
interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly base: string;
  readonly events: PlaygroundEvents;
}

/** `sandbot start` with the playground and no chat surface, on the deployment's Redis. */
class PlaygroundDeployment extends BotDeployment {
  async replica(name: string): Promise<Replica> {
    const port = await freePort();
    const child = await this.run(['start', '--no-build'], name, /Playground: /, {
      PLAYGROUND: 'on',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
    });
    const base = `http://127.0.0.1:${port}`;
    return { name, child, base, events: await listenToPlayground(base) };
  }
}

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'the playground on two bot replicas (Redis)',
  () => {
    const prefix = uniquePrefix('playground-replicas');
    let redis: Redis | undefined;
    let deployment: PlaygroundDeployment | undefined;
    /** Everything started, for the clean-up whatever failed. */
    const replicas: Replica[] = [];
    let a: Replica;
    let b: Replica;

    beforeAll(async () => {
      redis = await connectRedis(services.redisUrl ?? '');
      deployment = new PlaygroundDeployment({
        redisUrl: services.redisUrl ?? '',
        prefix,
        sandboxImage: services.sandboxImage ?? '',
        poolSize: 1,
        platformEnv: {},
      });
      // Names of their own: a worker removes every container labelled with its name at start,
      // whatever the deployment, so another test's `w1` would take this one's sandboxes.
      const run = randomBytes(3).toString('hex');
      await deployment.worker(`pg-w1-${run}`);
      a = await deployment.replica(`pg-bot-a-${run}`);
      replicas.push(a);
      b = await deployment.replica(`pg-bot-b-${run}`);
      replicas.push(b);
    }, 120_000);

    afterAll(async () => {
      for (const replica of replicas) replica.events.close();
      deployment?.dispose();
      await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
      if (redis !== undefined) {
        await deleteKeys(redis, prefix);
        redis.disconnect();
      }
    });

    /** A guard against hanging: new sessions' sandboxes start under a loaded test machine. */
    const GUARD = { timeout: 180_000 };

    it('answers a message sent through one replica on the other, both ways', GUARD, async () => {
      const threadId = await createThread(a.base);
      const first = await say(a.base, threadId, 'run print(6 * 7)');
      const answer = await answered(b.base, threadId, 1);
      expect(answer.items.map((i) => i.kind)).toEqual(['user', 'bot']);
      expect(answer.items[1]?.text).toContain('42');
      // Pages on both replicas heard it, whichever one ran the turn.
      for (const replica of [a, b]) await heardAnswer(replica, first);

      const second = await say(b.base, threadId, 'run print(7 * 8)');
      const both = await answered(a.base, threadId, 2);
      expect(both.items.map((i) => i.kind)).toEqual(['user', 'bot', 'user', 'bot']);
      expect(both.items[3]?.text).toContain('56');
      for (const replica of [a, b]) await heardAnswer(replica, second);

      // A thread made through B is A's as well.
      const other = await createThread(b.base);
      await say(a.base, other, 'run print("other" + " thread")');
      expect((await answered(b.base, other, 1)).items[1]?.text).toContain('other thread');
    });

    it('lists the same threads on both replicas', async () => {
      const listed = await Promise.all([a, b].map((r) => getJson(r.base, '/api/threads')));
      expect(listed[0]).toEqual(listed[1]);
      expect((listed[0] as { threads: unknown[] }).threads).toHaveLength(2);
    });

    it(
      'answers a turn once after the replica running it is killed with SIGKILL',
      GUARD,
      async () => {
        const threadId = await createThread(a.base);
        // Its words are built at run time, so they show only once the cell has run.
        const asked = await say(
          a.base,
          threadId,
          'run import time\ntime.sleep(4)\nprint("fini" + "shed")',
        );
        // The turn has begun: its live status shows (on either replica: it is shared).
        await eventually(
          async () => {
            const { thread } = (await getJson(b.base, `/api/threads/${threadId}`)) as {
              thread: ThreadView;
            };
            return thread.progress;
          },
          'the live status of the turn',
          150_000,
        );
        // Its lease names the runner, `<WORKER_ID>-<pid>`: kill that replica.
        const token = await redis?.get(`${prefix}:turns:lease:web:local:playground:${threadId}`);
        const running = [a, b].find((r) => token?.startsWith(`${r.name}-${r.child.pid}:`));
        if (running === undefined) throw new Error(`no replica holds the turn (lease ${token})`);
        const survivor = running === a ? b : a;
        // Killed while the turn runs: its answer is not there yet.
        const before = (await getJson(survivor.base, `/api/threads/${threadId}`)) as {
          thread: ThreadView;
        };
        expect(before.thread.items.map((i) => i.kind)).toEqual(['user']);
        await deployment?.stop(running.child, 'SIGKILL');

        // The survivor takes the turn over once the dead replica's lease runs out.
        const after = await answered(survivor.base, threadId, 1);
        expect(after.items.map((i) => i.kind)).toEqual(['user', 'bot']);
        expect(after.items[1]?.text).toContain('finished');
        await heardAnswer(survivor, asked);
        const { threads } = (await getJson(survivor.base, '/api/threads')) as {
          threads: { id: string }[];
        };
        expect(threads.map((t) => t.id)).toContain(threadId);
      },
    );
  },
);

async function heardAnswer(replica: Replica, messageId: string): Promise<void> {
  await replica.events.until(`${replica.name} hearing the answer to ${messageId}`, () =>
    replica.events.heard.find(
      (e) => e.type === 'item' && e.item.kind === 'bot' && e.item.replyTo === messageId,
    ),
  );
}

function post(base: string, path: string, body?: object): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'x-sandbot-request': '1', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function getJson(base: string, path: string): Promise<unknown> {
  const response = await fetch(`${base}${path}`, { headers: { 'x-sandbot-request': '1' } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.json();
}

async function createThread(base: string): Promise<string> {
  const response = await post(base, '/api/threads');
  return ((await response.json()) as { thread: { id: string } }).thread.id;
}

/** Sends a message; its item id. */
async function say(base: string, threadId: string, text: string): Promise<string> {
  const response = await post(base, `/api/threads/${threadId}/messages`, { text });
  expect(response.status).toBe(202);
  return ((await response.json()) as { item: { id: string } }).item.id;
}

/** The thread once it holds `count` answers (a guard against hanging, not a timing). */
function answered(base: string, threadId: string, count: number): Promise<ThreadView> {
  return eventually(
    async () => {
      const { thread } = (await getJson(base, `/api/threads/${threadId}`)) as {
        thread: ThreadView;
      };
      return thread.items.filter((i) => i.kind === 'bot').length >= count ? thread : undefined;
    },
    `${count} answer(s) in the playground thread`,
    150_000,
  );
}
