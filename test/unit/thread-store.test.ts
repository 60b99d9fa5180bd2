import { afterAll, describe, expect, it } from 'vitest';
import { MemoryPlaygroundStore } from '../../adapters/web/memory-playground-store.ts';
import { SqlitePlaygroundStore } from '../../adapters/web/sqlite-playground-store.ts';
import { ThreadStore } from '../../adapters/web/thread-store.ts';
import type { PlaygroundStore } from '../../src/core/playground-store.ts';
import { textReply } from '../../src/core/reply.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { removeDataDir, tempDataDir } from '../support/data-dir.ts';

const png = (bytes: number) => ({ name: 'p.png', mime: 'image/png', content: Buffer.alloc(bytes) });

const dataDirs: string[] = [];
const opened: DatabaseSync[] = [];
function sqliteDatabase(dir = tempDataDir('thread-store')): { dir: string; db: DatabaseSync } {
  dataDirs.push(dir);
  const db = openDatabase(dir);
  opened.push(db);
  return { dir, db };
}
afterAll(() => {
  for (const db of opened) if (db.isOpen) db.close();
  for (const dir of dataDirs) removeDataDir(dir);
});

const stores: [string, (budgetBytes?: number) => PlaygroundStore][] = [
  ['memory', (budgetBytes) => new MemoryPlaygroundStore(budgetBytes)],
  ['sqlite', (budgetBytes) => new SqlitePlaygroundStore(sqliteDatabase().db, budgetBytes)],
];

describe.each(stores)('the playground thread store (%s)', (_name, makeStore) => {
  it('forgets the oldest files beyond its byte budget, keeping the messages', () => {
    const store = new ThreadStore(makeStore(250));
    const thread = store.create();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const question = store.addUserMessage(thread.id, `plot ${i}`, []);
      const { item } = store.addReply(thread.id, question.id, {
        ...textReply(`plot ${i}`),
        images: [png(100)],
      });
      if (item.kind === 'bot') ids.push(item.images[0]?.id ?? '');
    }
    expect(store.file(ids[0] ?? '')).toBeUndefined();
    expect(store.file(ids[1] ?? '')?.content.length).toBe(100);
    expect(store.file(ids[2] ?? '')?.content.length).toBe(100);
    expect(store.get(thread.id)?.items).toHaveLength(6);
  });

  it('hands a pending upload to the next message of its own thread only', () => {
    const store = new ThreadStore(makeStore());
    const a = store.create();
    const b = store.create();
    const upload = store.addUpload(a.id, {
      name: 'd.csv',
      mime: 'text/csv',
      sizeBytes: 3,
      content: Buffer.from('1,2'),
    });
    expect(store.takeUploads(b.id, [upload.id])).toEqual([]);
    expect(store.takeUploads(a.id, [upload.id])).toHaveLength(1);
    expect(store.takeUploads(a.id, [upload.id])).toEqual([]);
  });
});

describe('the playground thread store on SQLite', () => {
  it('lists the threads, their messages, answers, files and uploads after a restart', () => {
    const { dir, db } = sqliteDatabase();
    const before = new ThreadStore(new SqlitePlaygroundStore(db));
    const thread = before.create();
    const question = before.addUserMessage(thread.id, 'plot it', []);
    const { item: answer } = before.addReply(thread.id, question.id, {
      ...textReply('here'),
      images: [png(10)],
    });
    const pending = before.addUpload(thread.id, {
      name: 'later.csv',
      mime: 'text/csv',
      sizeBytes: 3,
      content: Buffer.from('a,b'),
    });
    before.setProgress(thread.id, question.id, 'still running');
    db.close();

    const after = new ThreadStore(new SqlitePlaygroundStore(sqliteDatabase(dir).db));
    expect(after.list()).toEqual(before.list());
    expect(after.get(thread.id)).toEqual({ ...before.get(thread.id), progress: undefined });
    const image = answer.kind === 'bot' ? answer.images[0] : undefined;
    expect(after.file(image?.id ?? '')?.content.length).toBe(10);
    expect(after.takeUploads(thread.id, [pending.id])[0]?.content?.toString()).toBe('a,b');
  });
});
