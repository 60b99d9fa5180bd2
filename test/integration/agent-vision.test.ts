import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runAgentTurn } from '../../src/agent/agent-turn.ts';
import { SYSTEM_PROMPT, VISION_PROMPT } from '../../src/agent/system-prompt.ts';
import { VisionMemory } from '../../src/agent/vision-support.ts';
import type { VisionMode } from '../../src/core/config.ts';
import type { BlobRef } from '../../src/core/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';
import { EmbeddedJobQueue } from '../../src/jobs/embedded-job-queue.ts';
import { buildCellResult } from '../../src/core/cell-result-builder.ts';
import type { CellResult } from '../../src/core/cell-result.ts';
import type { JobEvent } from '../../src/core/job.ts';
import { JobExecutor } from '../../src/jobs/job-executor.ts';
import {
  hasImageInput,
  startFakeOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
} from '../fakes/fake-openai-server.ts';
import { decodePng, encodePng } from '../support/png.ts';
import { quietLogger, startManager, type ManagerHarness } from '../support/sandbox.ts';

const services = inject('services');

interface Message {
  readonly role: string;
  readonly content?: unknown;
}
interface Part {
  readonly type: string;
  readonly text?: string;
  readonly image_url?: { url: string };
}

const PLOT_CODE = [
  'import matplotlib.pyplot as plt',
  'plt.plot([1, 2, 3], [1, 4, 9])',
  'plt.title("squares")',
  'plt.show()',
].join('\n');

