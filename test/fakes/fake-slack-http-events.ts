/**
 * Slack's side of HTTP events: requests to the app's request URL signed the way Slack signs
 * them. `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed
 * with the signing secret; `X-Slack-Request-Timestamp` is that timestamp in seconds. A retry
 * carries `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`. Events are JSON; slash commands are
 * form fields; interactivity is a form with one `payload` field holding JSON.
 */
import { createHmac } from 'node:crypto';

export interface SignedPostOptions {
  readonly signingSecret: string;
  /** Seconds since the epoch; default now. An old one makes a stale request. */
  readonly timestampS?: number;
  /** Replaces the computed signature (to send a bad one). */
  readonly signature?: string;
  readonly retryNum?: number;
  readonly retryReason?: string;
}

export interface BotAnswer {
  readonly status: number;
  readonly body: string;
}

export function slackSignature(secret: string, timestampS: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampS}:${body}`).digest('hex')}`;
}

export function eventBody(payload: Record<string, unknown>): {
  body: string;
  contentType: string;
} {
  return { body: JSON.stringify(payload), contentType: 'application/json' };
}

export function commandBody(fields: Record<string, string>): { body: string; contentType: string } {
  return {
    body: new URLSearchParams(fields).toString(),
    contentType: 'application/x-www-form-urlencoded',
  };
}

export function interactionBody(payload: Record<string, unknown>): {
  body: string;
  contentType: string;
} {
  return {
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
  };
}

/** POSTs one request to the bot's request URL, signed like Slack, and returns its answer. */
export async function postSigned(
  url: string,
  request: { body: string; contentType: string },
  options: SignedPostOptions,
): Promise<BotAnswer> {
  const timestampS = options.timestampS ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': request.contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestampS),
    'x-slack-signature':
      options.signature ?? slackSignature(options.signingSecret, timestampS, request.body),
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  const response = await fetch(url, { method: 'POST', headers, body: request.body });
  return { status: response.status, body: await response.text() };
}
