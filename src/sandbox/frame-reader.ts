import { PassThrough, type Duplex } from 'node:stream';
import type { Logger } from '../logging/logger.ts';
import type { Docker } from './docker-client.ts';
import { LineSplitter } from './line-splitter.ts';
import { parseFrame, type RunnerFrame } from './protocol.ts';

/** Frames carry whole PNGs in base64; anything far beyond that is a runaway, not a plot. */
export const MAX_FRAME_CHARS = 32 * 1024 * 1024;
/**
 * An honest runner sends no frame nobody asked for (no invalid line, no unknown id) and little
 * on its diagnostics stream. Past these totals over a container's life, the sandbox is
 * flooding the worker and is cut off.
 */
const MAX_STRAY_FRAMES = 1000;
const MAX_STRAY_BYTES = 4 * 1024 * 1024;
const MAX_DIAGNOSTIC_LOG_CHARS = 2000;

export interface FrameReaderOptions {
  readonly docker: Docker;
  /** The attached stream: Docker's multiplexed stdout (frames) and stderr (diagnostics). */
  readonly stream: Duplex;
  readonly log: Logger;
  /** Hands a frame to whoever waits for its id; false when nobody does. */
  readonly route: (frame: RunnerFrame) => boolean;
  /** The sandbox sent an oversized frame, or too much nobody asked for. */
  readonly onFlood: (why: string) => void;
}

/**
 * Reads the runner's frames off the attached stream, within bounds: a frame longer than
 * `maxFrameChars` and a flood of stray frames or diagnostics end in `onFlood`, once, after
 * which nothing more is read. Memory stays within a few times `maxFrameChars`.
 */
export class FrameReader {
  private readonly splitter: LineSplitter;
  private readonly options: FrameReaderOptions;
  private strayFrames = 0;
  private strayBytes = 0;
  private flooded = false;

  constructor(options: FrameReaderOptions) {
    this.options = options;
    this.splitter = new LineSplitter(
      MAX_FRAME_CHARS,
      (line) => this.dispatch(line),
      () => this.flood('an oversized frame'),
    );
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    options.docker.modem.demuxStream(options.stream, stdout, stderr);
    stdout.on('data', (chunk: Buffer) => {
      if (!this.flooded) this.splitter.push(chunk);
    });
    stderr.on('data', (chunk: Buffer) => this.diagnostics(chunk));
  }

  /** The longest frame accepted from now on, never above MAX_FRAME_CHARS. */
  set maxFrameChars(chars: number) {
    this.splitter.maxLineChars = Math.min(MAX_FRAME_CHARS, Math.max(1, Math.floor(chars)));
  }

  /** Reads nothing more: the container is being killed and what it still says is moot. */
  stop(): void {
    this.flooded = true;
  }

  private dispatch(line: string): void {
    if (this.flooded || line.length === 0) return;
    const frame = parseFrame(line);
    if (frame === undefined) {
      this.options.log.warn({ bytes: line.length }, 'ignored an invalid frame from the sandbox');
      this.stray(line.length);
      return;
    }
    if (!this.options.route(frame)) this.stray(line.length);
  }

  private diagnostics(chunk: Buffer): void {
    if (this.flooded) return;
    this.stray(chunk.length, false);
    const { log } = this.options;
    if (!log.isLevelEnabled('debug')) return;
    const text = chunk.subarray(0, MAX_DIAGNOSTIC_LOG_CHARS).toString('utf8');
    log.debug({ runnerStderr: text }, 'runner diagnostics');
  }

  private stray(bytes: number, isFrame = true): void {
    if (isFrame) this.strayFrames += 1;
    this.strayBytes += bytes;
    if (this.strayFrames > MAX_STRAY_FRAMES || this.strayBytes > MAX_STRAY_BYTES) {
      this.flood('frames nobody asked for');
    }
  }

  private flood(why: string): void {
    if (this.flooded) return;
    this.flooded = true;
    this.options.onFlood(why);
  }
}
