import type { AdapterFactory } from '../../src/conversation/chat-adapter.ts';

/** Placeholder until the web adapter lands. */
export const createWebAdapter: AdapterFactory = () => {
  throw new Error('the web adapter is not built yet');
};
