import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { Config } from '../../src/core/config.ts';
import type { Reply } from '../../src/core/reply.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { RedisSandboxPackages } from '../../src/redis/redis-sandbox-packages.ts';
import { SandboxManager } from '../../src/sandbox/sandbox-manager.ts';
import { RedisSessionStore } from '../../src/sessions/redis-session-store.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/fake-openai-server.ts';
import { buildDerivedImage, removeImage } from '../support/derived-image.ts';
import { dockerTestScope } from '../support/docker.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, testSandboxSettings } from '../support/sandbox.ts';

const services = inject('services');
const DERIVED = 'sandbot-sandbox-derived-test:latest';
const baseAgent: Config['agent'] = {
  maxSteps: 3,
  turnTimeoutMs: 60_000,
  maxAttachmentBytes: 1024,
  maxAttachments: 1,
};

describe.skipIf(services.sandboxImage === undefined || services.redisUrl === undefined)(
  'model settings against a derived sandbox image',
  () => {
    const scope = dockerTestScope();
    const prefix = uniquePrefix('model-settings');
    let redis: Redis;
    let manager: SandboxManager;
    let worker: BullmqJobWorker;
    let jobs: BullmqJobQueue;
    let fake: FakeOpenAI;

    beforeAll(async () => {
      // An operator's image: ours plus one Debian Python package the stock image lacks.
      await buildDerivedImage(DERIVED, services.sandboxImage ?? '', ['python3-tabulate']);
      redis = await connectRedis(services.redisUrl ?? '');
      const published = new RedisSandboxPackages(redis, {
        prefix,
        image: DERIVED,
        logger: quietLogger,
      });
      manager = new SandboxManager({
        docker: scope.docker,
        settings: testSandboxSettings({ image: DERIVED, poolSize: 1 }),
        workerId: `models-${randomUUID().slice(0, 6)}`,
        sessionIdleMs: 60_000,
        logger: quietLogger,
        labels: scope.labels,
        onPackages: (names) => void published.publish(names),
      });
      await manager.start();
      worker = new BullmqJobWorker({
        redisUrl: services.redisUrl ?? '',
        prefix,
        workerId: `models-${randomUUID().slice(0, 6)}`,
        manager,
        blobs: new RedisBlobStore(redis, `${prefix}:`, { maxBlobBytes: 1 << 20, ttlMs: 60_000 }),
        logger: quietLogger,
        sessionIdleMs: 60_000,
      });
      await worker.start();
      jobs = new BullmqJobQueue({ redisUrl: services.redisUrl ?? '', prefix, logger: quietLogger });
      fake = await startFakeOpenAI();
    }, 600_000);

    afterAll(async () => {
      try {
        await fake.close();
        await jobs.close();
        await worker.close();
        await manager.close();
        expect(await scope.leftovers()).toBe(0);
      } finally {
        await scope.cleanup();
        await deleteKeys(redis, prefix);
        redis.disconnect();
        await removeImage(DERIVED);
      }
    });

    /** A bot process's conversation: it knows the image only through Redis. */
    function bot(agent: Config['agent']): Conversation {
      const blobs = new RedisBlobStore(redis, `${prefix}:`, {
        maxBlobBytes: 1 << 20,
        ttlMs: 60_000,
      });
      return new Conversation({
        jobs,
        blobs,
        sessions: new RedisSessionStore(redis, prefix, 60_000, blobs),
        agent,
        logger: quietLogger,
        model: {
          client: new OpenAI({ apiKey: 't', baseURL: fake.baseUrl, maxRetries: 0 }),
          name: 'fake-model',
        },
        policy: new AccessPolicy({
          allowedUsers: undefined,
          allowedChannels: undefined,
          userRatePerMinute: 0,
        }),
        packages: new RedisSandboxPackages(redis, { prefix, image: DERIVED, logger: quietLogger }),
      });
    }

    async function ask(conversation: Conversation, text: string): Promise<Reply> {
      let reply: Reply | undefined;
      await conversation.handle(
        {
          sessionKey: `test:w:c:${randomUUID().slice(0, 8)}`,
          author: { id: 'U1', name: 'ana' },
          text,
          attachments: [],
        },
        {
          progress: () => undefined,
          reply: (r) => {
            reply = r;
            return Promise.resolve();
          },
        },
      );
      if (reply === undefined) throw new Error('no reply');
      return reply;
    }

    function lastRequestBody(): Record<string, unknown> {
      const body = fake.requests.at(-1)?.body;
      if (body === undefined) throw new Error('the model was not asked');
      return body;
    }

    function systemPromptOf(body: Record<string, unknown>): string {
      const [system] = body.messages as { role: string; content: string }[];
      expect(system?.role).toBe('system');
      return system?.content ?? '';
    }

    it("names the derived image's extra package in the model's system prompt", async () => {
      // The worker publishes the list when its pool's kernel has started.
      await manager.pool.whenFull();
      await vi.waitFor(
        async () => expect(await redis.get(`${prefix}:sandbox-packages:${DERIVED}`)).not.toBeNull(),
        { timeout: 10_000 },
      );
      fake.script({ kind: 'text', text: 'tabulate is there.' });
      await ask(bot(baseAgent), 'can you make a plain-text table?');
      const prompt = systemPromptOf(lastRequestBody());
      expect(prompt).toMatch(/Installed Python packages: numpy, pandas, .*\btabulate\b/);
    });

    it('sends MODEL_TEMPERATURE and MODEL_MAX_TOKENS when set, and SYSTEM_PROMPT_FILE text', async () => {
      fake.script({ kind: 'text', text: 'ok' });
      await ask(
        bot({
          ...baseAgent,
          temperature: 0.3,
          maxTokens: 321,
          systemPromptExtra: 'House rule: answer in French.',
        }),
        'bonjour',
      );
      const body = lastRequestBody();
      expect(body.temperature).toBe(0.3);
      // A local server (any base URL but OpenAI's and Azure's) gets the field all of them know.
      expect(body.max_tokens).toBe(321);
      expect(body).not.toHaveProperty('max_completion_tokens');
      expect(systemPromptOf(body).endsWith('\n\nHouse rule: answer in French.')).toBe(true);
    });

    it('sends neither when they are unset', async () => {
      fake.script({ kind: 'text', text: 'ok' });
      await ask(bot(baseAgent), 'hello');
      const body = lastRequestBody();
      expect(body).not.toHaveProperty('temperature');
      expect(body).not.toHaveProperty('max_tokens');
      expect(body).not.toHaveProperty('max_completion_tokens');
    });
  },
);
