import { webApi } from '@slack/bolt';

/**
 * The one place Slack's Web API errors are read (STYLE.md: library errors are translated at
 * one boundary each). Slack names its failures with short codes (`not_in_channel`,
 * `ratelimited`, `invalid_auth`); those are what a person can look up, so they are what
 * users and logs see.
 */
export function slackErrorCode(error: unknown): string {
  if (error instanceof webApi.WebAPIPlatformError) return error.data.error;
  if (error instanceof webApi.WebAPIRateLimitedError) return 'ratelimited';
  if (error instanceof webApi.WebAPIHTTPError) return `http_${error.statusCode}`;
  if (error instanceof webApi.WebAPIRequestError) return 'request_failed';
  if (error instanceof Error && error.message.startsWith('A rate limit was exceeded')) {
    return 'ratelimited';
  }
  if (error instanceof Error && error.message.startsWith('Failed to upload file')) {
    return 'upload_failed';
  }
  return 'unexpected_error';
}

/** Errors that say the bot cannot post where it was asked: it must be invited first. */
export function isNotInChannel(error: unknown): boolean {
  const code = slackErrorCode(error);
  return code === 'not_in_channel' || code === 'channel_not_found';
}
