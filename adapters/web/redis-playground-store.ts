import { z } from 'zod';
import type {
  PlaygroundFile,
  PlaygroundProgress,
  PlaygroundStore,
} from '../../src/core/playground-store.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { FILE_BUDGET_BYTES } from './memory-playground-store.ts';
import { PlaygroundKeys } from './redis-playground-keys.ts';

const fileMeta = z.object({
  id: z.string(),
  name: z.string(),
  mime: z.string(),
  sizeBytes: z.number().int().nonnegative(),
});

/**
 * Writes ARGV[2] as the thread's document if its revision is still ARGV[1] (empty: no thread
 * yet), and lists the thread. 0 when another write came first: the caller reads and retries.
 */
const SAVE_THREAD_SCRIPT = `
local rev = redis.call('HGET', KEYS[1], 'rev') or ''
if rev ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'rev', tostring((tonumber(rev) or 0) + 1))
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

/**
 * Keeps a file (KEYS[1]; its bytes ARGV[6] unless ARGV[5] is empty: a size-only upload),
 * appends its id (ARGV[1]) to the age list KEYS[2], and forgets the oldest others while the
 * counted bytes (KEYS[3]) exceed the budget ARGV[3]. An evicted id's key is ARGV[4] .. id.
 */
const ADD_FILE_SCRIPT = `
local bytes
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'meta', ARGV[2], 'data', ARGV[6])
  bytes = redis.call('INCRBY', KEYS[3], #ARGV[6])
else
  redis.call('HSET', KEYS[1], 'meta', ARGV[2])
  bytes = tonumber(redis.call('GET', KEYS[3]) or '0')
end
redis.call('RPUSH', KEYS[2], ARGV[1])
local budget = tonumber(ARGV[3])
while bytes > budget do
  local oldest = redis.call('LINDEX', KEYS[2], 0)
  if not oldest or oldest == ARGV[1] then break end
  redis.call('LPOP', KEYS[2])
  local key = ARGV[4] .. oldest
  local size = redis.call('HSTRLEN', key, 'data')
  redis.call('DEL', key)
  bytes = redis.call('DECRBY', KEYS[3], size)
end
return bytes`;

/** Removes the status KEYS[1] if it is message ARGV[1]'s. */
const CLEAR_PROGRESS_SCRIPT = `
if redis.call('HGET', KEYS[1], 'messageId') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** A status outlives any turn; one whose turn died unresumed must not show for ever. */
const PROGRESS_TTL_MS = 60 * 60_000;
/** Writers to one thread are a handful of replicas; this many conflicts in a row is a fault. */
const MAX_SAVE_ATTEMPTS = 50;

/**
 * The playground in Redis, shared by every bot replica of a deployment: a hash per thread
 * (its JSON and a revision, written by compare-and-set so two replicas changing one thread
 * never lose a change), a hash per file under the byte budget (kept by one script, so the
 * count and the eviction agree whoever adds), and the live status of a running turn with a
 * TTL. Nothing here expires but the status: threads stay as they do in the SQLite file.
 */
export class RedisPlaygroundStore implements PlaygroundStore {
  readonly shared = true;
  private readonly redis: Redis;
  private readonly keys: PlaygroundKeys;
  private readonly fileBudgetBytes: number;

  constructor(redis: Redis, prefix: string, fileBudgetBytes = FILE_BUDGET_BYTES) {
    this.redis = redis;
    this.keys = new PlaygroundKeys(prefix);
    this.fileBudgetBytes = fileBudgetBytes;
  }

  async threads(): Promise<readonly unknown[]> {
    const ids = await this.redis.smembers(this.keys.threads);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hget(this.keys.thread(id), 'doc');
    const replies = (await pipeline.exec()) ?? [];
    const docs: unknown[] = [];
    for (const [error, doc] of replies) {
      if (error !== null) throw error;
      if (typeof doc === 'string') docs.push(JSON.parse(doc) as unknown);
    }
    return docs;
  }

  async thread(id: string): Promise<unknown> {
    const doc = await this.redis.hget(this.keys.thread(id), 'doc');
    return doc === null ? undefined : (JSON.parse(doc) as unknown);
  }

  async updateThread(id: string, change: (current: unknown) => unknown): Promise<unknown> {
    const key = this.keys.thread(id);
    for (let attempt = 0; attempt < MAX_SAVE_ATTEMPTS; attempt++) {
      const [doc, rev] = await this.redis.hmget(key, 'doc', 'rev');
      const current = doc == null ? undefined : (JSON.parse(doc) as unknown);
      const next = change(current);
      if (next === undefined) return current;
      const saved = await this.redis.eval(
        SAVE_THREAD_SCRIPT,
        2,
        key,
        this.keys.threads,
        rev ?? '',
        JSON.stringify(next),
        id,
      );
      if (saved === 1) return next;
    }
    throw new Error(`playground thread ${id}: ${MAX_SAVE_ATTEMPTS} conflicting writes in a row`);
  }

  async progress(threadId: string): Promise<PlaygroundProgress | undefined> {
    const [messageId, text] = await this.redis.hmget(
      this.keys.progress(threadId),
      'messageId',
      'text',
    );
    return messageId == null || text == null ? undefined : { messageId, text };
  }

  async setProgress(threadId: string, progress: PlaygroundProgress): Promise<void> {
    const key = this.keys.progress(threadId);
    await this.redis
      .multi()
      .hset(key, 'messageId', progress.messageId, 'text', progress.text)
      .pexpire(key, PROGRESS_TTL_MS)
      .exec();
  }

  async clearProgress(threadId: string, messageId: string): Promise<boolean> {
    const removed = await this.redis.eval(
      CLEAR_PROGRESS_SCRIPT,
      1,
      this.keys.progress(threadId),
      messageId,
    );
    return removed === 1;
  }

  async addFile(file: PlaygroundFile): Promise<void> {
    const meta = JSON.stringify({
      id: file.id,
      name: file.name,
      mime: file.mime,
      sizeBytes: file.sizeBytes,
    });
    const { keys } = this;
    await this.redis.eval(
      ADD_FILE_SCRIPT,
      3,
      keys.file(file.id),
      keys.fileOrder,
      keys.fileBytes,
      file.id,
      meta,
      String(this.fileBudgetBytes),
      keys.filePrefix,
      file.content === undefined ? '' : '1',
      file.content ?? '',
    );
  }

  async file(id: string): Promise<PlaygroundFile | undefined> {
    const [meta, data] = await this.redis.hmgetBuffer(this.keys.file(id), 'meta', 'data');
    if (meta == null) return undefined;
    const parsed = fileMeta.safeParse(JSON.parse(meta.toString('utf8')));
    if (!parsed.success) return undefined;
    return { ...parsed.data, content: data ?? undefined };
  }
}
