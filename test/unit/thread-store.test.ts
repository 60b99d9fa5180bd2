import { describe, expect, it } from 'vitest';
import { ThreadStore } from '../../adapters/web/thread-store.ts';
import { textReply } from '../../src/core/reply.ts';

const png = (bytes: number) => ({ name: 'p.png', mime: 'image/png', content: Buffer.alloc(bytes) });

describe('the playground thread store', () => {
  it('forgets the oldest files beyond its byte budget, keeping the messages', () => {
    const store = new ThreadStore(250);
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
    const store = new ThreadStore();
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
