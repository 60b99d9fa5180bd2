/**
 * Which workspaces offer Slack's streaming message API, learned from Slack's own answers: a
 * workspace (or an app without the agent features) that refuses `chat.startStream` with one
 * of these codes is not asked again by this process; its answers stream by editing the status
 * message instead. Other failures (a timeout, a rate limit) fall back for that answer only.
 */
const NOT_OFFERED = new Set([
  'unknown_method',
  'not_allowed',
  'not_allowed_token_type',
  'missing_scope',
  'feature_not_enabled',
  'method_deprecated',
  'invalid_arguments',
  'channel_type_not_supported',
]);

export class StreamSupport {
  private readonly enabled: boolean;
  private readonly refused = new Set<string>();

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  offered(team: string): boolean {
    return this.enabled && !this.refused.has(team);
  }

  /** Slack answered `code` to a stream in `team`'s workspace. */
  failed(team: string, code: string): void {
    if (NOT_OFFERED.has(code)) this.refused.add(team);
  }
}
