import type { AdapterFactory } from '../../src/core/chat-adapter.ts';
import { SlackAdapter } from './slack-adapter.ts';

/** Loaded by `sandbot start` when SLACK_BOT_TOKEN is set (see README.md in this folder). */
export const createSlackAdapter: AdapterFactory = (context) => new SlackAdapter(context);

export { SlackAdapter, type SlackAdapterOptions } from './slack-adapter.ts';
