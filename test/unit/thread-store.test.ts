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
  it('forgets the oldest files beyond its byte budget, keeping the messages', async () => {
    const store = new ThreadStore(makeStore(250));
    const thread = await store.create();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { item: question } = await store.addUserMessage(thread.id, `plot ${i}`, []);
      const added = await store.addReply(thread.id, question.id, {
        ...textReply(`plot ${i}`),
        images: [png(100)],
      });
      if (added?.item.kind === 'bot') ids.push(added.item.images[0]?.id ?? '');
    }
    expect(await store.file(ids[0] ?? '')).toBeUndefined();
    expect((await store.file(ids[1] ?? ''))?.content.length).toBe(100);
    expect((await store.file(ids[2] ?? ''))?.content.length).toBe(100);
    expect((await store.get(thread.id))?.items).toHaveLength(6);
  });

  it('hands a pending upload to the next message of its own thread only', async () => {
    const store = new ThreadStore(makeStore());
    const a = await store.create();
    const b = await store.create();
    const upload = await store.addUpload(a.id, {
      name: 'd.csv',
      mime: 'text/csv',
      sizeBytes: 3,
      content: Buffer.from('1,2'),
    });
    expect(await store.takeUploads(b.id, [upload.id])).toEqual([]);
    expect(await store.takeUploads(a.id, [upload.id])).toHaveLength(1);
    expect(await store.takeUploads(a.id, [upload.id])).toEqual([]);
  });
});

describe('the playground thread store on SQLite', () => {
  it('lists the threads, their messages, answers, files and uploads after a restart', async () => {
    const { dir, db } = sqliteDatabase();
    const before = new ThreadStore(new SqlitePlaygroundStore(db));
    const thread = await before.create();
    const { item: question } = await before.addUserMessage(thread.id, 'plot it', []);
    const added = await before.addReply(thread.id, question.id, {
      ...textReply('here'),
      images: [png(10)],
    });
    const pending = await before.addUpload(thread.id, {
      name: 'later.csv',
      mime: 'text/csv',
      sizeBytes: 3,
      content: Buffer.from('a,b'),
    });
    const { item: second } = await before.addUserMessage(thread.id, 'and again', []);
    await before.setProgress(thread.id, second.id, 'still running');
    const listed = await before.list();
    const viewed = await before.get(thread.id);
    expect(viewed?.progress).toBe('still running');
    db.close();

    const after = new ThreadStore(new SqlitePlaygroundStore(sqliteDatabase(dir).db));
    expect(await after.list()).toEqual(listed);
    expect(await after.get(thread.id)).toEqual({ ...viewed, progress: undefined });
    const image = added?.item.kind === 'bot' ? added.item.images[0] : undefined;
    expect((await after.file(image?.id ?? ''))?.content.length).toBe(10);
    expect((await after.takeUploads(thread.id, [pending.id]))[0]?.content?.toString()).toBe('a,b');
  });
});
