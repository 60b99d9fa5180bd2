import { DiscordAPIError, HTTPError, RESTJSONErrorCodes } from 'discord.js';

/**
 * Discord's refusals that users should hear about, told apart by Discord's stable error
 * codes: the one place the adapter interprets discord.js errors.
 */
export type Refusal = 'missing-permissions' | 'too-large';

export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof DiscordAPIError)) return undefined;
  if (error.code === RESTJSONErrorCodes.MissingPermissions) return 'missing-permissions';
  if (error.code === RESTJSONErrorCodes.RequestEntityTooLarge || error.status === 413) {
    return 'too-large';
  }
  return undefined;
}

/**
 * Log fields for an error. Discord's API errors are described in one line without their URL's
 * interaction token (valid for 15 minutes, so a secret while it lives); anything else keeps
 * its stack.
 */
export function errorFields(error: unknown): { detail: string } | { err: unknown } {
  // HTTPError (5xx) carries the same URL, and the request body with the files' bytes.
  if (!(error instanceof DiscordAPIError) && !(error instanceof HTTPError)) return { err: error };
  const url = error.url.replace(/\/(interactions|webhooks)\/(\d+)\/[^/?]+/, '/$1/$2/…');
  const code = error instanceof DiscordAPIError ? ` ${String(error.code)}` : '';
  return {
    detail: `${error.method.toUpperCase()} ${url}: ${error.status}${code} ${error.message}`,
  };
}

/** What leaves the adapter toward the core (which logs it whole): no interaction tokens. */
export function withoutTokens(error: unknown): unknown {
  const fields = errorFields(error);
  return 'detail' in fields ? new Error(`Discord refused: ${fields.detail}`) : error;
}
