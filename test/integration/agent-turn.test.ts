import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAgentTurn, type AgentProgress } from '../../src/agent/agent-turn.ts';
import type { BlobRef } from '../../src/core/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { EmbeddedJobQueue } from '../../src/jobs/embedded-job-queue.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import type { CellResult } from '../../src/core/cell-result.ts';
import type { JobEvent } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import {
  startFakeOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
} from '../fakes/fake-openai-server.ts';
import { decodePng, encodePng, pixel } from '../support/png.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

describe.skipIf(services.sandboxImage === undefined)(
  'an agent turn: the model writes code, the sandbox runs it',
  () => {
    let fake: FakeOpenAI;
    let harness: ManagerHarness;
    let queue: EmbeddedJobQueue;
    let blobs: MemoryBlobStore;
    let client: OpenAI;

    beforeAll(async () => {
      fake = await startFakeOpenAI();
      harness = await startManager({ poolSize: 1 });
      blobs = new MemoryBlobStore({ maxBlobBytes: 10 * 1024 * 1024, ttlMs: 60_000 });
      queue = new EmbeddedJobQueue(
        new JobExecutor({
          manager: harness.manager,
          blobs,
          workerId: 'embedded',
          logger: quietLogger,
        }),
      );
      client = new OpenAI({ apiKey: 'test', baseURL: fake.baseUrl, maxRetries: 2 });
    });

    afterAll(async () => {
      await queue.close();
      await fake.close();
      expect(await harness.close()).toBe(0);
    });

    /** Runs cells of `sessionId` through the job queue; the first one carries the uploads. */
    function cellRunner(
      sessionId: string,
      uploads: BlobRef[] = [],
      onEvent: (event: JobEvent) => void = () => undefined,
    ) {
      let pending = uploads;
      return async (code: string, signal: AbortSignal): Promise<CellResult> => {
        const handle = await queue.submit({
          jobId: randomUUID(),
          sessionId,
          code,
          uploads: pending,
          submittedAt: Date.now(),
        });
        pending = [];
        signal.addEventListener('abort', () => void handle.cancel(), { once: true });
        if (signal.aborted) void handle.cancel();
        const events: JobEvent[] = [];
        for await (const event of handle.events) {
          events.push(event);
          onEvent(event);
        }
        return buildCellResult(events, blobs);
      };
    }

    const lastToolResult = (request: RecordedRequest): string => {
      const tool = [...(request.body.messages as { role: string; content?: unknown }[])]
        .reverse()
        .find((m) => m.role === 'tool');
      return typeof tool?.content === 'string' ? tool.content : '';
    };

    it('splits an attached image in two halves and inverts the colours of the right half', async () => {
      // 40x20: left half red, right half dark blue.
      const width = 40;
      const height = 20;
      const rgb = new Uint8Array(width * height * 3);
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1)
          rgb.set(x < width / 2 ? [200, 10, 10] : [0, 0, 90], (y * width + x) * 3);
      }
      const photo = await blobs.put(encodePng({ width, height, rgb }), {
        name: 'photo.png',
        mime: 'image/png',
      });
      const code = [
        'from PIL import Image, ImageOps',
        'img = Image.open("/mnt/data/photo.png").convert("RGB")',
        'w, h = img.size',
        'right = ImageOps.invert(img.crop((w // 2, 0, w, h)))',
        'img.paste(right, (w // 2, 0))',
        'img.save("/mnt/data/result.png")',
        'print(img.size)',
      ].join('\n');
      fake.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: JSON.stringify({ code }) }] },
        (request) =>
          lastToolResult(request).includes('[file sent to the user: /mnt/data/result.png')
            ? { kind: 'text', text: 'Done: the right half is inverted.' }
            : { kind: 'text', text: 'The file was not produced.' },
      );
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage:
          'ana: split this image in two halves and invert the colours of the right half [attached: photo.png, 1 KB, image/png]',
        runCell: cellRunner('agent:image', [photo]),
      });
      expect(result.stop).toBe('answered');
      expect(result.text).toBe('Done: the right half is inverted.');
      const file = result.cells[0]?.result.files[0];
      const bytes = file === undefined ? undefined : (await blobs.get(file.blob.id))?.content;
      const out = decodePng(bytes ?? Buffer.alloc(0));
      expect([out.width, out.height]).toEqual([width, height]);
      expect(pixel(out, 5, 5)).toEqual([200, 10, 10]); // left half untouched
      expect(pixel(out, 30, 5)).toEqual([255, 255, 165]); // right half inverted
      // The model saw the system prompt, the tool, and a compact tool result.
      const first = fake.requests.at(-2);
      expect(JSON.stringify(first?.body.tools)).toContain('"python"');
      expect((first?.body.messages[0] as { role: string }).role).toBe('system');
    });

    it('a resumed turn goes on from its recorded steps: only the cell it had begun runs, and the model is asked only for what is left', async () => {
      const ran: string[] = [];
      const runner = cellRunner('agent:resume');
      const runCell = (code: string, signal: AbortSignal) => {
        ran.push(code);
        return runner(code, signal);
      };
      const tool = (code: string) => ({
        kind: 'tool' as const,
        calls: [{ name: 'python', arguments: JSON.stringify({ code }) }],
      });
      fake.script(tool('x = 41'), tool('print(x + 1)'), (request) => ({
        kind: 'text',
        text: `It is ${lastToolResult(request).trim().split('\n').at(-1) ?? '?'}.`,
      }));
      const recorded: AgentProgress[] = [];
      const first = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'cy: what is x + 1?',
        runCell,
        onProgress: (progress) => {
          recorded.push(progress);
          return Promise.resolve();
        },
      });
      expect(first.text).toBe('It is 42.');
      // Recorded after each model reply and each cell: [reply 1, cell 1, reply 2, cell 2, answer].
      expect(recorded.map((p) => p.cells.length)).toEqual([0, 1, 1, 2, 2]);

      // The runner died while the second cell ran: the resumed turn runs only that cell, then
      // asks the model once, for the answer.
      const requestsBefore = fake.requests.length;
      ran.length = 0;
      fake.script((request) => ({
        kind: 'text',
        text: `Resumed: ${lastToolResult(request).trim().split('\n').at(-1) ?? '?'}.`,
      }));
      const resumed = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'cy: what is x + 1?',
        runCell,
        resume: recorded[2] ?? { messages: [], cells: [] },
      });
      expect(ran).toEqual(['print(x + 1)']);
      expect(fake.requests.length - requestsBefore).toBe(1);
      expect(resumed.text).toBe('Resumed: 42.');
      expect(resumed.cells.map((c) => c.code)).toEqual(['x = 41', 'print(x + 1)']);
      expect(resumed.messages.filter((m) => m.role === 'user')).toHaveLength(1);

      // The runner died after the model answered: the resumed turn neither asks nor runs.
      ran.length = 0;
      const answered = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'cy: what is x + 1?',
        runCell,
        resume: recorded[4] ?? { messages: [], cells: [] },
      });
      expect(answered).toMatchObject({ stop: 'answered', text: 'It is 42.' });
      expect(ran).toEqual([]);
      expect(fake.requests.length - requestsBefore).toBe(1);
    });

    it('keeps a variable from the first turn for a follow-up turn', async () => {
      const runCell = cellRunner('agent:followup');
      fake.script(
        {
          kind: 'tool',
          calls: [
            {
              name: 'python',
              arguments: JSON.stringify({
                code: 'import pandas as pd\ndf = pd.DataFrame({"m": [1, 2], "rev": [10, 32]})\ndf.shape',
              }),
            },
          ],
        },
        { kind: 'text', text: 'Loaded 2 months.' },
      );
      const first = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'bo: load it',
        runCell,
      });
      expect(first.stop).toBe('answered');
      fake.script(
        {
          kind: 'tool',
          calls: [{ name: 'python', arguments: JSON.stringify({ code: 'int(df.rev.sum())' }) }],
        },
        (request) => ({
          kind: 'text',
          text: `Total: ${lastToolResult(request).split('\n').at(-1) ?? '?'}`,
        }),
      );
      const second = await runAgentTurn({
        client,
        model: 'fake-model',
        history: first.messages,
        userMessage: 'bo: total revenue?',
        runCell,
      });
      expect(second.text).toBe('Total: 42');
    });

    it('answers malformed tool arguments to the model instead of crashing', async () => {
      fake.script(
        { kind: 'tool', calls: [{ name: 'python', arguments: '{"code": "print(1)' }] },
        (request) => ({
          kind: 'text',
          text: lastToolResult(request).startsWith('Error: the arguments are not valid JSON')
            ? 'fixed'
            : 'unexpected',
        }),
      );
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'x',
        runCell: cellRunner('agent:bad-args'),
      });
      expect(result.text).toBe('fixed');
      expect(result.cells).toHaveLength(0);
    });

    it('stops a model that keeps calling tools at the step bound, with a message', async () => {
      const loop = {
        kind: 'tool' as const,
        calls: [{ name: 'python', arguments: '{"code": "1"}' }],
      };
      fake.script(loop, loop, loop);
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'loop',
        runCell: cellRunner('agent:loop'),
        maxSteps: 3,
      });
      expect(result.stop).toBe('step_limit');
      expect(result.notice).toMatch(/stopped after 3 steps/);
      expect(result.cells).toHaveLength(3);
    });

    it('retries a 429 and then succeeds', async () => {
      fake.script(
        { kind: 'status', status: 429, headers: { 'retry-after-ms': '10' } },
        { kind: 'text', text: 'after the rate limit' },
      );
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'hi',
        runCell: cellRunner('agent:429'),
      });
      expect(result).toMatchObject({ stop: 'answered', text: 'after the rate limit' });
    });

    it('ends the turn with a plain explanation when the model is unreachable', async () => {
      const nowhere = new OpenAI({
        apiKey: 'test',
        baseURL: 'http://127.0.0.1:1/v1',
        maxRetries: 0,
      });
      const result = await runAgentTurn({
        client: nowhere,
        model: 'm',
        history: [],
        userMessage: 'hi',
        runCell: cellRunner('agent:down'),
      });
      expect(result.stop).toBe('model_error');
      expect(result.notice).toMatch(/could not be reached/);
    });

    it('stops in the middle of a long cell and ends the turn', async () => {
      const controller = new AbortController();
      const code = 'import time\nprint("sleeping", flush=True)\ntime.sleep(60)';
      fake.script({
        kind: 'tool',
        calls: [{ name: 'python', arguments: JSON.stringify({ code }) }],
      });
      // Stop is pressed once the cell shows it is sleeping, i.e. in the middle of it.
      const stopWhenSleeping = (event: JobEvent) => {
        if (event.type === 'stdout' && event.text.includes('sleeping')) controller.abort();
      };
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'sleep',
        runCell: cellRunner('agent:stop', [], stopWhenSleeping),
        signal: controller.signal,
      });
      expect(result.stop).toBe('cancelled');
      expect(result.cells[0]?.result.status).toBe('interrupted');
    });
  },
);
