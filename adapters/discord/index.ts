import type { AdapterFactory } from '../../src/conversation/chat-adapter.ts';

/** Placeholder until the discord adapter lands. */
export const createDiscordAdapter: AdapterFactory = () => {
  throw new Error('the discord adapter is not built yet');
};
