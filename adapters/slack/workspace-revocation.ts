import type { App } from '@slack/bolt';
import type { Logger } from '../../src/logging/logger.ts';

type Fields = Readonly<Record<string, unknown>>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null;
const idOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * The workspace a request came from, whatever its kind: `team_id` on events and slash
 * commands, `team.id` on interactions (shortcuts, buttons, modals), else the user's team.
 */
export function teamOfRequest(body: Fields): string | undefined {
  const team = isFields(body.team) ? body.team : {};
  const user = isFields(body.user) ? body.user : {};
  const view = isFields(body.view) ? body.view : {};
  return idOf(body.team_id) ?? idOf(team.id) ?? idOf(user.team_id) ?? idOf(view.team_id);
}

/**
 * `app_uninstalled` and `tokens_revoked` (of the bot token): the workspace is stopped, so
 * nothing more is taken from it (no turn, no Home tab, no shortcut), logged at warn, while
 * the process keeps serving the others. A global middleware drops its requests (acking the
 * ones that want an ack, so Slack does not retry them). Kept in memory only: a restart
 * forgets it, which is harmless because Slack stops sending that workspace's events, and a
 * reinstall (a new token) must work again. Register first, before any other middleware.
 */
export function registerWorkspaceRevocation(app: App, logger: Logger): void {
  const revoked = new Set<string>();

  app.use(async (args) => {
    // Every kind of request passes here; read as plain fields, checked field by field.
    const body = args.body as unknown as Fields;
    const team = teamOfRequest(body);
    const event = isFields(body.event) ? body.event : {};
    if (team === undefined || !revoked.has(team) || event.type === 'app_uninstalled') {
      await args.next();
      return;
    }
    logger.warn(
      { team, request: idOf(event.type) ?? idOf(body.type) ?? idOf(body.command) },
      'Slack request from a workspace that uninstalled the app or revoked its token; ignored',
    );
    // Commands and interactions want an ack within 3 s (events were acked by Bolt already).
    if ('ack' in args && typeof args.ack === 'function') await args.ack();
  });

  app.event('app_uninstalled', async ({ body }) => {
    stop(body.team_id, 'app_uninstalled');
    await Promise.resolve();
  });
  app.event('tokens_revoked', async ({ event, body }) => {
    // Only the bot token matters: sandbot holds no user tokens.
    if ((event.tokens.bot ?? []).length > 0) stop(body.team_id, 'tokens_revoked');
    else logger.info({ team: body.team_id }, 'Slack revoked user tokens only; nothing to stop');
    await Promise.resolve();
  });

  function stop(team: string, reason: string): void {
    if (revoked.has(team)) return;
    revoked.add(team);
    logger.warn(
      { team, reason },
      'Slack workspace stopped: no new turns from it until the app is installed again and sandbot restarted',
    );
  }
}
