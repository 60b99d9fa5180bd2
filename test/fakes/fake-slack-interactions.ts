/**
 * Payloads shaped like Slack's for the Home tab, shortcuts, modals and the app's lifecycle:
 * the `app_home_opened`, `app_uninstalled` and `tokens_revoked` events (wrap them with
 * `eventCallback`), a global shortcut (`type: "shortcut"`), a message shortcut
 * (`type: "message_action"`, with the whole message and its files), and a `view_submission`
 * of a modal the bot opened. Interactions go over Socket Mode as `interactive` envelopes.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSlackIds } from './fake-slack-workspace.ts';

const triggerId = () =>
  `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomUUID().slice(0, 8)}`;
const actionTs = () => (Date.now() / 1000).toFixed(6);

export function appHomeOpened(
  ids: FakeSlackIds,
  h: { readonly user: string; readonly channel: string; readonly tab: 'home' | 'messages' },
): Record<string, unknown> {
  return {
    type: 'app_home_opened',
    user: h.user,
    channel: h.channel,
    tab: h.tab,
    event_ts: actionTs(),
    team: ids.teamId,
  };
}

export function appUninstalled(): Record<string, unknown> {
  return { type: 'app_uninstalled', event_ts: actionTs() };
}

/** `tokens`: the user ids whose tokens were revoked, by kind (bot ones for a bot token). */
export function tokensRevoked(tokens: {
  readonly oauth?: readonly string[];
  readonly bot?: readonly string[];
}): Record<string, unknown> {
  return { type: 'tokens_revoked', tokens, event_ts: actionTs() };
}

function person(ids: FakeSlackIds, user: string) {
  return { id: user, username: 'ana', name: 'ana', team_id: ids.teamId };
}

function team(ids: FakeSlackIds) {
  return { id: ids.teamId, domain: 'fake-workspace' };
}

export function globalShortcut(
  ids: FakeSlackIds,
  s: { readonly user: string; readonly callbackId: string },
): Record<string, unknown> {
  return {
    type: 'shortcut',
    token: 'verification-token-unused',
    action_ts: actionTs(),
    team: team(ids),
    user: person(ids, s.user),
    is_enterprise_install: false,
    enterprise: null,
    callback_id: s.callbackId,
    trigger_id: triggerId(),
  };
}

export function messageShortcut(
  ids: FakeSlackIds,
  s: {
    readonly user: string;
    readonly callbackId: string;
    readonly channel: string;
    readonly responseUrl: string;
    readonly message: {
      readonly user: string;
      readonly text: string;
      readonly ts: string;
      readonly threadTs?: string;
      /** From `addFile`. */
      readonly files?: readonly Record<string, unknown>[];
    };
  },
): Record<string, unknown> {
  const m = s.message;
  return {
    type: 'message_action',
    token: 'verification-token-unused',
    action_ts: actionTs(),
    team: team(ids),
    user: person(ids, s.user),
    channel: { id: s.channel, name: 'analysis' },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: s.callbackId,
    trigger_id: triggerId(),
    response_url: s.responseUrl,
    message_ts: m.ts,
    message: {
      type: 'message',
      user: m.user,
      text: m.text,
      ts: m.ts,
      team: ids.teamId,
      ...(m.threadTs === undefined ? {} : { thread_ts: m.threadTs }),
      ...(m.files === undefined ? {} : { files: m.files, upload: false, display_as_bot: false }),
    },
  };
}

/**
 * The submission of a modal the bot opened (`view` as the fake's views.open returned it),
 * with the person's input: `values[blockId][actionId]` is a plain_text_input's value.
 */
export function viewSubmission(
  ids: FakeSlackIds,
  s: {
    readonly user: string;
    readonly view: Record<string, unknown>;
    readonly values: Readonly<Record<string, Readonly<Record<string, string>>>>;
  },
): Record<string, unknown> {
  const values = Object.fromEntries(
    Object.entries(s.values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, value]) => [
          action,
          { type: 'plain_text_input', value },
        ]),
      ),
    ]),
  );
  return {
    type: 'view_submission',
    team: team(ids),
    user: person(ids, s.user),
    api_app_id: ids.appId,
    token: 'verification-token-unused',
    trigger_id: triggerId(),
    view: { ...s.view, state: { values } },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
