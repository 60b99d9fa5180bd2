import { encode as encodePng } from 'fast-png';
import { APIError } from 'openai';
import type { VisionMode } from '../core/config.ts';
import type { OpenAI } from './model-client.ts';
import { knownVision } from './vision-models.ts';

/** The probe's whole budget: it must never hold a turn up for long. */
const PROBE_TIMEOUT_MS = 20_000;

/** A 16x16 solid red PNG: small, and its colour has one right name. */
const RED_PNG_URL = (() => {
  const data = new Uint8Array(16 * 16 * 3);
  for (let i = 0; i < data.length; i += 3) data[i] = 255;
  const png = encodePng({ width: 16, height: 16, data, channels: 3, depth: 8 });
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
})();

/**
 * What this process has learnt about which models see images: decided once per endpoint and
 * model (known family, else one probe), and overruled by a model that refuses an image
 * mid-turn. Kept in memory only: a probe is one tiny request per process and model, so it is
 * not worth a store key (a restart probes again).
 */
export class VisionMemory {
  readonly #decided = new Map<string, Promise<boolean>>();
  /** Probe requests sent, for tests and logs. */
  probes = 0;

  /** Whether this turn sends images. Never throws; a failed probe means no. */
  async sees(
    mode: VisionMode,
    client: OpenAI,
    model: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    if (mode === 'off') return false;
    const key = memoryKey(client, model);
    const decided = this.#decided.get(key);
    if (mode === 'on') return decided === undefined ? true : decided;
    if (decided !== undefined) return decided;
    const known = knownVision(model);
    if (known !== undefined) {
      this.#decided.set(key, Promise.resolve(known));
      return known;
    }
    // Turns that start while the probe runs wait for the same answer: one probe per model.
    const probe = this.#probe(client, model, signal).then((answer) => {
      if (answer === undefined) this.#decided.delete(key); // inconclusive: ask again next turn
      return answer ?? false;
    });
    this.#decided.set(key, probe);
    return probe;
  }

  /** A model refused an image input: it is text-only for the rest of this process. */
  rememberTextOnly(client: OpenAI, model: string): void {
    this.#decided.set(memoryKey(client, model), Promise.resolve(false));
  }

  /** True: answered "red"; false: refused (4xx) or answered wrong; undefined: cannot tell. */
  async #probe(client: OpenAI, model: string, signal?: AbortSignal): Promise<boolean | undefined> {
    this.probes += 1;
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      const reply = await client.chat.completions.create(
        {
          model,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'text', text: 'What colour is this image? Answer with one word.' },
                { type: 'image_url', image_url: { url: RED_PNG_URL } },
              ],
            },
          ],
        },
        {
          signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
          maxRetries: 0,
        },
      );
      return /\bred\b/i.test(reply.choices[0]?.message.content ?? '');
    } catch (error) {
      // A refusal is a no; a timeout, rate limit, outage or Stop says nothing about the model.
      const status: number | undefined =
        error instanceof APIError ? (error as APIError).status : undefined;
      if (status === undefined || [408, 409, 429].includes(status)) return undefined;
      return status >= 400 && status < 500 ? false : undefined;
    }
  }
}

/** One memory for the whole process (every turn of every thread shares what it learnt). */
export const processVisionMemory = new VisionMemory();

function memoryKey(client: OpenAI, model: string): string {
  return `${client.baseURL} ${model}`;
}
