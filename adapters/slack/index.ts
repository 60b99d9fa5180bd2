import type { AdapterFactory } from '../../src/conversation/chat-adapter.ts';

/** Placeholder until the slack adapter lands. */
export const createSlackAdapter: AdapterFactory = () => {
  throw new Error('the slack adapter is not built yet');
};
