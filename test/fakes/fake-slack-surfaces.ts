/**
 * The fake Slack's surfaces beyond messages: the Home tab (`views.publish`), modals
 * (`views.open`, with single-use trigger ids), DMs with the bot (`conversations.open`) and
 * message links (`chat.getPermalink`). Checked as Slack checks them: a view's `type` must
 * fit the method (`home` / `modal`), at most 100 blocks, a modal's title at most 24
 * characters, a trigger id used once (`exchanged_trigger_id` after), a permalink only for a
 * message the workspace has (`message_not_found`).
 */
import { blocksProblem } from './fake-slack-blocks.ts';
import type { Args } from './fake-slack-body.ts';
import type { ApiAnswer, FakeMessage, FakeSlackIds } from './fake-slack-workspace.ts';

export interface PublishedView {
  readonly userId: string;
  readonly view: Record<string, unknown>;
}

export interface OpenedModal {
  readonly triggerId: string;
  /** The view as opened, with the `id` the fake gave it. */
  readonly view: Record<string, unknown> & { readonly id: string };
}

const METHODS = new Set(['views.publish', 'views.open', 'conversations.open', 'chat.getPermalink']);

const ok = (fields: Record<string, unknown> = {}): ApiAnswer => ({
  status: 200,
  body: { ok: true, ...fields },
});
const refuse = (error: string): ApiAnswer => ({ status: 200, body: { ok: false, error } });

export class FakeSlackSurfaces {
  /** Every views.publish that Slack accepted, in order. */
  readonly published: PublishedView[] = [];
  readonly modals: OpenedModal[] = [];
  /** conversations.open: the DM channel id of each person. */
  readonly dms = new Map<string, string>();
  private readonly usedTriggers = new Set<string>();
  private readonly ids: FakeSlackIds;
  private readonly messages: () => readonly FakeMessage[];
  private viewCounter = 0;

  constructor(ids: FakeSlackIds, messages: () => readonly FakeMessage[]) {
    this.ids = ids;
    this.messages = messages;
  }

  handles(method: string): boolean {
    return METHODS.has(method);
  }

  /** The last Home tab published for a person. */
  homeOf(userId: string): Record<string, unknown> | undefined {
    return this.published.findLast((p) => p.userId === userId)?.view;
  }

  /** The DM channel id conversations.open gives a person (the same each time). */
  dmOf(userId: string): string {
    const known = this.dms.get(userId);
    if (known !== undefined) return known;
    const channel = `D0${userId.replace(/^[UW]0?/, '')}DM`;
    this.dms.set(userId, channel);
    return channel;
  }

  call(method: string, args: Args): ApiAnswer {
    switch (method) {
      case 'views.publish':
        return this.publish(args);
      case 'views.open':
        return this.open(args);
      case 'conversations.open':
        return this.openDm(args);
      default:
        return this.permalink(args);
    }
  }

  private publish(args: Args): ApiAnswer {
    const user = str(args.user_id);
    const view = viewOf(args.view);
    if (user === undefined || view === undefined) return refuse('invalid_arguments');
    if (view.type !== 'home') return refuse('invalid_arguments');
    const problem = viewProblem(view);
    if (problem !== undefined) return refuse(problem);
    this.published.push({ userId: user, view });
    return ok({ view: this.shaped(view) });
  }

  private open(args: Args): ApiAnswer {
    const trigger = str(args.trigger_id);
    const view = viewOf(args.view);
    if (trigger === undefined || view === undefined) return refuse('invalid_arguments');
    if (this.usedTriggers.has(trigger)) return refuse('exchanged_trigger_id');
    if (view.type !== 'modal') return refuse('invalid_arguments');
    const title = (view.title as { text?: unknown } | undefined)?.text;
    if (typeof title !== 'string' || title === '' || title.length > 24) {
      return refuse('invalid_arguments');
    }
    const problem = viewProblem(view);
    if (problem !== undefined) return refuse(problem);
    this.usedTriggers.add(trigger);
    const shaped = this.shaped(view);
    this.modals.push({ triggerId: trigger, view: shaped });
    return ok({ view: shaped });
  }

  private openDm(args: Args): ApiAnswer {
    const users = (str(args.users) ?? '').split(',').filter((u) => u !== '');
    if (users.length === 0) return refuse('users_list_not_supplied');
    // A group DM (several users) is not modelled; the bot opens one-person DMs only.
    if (users.length > 1) return refuse('not_implemented');
    const user = users[0] ?? '';
    const known = this.dms.has(user);
    return ok({
      channel: { id: this.dmOf(user) },
      ...(known ? { already_open: true } : { no_op: false }),
    });
  }

  private permalink(args: Args): ApiAnswer {
    const channel = str(args.channel);
    const ts = str(args.message_ts);
    if (channel === undefined) return refuse('channel_not_found');
    const message = this.messages().find((m) => !m.deleted && m.channel === channel && m.ts === ts);
    if (ts === undefined || message === undefined) return refuse('message_not_found');
    const base = `https://fake-workspace.slack.com/archives/${channel}/p${ts.replace('.', '')}`;
    const reply = message.threadTs !== undefined && message.threadTs !== message.ts;
    return ok({
      channel,
      permalink: reply ? `${base}?thread_ts=${message.threadTs}&cid=${channel}` : base,
    });
  }

  private shaped(view: Record<string, unknown>): Record<string, unknown> & { id: string } {
    this.viewCounter += 1;
    const id = `V0${String(this.viewCounter).padStart(8, '0')}`;
    return {
      ...view,
      id,
      team_id: this.ids.teamId,
      app_id: this.ids.appId,
      bot_id: this.ids.botId,
      app_installed_team_id: this.ids.teamId,
      root_view_id: id,
      previous_view_id: null,
      hash: `${Date.now() / 1000}.${id}`,
      state: { values: {} },
      private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
      callback_id: typeof view.callback_id === 'string' ? view.callback_id : '',
      external_id: '',
      clear_on_close: false,
      notify_on_close: false,
    };
  }
}

/** `view` arrives as a JSON string in a form body, as an object in a JSON body. */
function viewOf(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/** Views take up to 100 blocks (messages 50); each block as in messages. */
function viewProblem(view: Record<string, unknown>): string | undefined {
  const blocks = view.blocks;
  if (!Array.isArray(blocks) || blocks.length > 100) return 'invalid_blocks';
  return blocksProblem(blocks.slice(0, 50)) ?? blocksProblem(blocks.slice(50));
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
