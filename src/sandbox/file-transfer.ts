import { pack, extract } from 'tar-stream';
import { SandbotError } from '../core/errors.ts';
import { formatBytes } from '../core/bytes.ts';
import { relativePathProblem, uploadNameProblem } from '../core/file-names.ts';
import type { RunnerFrame, RunnerRequest } from './protocol.ts';

export interface UploadFile {
  /** A plain file name; it lands at /mnt/data/<name>. */
  readonly name: string;
  readonly content: Buffer;
}

export function assertUploadNames(files: readonly UploadFile[]): void {
  for (const file of files) {
    const problem = uploadNameProblem(file.name);
    if (problem !== undefined) {
      throw new SandbotError('FILE_REJECTED', `upload refused: ${problem}`);
    }
  }
}

/** Bytes of an upload per `write_file` request: about 1.4 MB of base64 on one line. */
const UPLOAD_CHUNK_BYTES = 1024 * 1024;

type WriteFileRequest = Extract<RunnerRequest, { type: 'write_file' }>;

/**
 * The `write_file` requests that place `file` in /mnt/data: the runner writes it as the
 * sandbox user, to a new file renamed over the name, so a symlink planted there by an earlier
 * cell is replaced, never followed (docs/sandbox-protocol.md, "Trust model").
 */
export function uploadRequests(
  file: UploadFile,
  id: string,
): [WriteFileRequest, ...WriteFileRequest[]] {
  const requests: [WriteFileRequest, ...WriteFileRequest[]] = [
    chunkRequest(file, id, 0, Math.min(UPLOAD_CHUNK_BYTES, file.content.length)),
  ];
  for (
    let offset = UPLOAD_CHUNK_BYTES;
    offset < file.content.length;
    offset += UPLOAD_CHUNK_BYTES
  ) {
    requests.push(
      chunkRequest(file, id, offset, Math.min(offset + UPLOAD_CHUNK_BYTES, file.content.length)),
    );
  }
  return requests;
}

function chunkRequest(file: UploadFile, id: string, start: number, end: number): WriteFileRequest {
  return {
    type: 'write_file',
    id,
    name: file.name,
    data: file.content.subarray(start, end).toString('base64'),
    offset: start,
    final: end >= file.content.length,
  };
}

/**
 * A tar of the uploads, owned by the sandbox user so user code can overwrite them. Not how
 * uploads reach a sandbox any more (Docker would write as root, by name: see uploadRequests).
 */
export async function uploadTar(files: readonly UploadFile[]): Promise<Buffer> {
  assertUploadNames(files);
  const archive = pack();
  for (const file of files) {
    archive.entry(
      {
        name: file.name,
        size: file.content.length,
        mode: 0o644,
        uid: 1000,
        gid: 1000,
        type: 'file',
      },
      file.content,
    );
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Whether a path reported by the runner may be fetched: relative, inside /mnt/data, clean. */
export function isSafeRelativePath(path: string): boolean {
  return relativePathProblem(path) === undefined;
}

export type FetchedFile =
  | { readonly kind: 'file'; readonly content: Buffer }
  | { readonly kind: 'skipped'; readonly reason: string };

/** A reason the sandbox gave (bounded by the frame schema), as text on one line. */
export function sandboxText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what we replace
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * Collects the runner's answer to one `read_file` request (docs/sandbox-protocol.md, "Trust
 * model"): the runner reads the file with the sandbox user's privilege and sends its bytes
 * in `file_data` frames; this keeps at most `maxBytes` of them, whatever the frames say.
 */
export class FileReceiver {
  private readonly maxBytes: number;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** The outcome once `frame` completes the answer; undefined while more is to come. */
  take(frame: RunnerFrame): FetchedFile | undefined {
    if (frame.type === 'file_data') {
      const chunk = Buffer.from(frame.data, 'base64');
      this.bytes += chunk.length;
      if (this.bytes > this.maxBytes) {
        return { kind: 'skipped', reason: `it is larger than ${formatBytes(this.maxBytes)}` };
      }
      this.chunks.push(chunk);
      return undefined;
    }
    if (frame.type === 'file_end') {
      if (frame.refused === undefined) {
        return { kind: 'file', content: Buffer.concat(this.chunks, this.bytes) };
      }
      return { kind: 'skipped', reason: sandboxText(frame.refused) };
    }
    return { kind: 'skipped', reason: 'the sandbox answered with something else' };
  }
}

/**
 * Reads the archive Docker returns for one path. Not how files leave a sandbox any more
 * (Docker reads as root, by name, at copy time: see FileReceiver); kept for the benchmark
 * that compares the two paths. Only a regular file is accepted: a symlink arrives as a link
 * entry and is refused here. Reading stops at `maxBytes`.
 */
export async function readSingleFile(
  archive: NodeJS.ReadableStream,
  expectedName: string,
  maxBytes: number,
): Promise<FetchedFile> {
  const extractor = extract();
  let result: FetchedFile = { kind: 'skipped', reason: 'not found' };
  let seen = false;
  const finished = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const first = !seen;
      seen = true;
      if (!first) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (header.type !== 'file') {
        result = { kind: 'skipped', reason: `it is a ${header.type}, not a regular file` };
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (header.name !== expectedName) {
        result = { kind: 'skipped', reason: 'the archive named a different file' };
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (header.size > maxBytes) {
        result = { kind: 'skipped', reason: `it is larger than ${formatBytes(maxBytes)}` };
        stream.resume();
        stream.on('end', next);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        result = { kind: 'file', content: Buffer.concat(chunks) };
        next();
      });
      stream.on('error', reject);
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  archive.pipe(extractor);
  await finished;
  return result;
}
