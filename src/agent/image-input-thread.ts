import { Worker } from 'node:worker_threads';
import { imageInputWithoutDecoding, type ImageInput } from './image-input.ts';

/** A downscale that takes longer is given up (the image is then named, not shown). */
const DECODE_TIMEOUT_MS = 30_000;
/** JavaScript heap of the decoding thread; pixel buffers are bounded by the megapixel cap. */
const DECODE_HEAP_MB = 256;

/**
 * toImageInput without blocking the bot: an image that needs decoding is converted in a
 * short-lived worker thread (a 12 MP photo takes seconds of CPU, which would otherwise stall
 * every other thread's turn and lease), with a heap limit and a time limit. Never throws.
 */
export async function imageInputOffThread(bytes: Uint8Array): Promise<ImageInput> {
  const quick = imageInputWithoutDecoding(bytes);
  if (quick !== undefined) return quick;
  const worker = new Worker(new URL('./image-input-worker.ts', import.meta.url), {
    workerData: bytes,
    resourceLimits: { maxOldGenerationSizeMb: DECODE_HEAP_MB },
  });
  const timer = setTimeout(() => void worker.terminate(), DECODE_TIMEOUT_MS);
  try {
    return await new Promise<ImageInput>((resolve) => {
      worker.once('message', (input: ImageInput) => resolve(input));
      worker.once('error', () => resolve({ skipped: 'it could not be downscaled' }));
      worker.once('exit', () => resolve({ skipped: 'downscaling it took too long' }));
    });
  } finally {
    clearTimeout(timer);
    void worker.terminate();
  }
}
