import { webApi } from '@slack/bolt';
import type { Config } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { fail, info, ok, warn, type CheckResult } from '../check.ts';
import { rootCause } from '../root-cause.ts';
import { manifestBotScopes } from './slack-scopes.ts';

const REINSTALL =
  'add the missing scopes (or paste adapters/slack/manifest.yml) at api.slack.com/apps → OAuth & Permissions, then reinstall the app to the workspace';

/** The WebClient's own console logging would interleave with doctor's lines. */
const SILENT = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => undefined,
};

/**
 * Slack as the bot will meet it: `auth.test` with the bot token, the scopes Slack says it
 * granted (the `x-oauth-scopes` header) against the manifest's, and Socket Mode: the app
 * token opens a connection and Slack's `hello` arrives on it.
 */
export async function probeSlack(
  slack: Config['slack'],
  timeoutMs: number,
): Promise<CheckResult[]> {
  if (slack.botToken === undefined) return [];
  const client = (token: string) =>
    new webApi.WebClient(token, {
      ...(slack.apiUrl === undefined ? {} : { slackApiUrl: slack.apiUrl }),
      timeout: timeoutMs,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: SILENT,
    });
  const where = slack.apiUrl ?? 'slack.com/api';
  let auth: webApi.AuthTestResponse;
  try {
    auth = await client(slack.botToken).auth.test();
  } catch (error) {
    return [
      fail('Slack', `auth.test at ${where}: ${describe(error)}`, authFix(error, 'SLACK_BOT_TOKEN')),
    ];
  }
  const results = [
    ok(
      'Slack',
      `bot @${auth.user ?? '?'} (${auth.user_id ?? '?'}) in ${auth.team ?? '?'} (${auth.team_id ?? '?'})`,
    ),
    checkScopes(auth.response_metadata?.scopes),
  ];
  if (slack.appToken === undefined) {
    results.push(
      info(
        'Slack Socket Mode',
        'off: HTTP events (Slack must reach /slack/events; not checked from here)',
      ),
    );
  } else {
    results.push(await probeSocketMode(client(slack.appToken), timeoutMs));
  }
  return results;
}

function checkScopes(granted: readonly string[] | undefined): CheckResult {
  const wanted = manifestBotScopes();
  if (granted === undefined) {
    return warn('Slack scopes', 'Slack did not say which scopes the token has', REINSTALL);
  }
  const missing = wanted.filter((scope) => !granted.includes(scope));
  if (missing.length > 0) {
    return fail('Slack scopes', `the app lacks ${missing.join(', ')}`, REINSTALL);
  }
  return ok('Slack scopes', `all ${wanted.length} the bot uses are granted`);
}

async function probeSocketMode(app: webApi.WebClient, timeoutMs: number): Promise<CheckResult> {
  let url: string;
  try {
    url = (await app.apps.connections.open()).url ?? '';
  } catch (error) {
    return fail(
      'Slack Socket Mode',
      `apps.connections.open: ${describe(error)}`,
      authFix(error, 'SLACK_APP_TOKEN'),
    );
  }
  try {
    await awaitHello(url, timeoutMs);
    return ok('Slack Socket Mode', 'connected, and Slack said hello');
  } catch (error) {
    return fail(
      'Slack Socket Mode',
      `could not open the WebSocket Slack gave (${errorMessage(error)})`,
      'allow outgoing WebSocket (wss://) connections to *.slack.com through the firewall or proxy',
    );
  }
}

/**
 * Opens the Socket Mode WebSocket, waits for `hello`, and closes it again. While a bot runs,
 * Slack may hand this connection an event in those few milliseconds; unacknowledged, Slack
 * redelivers it, and the bot dedupes redeliveries.
 */
function awaitHello(url: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(
      () => finish(new Error(`no hello within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.close();
      if (error === undefined) resolve();
      else reject(error);
    };
    socket.addEventListener('message', (event) => {
      try {
        const type = (JSON.parse(String(event.data)) as { type?: unknown }).type;
        if (type === 'hello') finish();
      } catch {
        finish(new Error('Slack sent something that is not JSON'));
      }
    });
    socket.addEventListener('error', () => finish(new Error('connection failed')));
    socket.addEventListener('close', (event) => finish(new Error(`closed (${event.code})`)));
  });
}

/** Slack's error code, or what could not be reached. */
function describe(error: unknown): string {
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return `Slack answered ${data.error}`;
  return `could not reach Slack (${rootCause(error)})`;
}

function authFix(error: unknown, setting: string): string {
  const code = (error as { data?: { error?: unknown } }).data?.error;
  if (
    code === 'invalid_auth' ||
    code === 'not_authed' ||
    code === 'account_inactive' ||
    code === 'token_revoked'
  ) {
    return setting === 'SLACK_BOT_TOKEN'
      ? 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, and reinstall the app if it was revoked'
      : 'set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write, from Basic Information → App-Level Tokens';
  }
  return 'check the network path to Slack (proxy, firewall) and SLACK_API_URL if set';
}
