/** Worker-thread entry: converts one image (workerData) and posts the ImageInput back. */
import { parentPort, workerData } from 'node:worker_threads';
import { toImageInput } from './image-input.ts';

parentPort?.postMessage(toImageInput(workerData as Uint8Array));
