import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BlobStore } from '../../src/core/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { RedisBlobStore } from '../../src/blobs/redis-blob-store.ts';
import { AccessPolicy } from '../../src/conversation/access-policy.ts';
import { Conversation } from '../../src/conversation/conversation.ts';
import type { InboundAttachment } from '../../src/core/inbound-message.ts';
import type { Progress, Reply } from '../../src/core/reply.ts';
import { BullmqJobQueue } from '../../src/jobs/bullmq-job-queue.ts';
import { BullmqJobWorker } from '../../src/jobs/bullmq-job-worker.ts';
import { EmbeddedJobQueue } from '../../src/jobs/embedded-job-queue.ts';
import type { JobQueue } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { MemorySessionStore } from '../../src/sessions/memory-session-store.ts';
import { RedisSessionStore } from '../../src/sessions/redis-session-store.ts';
import type { SessionStore } from '../../src/core/session-store.ts';
import {
  startFakeOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
} from '../fakes/fake-openai-server.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';
import { quietLogger, startManager } from '../support/sandbox.ts';

const services = inject('services');

interface Stack {
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;
  readonly sessions: SessionStore;
  close(): Promise<void>;
}

const agentLimits = {
  maxSteps: 5,
  turnTimeoutMs: 60_000,
  maxAttachmentBytes: 1024,
  maxAttachments: 2,
};
const openPolicy = { allowedUsers: undefined, allowedChannels: undefined, userRatePerMinute: 0 };

function attachment(name: string, content: string): InboundAttachment {
  return {
    name,
    sizeBytes: Buffer.byteLength(content),
    fetch: () => Promise.resolve(Buffer.from(content)),
  };
}

/** Sends a message and gathers the reply and the progress shown on the way. */
async function send(
  conversation: Conversation,
  thread: string,
  text: string,
  attachments: InboundAttachment[] = [],
  author = { id: 'U1', name: 'ana' },
  onProgress?: (update: Progress) => void,
): Promise<{ reply: Reply; progress: Progress[] }> {
  const progress: Progress[] = [];
  let reply: Reply | undefined;
  await conversation.handle(
    { sessionKey: `test:w:c:${thread}`, author, text, attachments },
    {
      progress: (update) => {
        progress.push(update);
        onProgress?.(update);
      },
      reply: (r) => {
        reply = r;
        return Promise.resolve();
      },
    },
  );
  if (reply === undefined) throw new Error('no reply');
  return { reply, progress };
}

