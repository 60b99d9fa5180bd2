import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { APIError } from 'openai';
import type { BlobRef } from '../core/blob-store.ts';
import { formatBytes } from '../core/bytes.ts';
import type { VisionMode } from '../core/config.ts';
import { VISION_MIME_TYPES, type ImageInput } from './image-input.ts';
import { imageInputOffThread } from './image-input-thread.ts';
import type { OpenAI } from './model-client.ts';
import { SYSTEM_PROMPT, VISION_PROMPT } from './system-prompt.ts';
import { processVisionMemory, type VisionMemory } from './vision-support.ts';

/** Images given to the model in one request; the oldest of the turn are left as text. */
const MAX_IMAGES_PER_REQUEST = 4;

export interface VisionOptions {
  /** MODEL_VISION. */
  readonly mode: VisionMode;
  /** This turn's attachments; the images among them go with the user message. */
  readonly attached: readonly BlobRef[];
  /** An image's bytes (the blob store); undefined when it has expired. */
  readonly read: (id: string) => Promise<Uint8Array | undefined>;
  /** What the process knows about which models see. Default: the process-wide memory. */
  readonly memory?: VisionMemory;
  /** Default 4. */
  readonly maxImagesPerRequest?: number;
}

/**
 * One turn's images. The transcript keeps text only: the user message as it is and, after a
 * tool result with images, a user message naming them ("Images produced by the cell above:
 * …"). Pixels are added to this turn's requests alone (Chat Completions takes images only in
 * user messages), at most a few per request, newest first; later turns see the names.
 */
export class VisionTurn {
  #sees: boolean;
  readonly #options: VisionOptions | undefined;
  readonly #client: OpenAI;
  readonly #model: string;
  /** This turn's messages that carry images, by identity (resumed steps carry none). */
  readonly #pixels = new WeakMap<ChatCompletionMessageParam, readonly BlobRef[]>();
  readonly #inputs = new Map<string, Promise<ImageInput>>();
  #lastHadImages = false;

  private constructor(
    sees: boolean,
    options: VisionOptions | undefined,
    client: OpenAI,
    model: string,
  ) {
    this.#sees = sees;
    this.#options = options;
    this.#client = client;
    this.#model = model;
  }

  /** Decides whether this turn sends images (may probe the model once; never throws). */
  static async start(
    options: VisionOptions | undefined,
    client: OpenAI,
    model: string,
    signal: AbortSignal,
  ): Promise<VisionTurn> {
    const memory = options?.memory ?? processVisionMemory;
    const sees =
      options === undefined ? false : await memory.sees(options.mode, client, model, signal);
    return new VisionTurn(sees, options, client, model);
  }

  get sees(): boolean {
    return this.#sees;
  }

  /** `base` (default: the built-in prompt), with what a seeing model should do. */
  systemPrompt(base: string = SYSTEM_PROMPT): string {
    return this.#sees ? `${base}\n\n${VISION_PROMPT}` : base;
  }

  /** Marks the turn's user message as carrying the attached images. */
  withAttachments(message: ChatCompletionMessageParam): ChatCompletionMessageParam {
    const images = (this.#options?.attached ?? []).filter((b) => VISION_MIME_TYPES.has(b.mime));
    if (this.#sees && images.length > 0) this.#pixels.set(message, images);
    return message;
  }

  /** After a tool result whose cell showed images: the user message that shows them. */
  cellImages(images: readonly BlobRef[]): ChatCompletionMessageParam | undefined {
    if (!this.#sees || images.length === 0) return undefined;
    const names = images.map(
      (image, i) => `image ${i + 1} (${image.mime}, ${formatBytes(image.sizeBytes)})`,
    );
    const message: ChatCompletionMessageParam = {
      role: 'user',
      content: `Images produced by the cell above: ${names.join(', ')}`,
    };
    this.#pixels.set(message, images);
    return message;
  }

  /** The messages as sent: this turn's newest images as image inputs, the rest as they are. */
  async request(
    messages: readonly ChatCompletionMessageParam[],
  ): Promise<ChatCompletionMessageParam[]> {
    this.#lastHadImages = false;
    if (!this.#sees) return [...messages];
    let budget = this.#options?.maxImagesPerRequest ?? MAX_IMAGES_PER_REQUEST;
    const out = [...messages];
    for (let index = out.length - 1; index >= 0 && budget > 0; index -= 1) {
      const message = out[index];
      const images = message === undefined ? undefined : this.#pixels.get(message);
      if (message?.role !== 'user' || typeof message.content !== 'string' || images === undefined)
        continue;
      // Newest first within the message too, then back in the order they were shown.
      const first = Math.max(0, images.length - budget);
      const parts: ChatCompletionContentPart[] = [{ type: 'text', text: message.content }];
      for (const [i, image] of images.entries()) {
        if (i < first) continue;
        const input = await this.#input(image);
        if ('url' in input) {
          parts.push({ type: 'image_url', image_url: { url: input.url } });
          budget -= 1;
          this.#lastHadImages = true;
        } else {
          parts.push({ type: 'text', text: `[image ${i + 1} not shown: ${input.skipped}]` });
        }
      }
      out[index] = { role: 'user', content: parts };
    }
    return out;
  }

  /**
   * The model refused the last request, which carried images (400 or 422): it is text-only. This
   * turn goes on without images and the process remembers. False for any other error.
   */
  refusedImages(error: unknown): boolean {
    // 400 from OpenAI and most servers, 422 from some validating proxies.
    const status: number | undefined =
      error instanceof APIError ? (error as APIError).status : undefined;
    if (!this.#lastHadImages || (status !== 400 && status !== 422)) return false;
    this.#sees = false;
    (this.#options?.memory ?? processVisionMemory).rememberTextOnly(this.#client, this.#model);
    return true;
  }

  #input(image: BlobRef): Promise<ImageInput> {
    let input = this.#inputs.get(image.id);
    if (input === undefined) {
      input = this.#read(image);
      this.#inputs.set(image.id, input);
    }
    return input;
  }

  async #read(image: BlobRef): Promise<ImageInput> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.#options?.read(image.id);
    } catch {
      // An image the store cannot give back is named, never a reason to fail the turn.
      return { skipped: 'it could not be read' };
    }
    if (bytes === undefined) return { skipped: 'it is no longer stored' };
    return imageInputOffThread(bytes);
  }
}