describe.skipIf(services.sandboxImage === undefined)(
  'vision: a model that sees gets the attached images and the plots of its cells',
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

    /** Runs the cells of a fresh session through the job queue. */
    function cellRunner(sessionId: string) {
      return async (code: string, signal: AbortSignal): Promise<CellResult> => {
        const handle = await queue.submit({
          jobId: randomUUID(),
          sessionId,
          code,
          uploads: [],
          submittedAt: Date.now(),
        });
        signal.addEventListener('abort', () => void handle.cancel(), { once: true });
        const events: JobEvent[] = [];
        for await (const event of handle.events) events.push(event);
        return buildCellResult(events, blobs);
      };
    }

    function vision(mode: VisionMode, memory: VisionMemory, attached: readonly BlobRef[] = []) {
      return {
        mode,
        attached,
        memory,
        read: async (id: string) => (await blobs.get(id))?.content,
      };
    }

    const messagesOf = (request: RecordedRequest | undefined): Message[] =>
      (request?.body.messages ?? []) as Message[];
    const partsOf = (message: Message | undefined): Part[] =>
      Array.isArray(message?.content) ? (message.content as Part[]) : [];
    const imageUrls = (request: RecordedRequest | undefined): string[] =>
      messagesOf(request).flatMap((m) =>
        partsOf(m).flatMap((p) => (p.image_url === undefined ? [] : [p.image_url.url])),
      );
    const pngFromDataUrl = (url: string) =>
      decodePng(Buffer.from(url.replace(/^data:image\/png;base64,/, ''), 'base64'));

    async function photo(name: string): Promise<BlobRef> {
      const width = 40;
      const height = 20;
      const rgb = new Uint8Array(width * height * 3).fill(200);
      return blobs.put(encodePng({ width, height, rgb }), { name, mime: 'image/png' });
    }

    /** A turn whose model plots once, then answers. */
    async function plottingTurn(sessionId: string, mode: VisionMode | undefined, callId: string) {
      const sent = fake.requests.length;
      fake.script(
        {
          kind: 'tool',
          calls: [{ name: 'python', arguments: JSON.stringify({ code: PLOT_CODE }), id: callId }],
        },
        { kind: 'text', text: 'The plot shows the squares.' },
      );
      const result = await runAgentTurn({
        client,
        model: 'gpt-4o-mini',
        history: [],
        userMessage: 'ana: plot the squares of 1, 2, 3',
        runCell: cellRunner(sessionId),
        ...(mode === undefined ? {} : { vision: vision(mode, new VisionMemory()) }),
      });
      return { result, requests: fake.requests.slice(sent) };
    }

    it('with vision on, the plot a cell shows reaches the model as an image input in a user message after the tool result', async () => {
      const { result, requests } = await plottingTurn('vision:on', 'on', 'call_plot_on');
      expect(result.stop).toBe('answered');
      expect(requests).toHaveLength(2);
      const messages = messagesOf(requests[1]);
      expect(messages[0]).toEqual({
        role: 'system',
        content: `${SYSTEM_PROMPT}\n\n${VISION_PROMPT}`,
      });
      const toolAt = messages.findIndex((m) => m.role === 'tool');
      expect(String(messages[toolAt]?.content)).toContain('[image 1 shown to the user');
      const shown = messages[toolAt + 1];
      expect(shown?.role).toBe('user');
      const [text, image] = partsOf(shown);
      expect(text?.text).toMatch(/^Images produced by the cell above: image 1 \(image\/png, /);
      expect(image?.type).toBe('image_url');
      const plot = pngFromDataUrl(image?.image_url?.url ?? '');
      expect(Math.max(plot.width, plot.height)).toBeLessThanOrEqual(1024);
      expect(plot.width).toBeGreaterThan(100);
      // The transcript keeps the plot's name, not its pixels.
      const transcript = JSON.stringify(result.messages);
      expect(transcript).toContain('Images produced by the cell above');
      expect(transcript).not.toContain('base64');
    });

    it('with vision off, the requests are the same as without vision: no image, no extra message', async () => {
      const off = await plottingTurn('vision:off', 'off', 'call_plot_same');
      const none = await plottingTurn('vision:none', undefined, 'call_plot_same');
      expect(off.result.stop).toBe('answered');
      expect(off.requests.some((r) => hasImageInput(r.body.messages))).toBe(false);
      const messages = messagesOf(off.requests[1]);
      expect(messages[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
      expect(messages.at(-1)?.role).toBe('tool');
      expect(off.requests.map((r) => JSON.stringify(r.body))).toEqual(
        none.requests.map((r) => JSON.stringify(r.body)),
      );
    });

    it('an attached PNG reaches the first request as an image input, as it is when small', async () => {
      const attached = await photo('chart.png');
      const sent = fake.requests.length;
      fake.script({ kind: 'text', text: 'A grey rectangle.' });
      const result = await runAgentTurn({
        client,
        model: 'gpt-4o-mini',
        history: [],
        userMessage:
          'ana: what is in this picture?\n[attached: /mnt/data/chart.png, 1 KB, image/png]',
        runCell: cellRunner('vision:attached'),
        vision: vision('on', new VisionMemory(), [attached]),
      });
      expect(result.text).toBe('A grey rectangle.');
      const first = fake.requests[sent];
      const user = messagesOf(first)[1];
      expect(user?.role).toBe('user');
      const [text, image] = partsOf(user);
      expect(text?.text).toContain('[attached: /mnt/data/chart.png');
      const bytes = (await blobs.get(attached.id))?.content;
      expect(image?.image_url?.url).toBe(`data:image/png;base64,${bytes?.toString('base64')}`);
      expect(result.messages[0]).toEqual({
        role: 'user',
        content: 'ana: what is in this picture?\n[attached: /mnt/data/chart.png, 1 KB, image/png]',
      });
    });

    it('a model that refuses image inputs still answers, and auto remembers it is text-only', async () => {
      const memory = new VisionMemory();
      fake.rejectImageInputs(true);
      try {
        const sent = fake.requests.length;
        fake.script({ kind: 'text', text: 'I cannot see images, but the file is in /mnt/data.' });
        const first = await runAgentTurn({
          client,
          model: 'gpt-4o-mini', // a known vision family: no probe, images on the first request
          history: [],
          userMessage: 'ana: describe this\n[attached: /mnt/data/a.png, 1 KB, image/png]',
          runCell: cellRunner('vision:refused'),
          vision: vision('auto', memory, [await photo('a.png')]),
        });
        expect(first.stop).toBe('answered');
        expect(first.text).toBe('I cannot see images, but the file is in /mnt/data.');
        const firstRequests = fake.requests.slice(sent);
        expect(firstRequests.map((r) => hasImageInput(r.body.messages))).toEqual([true, false]);
        expect(messagesOf(firstRequests[1])[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });

        const again = fake.requests.length;
        fake.script({ kind: 'text', text: 'Still text only.' });
        const second = await runAgentTurn({
          client,
          model: 'gpt-4o-mini',
          history: first.messages,
          userMessage: 'ana: and this one?\n[attached: /mnt/data/b.png, 1 KB, image/png]',
          runCell: cellRunner('vision:refused'),
          vision: vision('auto', memory, [await photo('b.png')]),
        });
        expect(second.text).toBe('Still text only.');
        const secondRequests = fake.requests.slice(again);
        expect(secondRequests).toHaveLength(1);
        expect(hasImageInput(secondRequests[0]?.body.messages ?? [])).toBe(false);
        expect(memory.probes).toBe(0);
      } finally {
        fake.rejectImageInputs(false);
      }
    });

    it('an unknown model is probed once with a red image; it answers red, so both turns send images', async () => {
      const memory = new VisionMemory();
      const sent = fake.requests.length;
      const probed = fake.probes.length;
      fake.answerProbes({ kind: 'text', text: 'Red.' });
      fake.script({ kind: 'text', text: 'One.' }, { kind: 'text', text: 'Two.' });
      const turn = async (text: string, name: string) =>
        runAgentTurn({
          client,
          model: 'acme-chat-7b',
          history: [],
          userMessage: `ana: ${text}`,
          runCell: cellRunner('vision:probe'),
          vision: vision('auto', memory, [await photo(name)]),
        });
      expect((await turn('first', 'one.png')).text).toBe('One.');
      expect((await turn('second', 'two.png')).text).toBe('Two.');
      fake.answerProbes({ kind: 'status', status: 400 });
      const probes = fake.probes.slice(probed);
      expect(probes).toHaveLength(1);
      expect(memory.probes).toBe(1);
      expect(probes[0]?.body.model).toBe('acme-chat-7b');
      const turns = fake.requests.slice(sent);
      expect(turns.map((r) => imageUrls(r).length)).toEqual([1, 1]);
    });

    it('an unknown model that answers the probe wrong is given no images', async () => {
      const memory = new VisionMemory();
      const sent = fake.requests.length;
      fake.answerProbes({ kind: 'text', text: 'I only see text.' });
      fake.script({ kind: 'text', text: 'Answered.' });
      const result = await runAgentTurn({
        client,
        model: 'acme-text-3b',
        history: [],
        userMessage: 'ana: look',
        runCell: cellRunner('vision:blind'),
        vision: vision('auto', memory, [await photo('c.png')]),
      });
      fake.answerProbes({ kind: 'status', status: 400 });
      expect(result.text).toBe('Answered.');
      expect(memory.probes).toBe(1);
      const requests = fake.requests.slice(sent);
      expect(requests).toHaveLength(1);
      expect(hasImageInput(requests[0]?.body.messages ?? [])).toBe(false);
      expect(messagesOf(requests[0])[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
    });

    it('by default the fake model refuses the probe like a text-only server: vision stays off', async () => {
      const memory = new VisionMemory();
      const sent = fake.requests.length;
      fake.script({ kind: 'text', text: 'Plain.' });
      const result = await runAgentTurn({
        client,
        model: 'fake-model',
        history: [],
        userMessage: 'ana: look',
        runCell: cellRunner('vision:default'),
        vision: vision('auto', memory, [await photo('d.png')]),
      });
      expect(result.text).toBe('Plain.');
      expect(memory.probes).toBe(1);
      const requests = fake.requests.slice(sent);
      expect(requests.map((r) => hasImageInput(r.body.messages))).toEqual([false]);
    });
  },
);
