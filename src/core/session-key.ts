/**
 * A session is one chat thread: `platform:workspace:channel:thread`. Keys are validated when
 * parsed, so a malformed one never reaches Redis keys, labels or file names.
 */
export interface SessionKey {
  readonly platform: string;
  readonly workspace: string;
  readonly channel: string;
  readonly thread: string;
}

const PLATFORM = /^[a-z][a-z0-9-]{0,19}$/;
/** Platform ids (Slack T…/C…/ts, Discord snowflakes, playground uuids) fit this. */
const PART = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export function formatSessionKey(key: SessionKey): string {
  const problem = sessionKeyProblem(key);
  if (problem !== undefined) throw new Error(`invalid session key: ${problem}`);
  return `${key.platform}:${key.workspace}:${key.channel}:${key.thread}`;
}

export function parseSessionKey(text: string): SessionKey | undefined {
  const parts = text.split(':');
  if (parts.length !== 4) return undefined;
  const [platform = '', workspace = '', channel = '', thread = ''] = parts;
  const key = { platform, workspace, channel, thread };
  return sessionKeyProblem(key) === undefined ? key : undefined;
}

function sessionKeyProblem(key: SessionKey): string | undefined {
  if (!PLATFORM.test(key.platform)) return 'platform must be a short lower-case name';
  for (const part of ['workspace', 'channel', 'thread'] as const) {
    if (!PART.test(key[part])) return `${part} must be 1 to 100 letters, digits, or . _ @ -`;
  }
  return undefined;
}
