/**
 * The Slack manifest against what the adapter's code really does: every Web API method it
 * calls needs a scope the manifest asks for, every event it handles a subscription, every
 * shortcut it answers a declaration; and the manifest asks for nothing the code does not use.
 * The calls and handlers are read from adapters/slack's source, so a new call without its
 * scope, or a handler without its subscription, fails here before a workspace refuses it.
 * Scopes per method are Slack's reference (docs.slack.dev/reference/methods).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ANALYZE_MESSAGE_CALLBACK_ID } from '../../adapters/slack/analyze-message-shortcut.ts';
import { NEW_ANALYSIS_CALLBACK_ID } from '../../adapters/slack/new-analysis-shortcut.ts';

const DIR = 'adapters/slack';

/** Bot scopes each Web API method needs (any one of a list); [] for none. */
const METHOD_SCOPES: Readonly<Record<string, readonly string[]>> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.delete': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.startStream': ['chat:write'],
  'chat.appendStream': ['chat:write'],
  'chat.stopStream': ['chat:write'],
  'chat.getPermalink': [],
  'reactions.add': ['reactions:write'],
  'reactions.remove': ['reactions:write'],
  'files.info': ['files:read'],
  // files.uploadV2 is the SDK's getUploadURLExternal + completeUploadExternal.
  'files.uploadV2': ['files:write'],
  'users.info': ['users:read'],
  'usergroups.users.list': ['usergroups:read'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history', 'mpim:history'],
  'conversations.open': ['im:write'],
  'assistant.threads.setStatus': ['assistant:write'],
  'assistant.threads.setSuggestedPrompts': ['assistant:write'],
  'assistant.threads.setTitle': ['assistant:write'],
  'views.publish': [],
  'views.open': [],
};

/** Events whose handler is for apps made from an older manifest (kept working on purpose). */
const LEGACY_EVENTS = ['assistant_thread_started', 'assistant_thread_context_changed'];

interface Manifest {
  features: { shortcuts?: { callback_id: string; type: string }[]; app_home?: object };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] } };
}

const manifest = parse(readFileSync(join(DIR, 'manifest.yml'), 'utf8')) as Manifest;
const scopes = manifest.oauth_config.scopes.bot;
const events = manifest.settings.event_subscriptions.bot_events;
const source = readdirSync(DIR)
  .filter((name) => name.endsWith('.ts'))
  .map((name) => readFileSync(join(DIR, name), 'utf8'))
  .join('\n');

/** `client.chat.postMessage(`, also written across lines (`client.reactions\n  .remove(`). */
function calledMethods(): string[] {
  const namespaces = 'chat|reactions|files|users|usergroups|conversations|assistant|views';
  const call = new RegExp(
    `\\.(${namespaces})((?:\\s*\\.\\s*[a-zA-Z0-9]+){1,2})\\s*(?:<[^>]*>)?\\(`,
    'g',
  );
  const found = new Set<string>();
  for (const match of source.matchAll(call)) {
    const method = `${match[1] ?? ''}${(match[2] ?? '').replace(/\s+/g, '')}`;
    // Array methods on a field named like a namespace (message.files.map) are not API calls.
    if (/\.(map|flatMap|filter|some|find|attachments|fetchById|length)$/.test(method)) continue;
    found.add(method);
  }
  return [...found].sort();
}

describe('the Slack manifest matches the code', () => {
  it('knows the scope of every Web API method the adapter calls', () => {
    const methods = calledMethods();
    expect(methods.length).toBeGreaterThan(10);
    expect(methods.filter((m) => METHOD_SCOPES[m] === undefined)).toEqual([]);
  });

  it('asks for a scope for every call, and for no scope the code does not use', () => {
    const methods = calledMethods();
    const missing = methods.filter((m) => {
      const needed = METHOD_SCOPES[m] ?? [];
      return needed.length > 0 && !needed.some((scope) => scopes.includes(scope));
    });
    expect(missing).toEqual([]);
    // Scopes not tied to a Web API call: events, commands, and what every history scope covers.
    const byEvents = [
      'app_mentions:read',
      'channels:history',
      'groups:history',
      'im:history',
      'mpim:history',
      'commands',
    ];
    const used = new Set([...methods.flatMap((m) => METHOD_SCOPES[m] ?? []), ...byEvents]);
    expect(scopes.filter((scope) => !used.has(scope))).toEqual([]);
  });

  it('subscribes to every event the adapter handles', () => {
    const handled = [...source.matchAll(/app\.event\(\s*'([a-z_]+)'/g)].map((m) => m[1] ?? '');
    expect(handled.length).toBeGreaterThan(3);
    const subscribed = (event: string) =>
      event === 'message'
        ? ['message.channels', 'message.groups', 'message.im', 'message.mpim'].every((e) =>
            events.includes(e),
          )
        : events.includes(event);
    expect(handled.filter((event) => !subscribed(event))).toEqual([]);
    // And handles every event it subscribes to (message.* by the message handler).
    const orphans = events.filter(
      (event) => !event.startsWith('message.') && !handled.includes(event),
    );
    expect(orphans).toEqual([]);
    expect(LEGACY_EVENTS.filter((event) => events.includes(event))).toEqual([]);
  });

  it('declares every shortcut the adapter answers', () => {
    const declared = (manifest.features.shortcuts ?? []).map((s) => `${s.type}:${s.callback_id}`);
    expect(declared.sort()).toEqual(
      [`global:${NEW_ANALYSIS_CALLBACK_ID}`, `message:${ANALYZE_MESSAGE_CALLBACK_ID}`].sort(),
    );
    expect(source.match(/app\.shortcut/g)).toHaveLength(2);
  });
});