function conversationSuite(name: string, open: () => Promise<Stack>) {
  describe.skipIf(services.sandboxImage === undefined)(
    `conversation over the ${name} transport`,
    () => {
      let stack: Stack;
      let fake: FakeOpenAI;
      let withModel: Conversation;
      let withoutModel: Conversation;

      beforeAll(async () => {
        stack = await open();
        fake = await startFakeOpenAI();
        const base = {
          jobs: stack.jobs,
          blobs: stack.blobs,
          sessions: stack.sessions,
          agent: agentLimits,
          logger: quietLogger,
        };
        withModel = new Conversation({
          ...base,
          model: {
            client: new OpenAI({ apiKey: 't', baseURL: fake.baseUrl, maxRetries: 0 }),
            name: 'fake-model',
          },
          policy: new AccessPolicy(openPolicy),
        });
        withoutModel = new Conversation({
          ...base,
          model: undefined,
          policy: new AccessPolicy(openPolicy),
        });
      });

      afterAll(async () => {
        await fake.close();
        await stack.close();
      });

      const thread = () => randomUUID().slice(0, 8);

      it('help lists every command', async () => {
        const { reply } = await send(withoutModel, thread(), 'help');
        for (const command of ['run', 'files', 'export', 'status', 'reset', 'stop', 'help']) {
          expect(reply.text).toContain(`\`${command}`);
        }
      });

      it('runs a python block directly and keeps state for `run`', async () => {
        const t = thread();
        const first = await send(withoutModel, t, '```python\ntotal = 40\nprint("set")\n```');
        expect(first.reply.text).toBe('```\nset\n```');
        expect(first.reply.code).toEqual(['total = 40\nprint("set")']);
        expect(first.progress[0]).toEqual({ type: 'running', code: 'total = 40\nprint("set")' });
        const second = await send(withoutModel, t, 'run total + 2');
        expect(second.reply.text).toBe('```\n42\n```');
      });

      it('says how to configure a model, and code still runs', async () => {
        const { reply } = await send(withoutModel, thread(), 'plot revenue by month');
        expect(reply.text).toMatch(/OPENAI_API_KEY/);
      });

      it('places attachments in /mnt/data, lists them, and sends one back', async () => {
        const t = thread();
        await send(withoutModel, t, 'run 1', [attachment('sales.csv', 'm,r\n1,2\n')]);
        await send(withoutModel, t, 'run 1', [attachment('sales.csv', 'm,r\n3,4\n')]);
        const read = await send(withoutModel, t, 'run open("/mnt/data/sales-2.csv").read()');
        expect(read.reply.text).toContain("'m,r\\n3,4\\n'");
        const listing = await send(withoutModel, t, 'files');
        expect(listing.reply.text).toContain('`sales.csv`');
        expect(listing.reply.text).toContain('`sales-2.csv`');
        const back = await send(withoutModel, t, 'files sales.csv');
        expect(back.reply.files.map((f) => [f.name, f.content.toString()])).toEqual([
          ['sales.csv', 'm,r\n1,2\n'],
        ]);
      });

      it('refuses attachments over the size and count limits with a clear reply', async () => {
        const t = thread();
        const big = attachment('big.csv', 'x'.repeat(2000));
        const { reply } = await send(withoutModel, t, 'run 1', [
          big,
          attachment('a.txt', 'a'),
          attachment('b.txt', 'b'),
          attachment('c.txt', 'c'),
        ]);
        expect(reply.notices.join('\n')).toMatch(
          /big\.csv is 2\.0 KB, over the 1\.0 KB limit per file/,
        );
        expect(reply.notices.join('\n')).toMatch(/Only 2 files per message/);
        const listing = await send(withoutModel, t, 'files');
        expect(listing.reply.text).toContain('`a.txt`');
        expect(listing.reply.text).not.toContain('big.csv');
      });

      it('returns plots as images and files as attachments, and exports the thread as a notebook', async () => {
        const t = thread();
        const { reply } = await send(
          withoutModel,
          t,
          'run import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nopen("/mnt/data/out.txt", "w").write("hi")',
        );
        expect(reply.images).toHaveLength(1);
        expect(reply.images[0]?.content.subarray(1, 4).toString()).toBe('PNG');
        expect(reply.files.map((f) => f.name)).toEqual(['out.txt']);
        const exported = await send(withoutModel, t, 'export');
        const notebook = JSON.parse(exported.reply.files[0]?.content.toString() ?? '{}') as {
          nbformat: number;
          cells: { cell_type: string; outputs?: { data?: Record<string, string> }[] }[];
        };
        expect(notebook.nbformat).toBe(4);
        const code = notebook.cells.filter((c) => c.cell_type === 'code');
        expect(code).toHaveLength(1);
        expect(code[0]?.outputs?.some((o) => o.data?.['image/png'] !== undefined)).toBe(true);
      });

      it('reports status, and reset starts over', async () => {
        const t = thread();
        await send(withoutModel, t, 'run x = 1');
        const status = await send(withoutModel, t, 'status');
        expect(status.reply.text).toMatch(
          /Kernel running; 1 cell\(s\) run in it, memory [\d.]+ MB/,
        );
        expect(status.reply.text).toMatch(/No model configured/);
        const reset = await send(withoutModel, t, 'reset');
        expect(reset.reply.text).toMatch(/Fresh start/);
        const after = await send(withoutModel, t, "run 'x' in globals()");
        expect(after.reply.text).toBe('```\nFalse\n```');
        expect((await send(withoutModel, t, 'files')).reply.text).toMatch(/No files/);
      });

      it('stop interrupts the running cell and ends the turn; later messages are still answered in order', async () => {
        const t = thread();
        // Stop once the cell is really running (a container may still be starting before).
        const running = Promise.withResolvers<undefined>();
        const long = send(
          withoutModel,
          t,
          'run print("sleeping", flush=True)\nimport time\ntime.sleep(60)',
          [],
          undefined,
          (update) => {
            if (update.type === 'output' && update.text.includes('sleeping'))
              running.resolve(undefined);
          },
        );
        const queuedA = send(withoutModel, t, 'run "first after"');
        const queuedB = send(withoutModel, t, 'run "second after"');
        await running.promise;
        // Adapters answer un-mentioned replies in live threads, even before a first save.
        expect(await withoutModel.hasSession(`test:w:c:${t}`)).toBe(true);
        expect(await withoutModel.hasSession(`test:w:c:${thread()}`)).toBe(false);
        const stop = await send(withoutModel, t, 'stop');
        expect(stop.reply.text).toBe('Stopping the running cell.');
        const stopped = await long;
        expect(stopped.reply.text).toContain('KeyboardInterrupt');
        expect((await queuedA).reply.text).toBe("```\n'first after'\n```");
        expect((await queuedB).reply.text).toBe("```\n'second after'\n```");
      });

      it('with a model: a CSV becomes a plot and an .xlsx, a follow-up reuses the DataFrame, and the model knows who spoke', async () => {
        const t = thread();
        const lastTool = (request: RecordedRequest): string => {
          const messages = request.body.messages as { role: string; content?: unknown }[];
          const tool = [...messages].reverse().find((m) => m.role === 'tool');
          return typeof tool?.content === 'string' ? tool.content : '';
        };
        const code = [
          'import pandas as pd, matplotlib.pyplot as plt',
          'df = pd.read_csv("/mnt/data/revenue.csv")',
          'df.plot(x="month", y="revenue")',
          'plt.show()',
          'df.to_excel("/mnt/data/clean.xlsx", index=False)',
        ].join('\n');
        fake.script(
          { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
          (request) => ({
            kind: 'text',
            text: lastTool(request).includes('clean.xlsx')
              ? 'Here is the plot and the cleaned data.'
              : 'no file',
          }),
        );
        const first = await send(
          withModel,
          t,
          'plot monthly revenue and give me the cleaned data as xlsx',
          [attachment('revenue.csv', 'month,revenue\n1,10\n2,12\n3,9\n')],
        );
        expect(first.reply.text).toBe('Here is the plot and the cleaned data.');
        expect(first.reply.images).toHaveLength(1);
        expect(first.reply.files.map((f) => f.name)).toEqual(['clean.xlsx']);
        const request = fake.requests.at(-2);
        const user = (request?.body.messages as { role: string; content: string }[]).find(
          (m) => m.role === 'user',
        );
        expect(user?.content).toMatch(/^ana: plot monthly revenue/);
        expect(user?.content).toMatch(/\[attached: \/mnt\/data\/revenue\.csv, \d+ B, text\/csv\]/);

        fake.script(
          {
            kind: 'tool',
            calls: [
              { name: 'python', arguments: JSON.stringify({ code: 'int(df.revenue.sum())' }) },
            ],
          },
          (req) => ({ kind: 'text', text: `Total ${lastTool(req).split('\n').at(-1) ?? ''}` }),
        );
        const second = await send(withModel, t, 'and the total?', [], { id: 'U2', name: 'bo' });
        expect(second.reply.text).toBe('Total 31');
        const messages = fake.requests.at(-1)?.body.messages as {
          role: string;
          content: string | null;
        }[];
        expect(
          messages.filter((m) => m.role === 'user').map((m) => m.content?.split(':')[0]),
        ).toEqual(['ana', 'bo']);
      });

      it('refuses politely when the policy says no', async () => {
        const strict = new Conversation({
          jobs: stack.jobs,
          blobs: stack.blobs,
          sessions: stack.sessions,
          agent: agentLimits,
          logger: quietLogger,
          model: undefined,
          policy: new AccessPolicy({ ...openPolicy, allowedChannels: ['test:other'] }),
        });
        const { reply } = await send(strict, thread(), 'help');
        expect(reply.text).toMatch(/not enabled in this channel/);
      });
    },
  );
}

conversationSuite('embedded', async () => {
  const harness = await startManager({ poolSize: 1 });
  const blobs = new MemoryBlobStore({ maxBlobBytes: 10 * 1024 * 1024, ttlMs: 60_000 });
  const jobs = new EmbeddedJobQueue(
    new JobExecutor({ manager: harness.manager, blobs, workerId: 'embedded', logger: quietLogger }),
  );
  return {
    jobs,
    blobs,
    sessions: new MemorySessionStore(60_000, blobs),
    async close() {
      await jobs.close();
      expect(await harness.close()).toBe(0);
    },
  };
});

if (services.redisUrl !== undefined) {
  const redisUrl = services.redisUrl;
  conversationSuite('Redis', async () => {
    const prefix = uniquePrefix('conversation');
    const redis: Redis = await connectRedis(redisUrl);
    const harness = await startManager({ poolSize: 1 });
    const blobs = new RedisBlobStore(redis, `${prefix}:`, {
      maxBlobBytes: 10 * 1024 * 1024,
      ttlMs: 60_000,
    });
    const worker = new BullmqJobWorker({
      redisUrl,
      prefix,
      workerId: `conv-${randomUUID().slice(0, 6)}`,
      manager: harness.manager,
      blobs,
      logger: quietLogger,
      sessionIdleMs: 60_000,
    });
    await worker.start();
    const jobs = new BullmqJobQueue({ redisUrl, prefix, logger: quietLogger });
    return {
      jobs,
      blobs,
      sessions: new RedisSessionStore(redis, prefix, 60_000, blobs),
      async close() {
        await jobs.close();
        await worker.close();
        expect(await harness.close()).toBe(0);
        await deleteKeys(redis, prefix);
        redis.disconnect();
      },
    };
  });
}
