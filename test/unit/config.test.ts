import { describe, expect, it } from 'vitest';
import { formatProblems, parseConfig, type Environment } from '../../src/config/config.ts';
import { SETTING_NAMES } from '../../src/config/schema.ts';

function problemsOf(env: Environment): string[] {
  const result = parseConfig(env);
  if (result.ok) return [];
  return formatProblems(result.problems);
}

describe('configuration', () => {
  it('starts with nothing set: embedded mode, playground defaults, no platforms', () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.redisUrl).toBeUndefined();
    expect(config.sandbox.image).toBe('sandbot-sandbox:latest');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(config.sandbox.cellTimeoutMs).toBe(120_000);
    expect(config.sessionIdleMs).toBe(30 * 60_000);
    expect(config.slack.botToken).toBeUndefined();
    expect(config.discord.token).toBeUndefined();
    expect(config.log.level).toBe('info');
  });

  it('reads package approvers as ALLOWED_USERS entries, with a timeout in ms', () => {
    const result = parseConfig({
      PACKAGE_APPROVERS: 'slack:U1, discord:role:123456789012345678,slack:group:S0A',
      PACKAGE_APPROVAL_TIMEOUT_MINUTES: '5',
    });
    expect(result.ok && result.config.policy).toMatchObject({
      packageApprovers: ['slack:U1', 'discord:role:123456789012345678', 'slack:group:S0A'],
      packageApprovalTimeoutMs: 5 * 60_000,
    });
    const unset = parseConfig({});
    expect(unset.ok && unset.config.policy.packageApprovers).toBeUndefined();
    expect(unset.ok && unset.config.policy.packageApprovalTimeoutMs).toBe(10 * 60_000);
  });

  it('converts units into the names the code uses', () => {
    const result = parseConfig({
      SANDBOX_CELL_TIMEOUT_S: '30',
      SANDBOX_OUTPUT_LIMIT_KB: '64',
      SANDBOX_MAX_FILE_MB: '2',
      SESSION_IDLE_MINUTES: '5',
      SANDBOX_CPUS: '0.5',
    });
    expect(result.ok && result.config.sandbox.cellTimeoutMs).toBe(30_000);
    expect(result.ok && result.config.sandbox.outputLimitBytes).toBe(64 * 1024);
    expect(result.ok && result.config.sandbox.maxFileBytes).toBe(2 * 1024 * 1024);
    expect(result.ok && result.config.sessionIdleMs).toBe(5 * 60_000);
    expect(result.ok && result.config.sandbox.cpus).toBe(0.5);
  });

  it('trims values and treats empty ones as unset', () => {
    const result = parseConfig({ HTTP_PORT: ' 8080 ', REDIS_URL: '   ', OPENAI_MODEL: '' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.http.port).toBe(8080);
    expect(result.config.redisUrl).toBeUndefined();
    expect(result.config.openai.model).toBe('gpt-4o-mini');
  });

  it('accepts a full, valid platform configuration', () => {
    const result = parseConfig({
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: 'http://localhost:11434/v1',
      REDIS_URL: 'redis://localhost:6379/0',
      SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
      SLACK_APP_TOKEN: 'xapp-1-A1-2-abc',
      SLACK_API_URL: 'http://127.0.0.1:9999/api/',
      DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz012345',
      DISCORD_APP_ID: '123456789012345678',
      SANDBOX_RUNTIME: 'runsc',
    });
    expect(result.ok).toBe(true);
  });

  // Every error path: each setting with a bad value, reported by name.
  const BAD_VALUES: Record<string, string> = {
    OPENAI_BASE_URL: 'not a url',
    REDIS_URL: 'http://localhost:6379',
    SANDBOX_IMAGE: 'Bad Image!',
    SANDBOX_RUNTIME: 'run sc',
    SANDBOX_MEMORY_MB: '64',
    SANDBOX_CPUS: '0.01',
    SANDBOX_DISK_MB: 'lots',
    SANDBOX_TMP_MB: '-1',
    SANDBOX_PIDS_LIMIT: '1.5',
    SANDBOX_CELL_TIMEOUT_S: '-5',
    SANDBOX_OUTPUT_LIMIT_KB: 'plenty',
    SANDBOX_MAX_FILE_MB: '99999',
    SANDBOX_MAX_FILES: '-3',
    SANDBOX_POOL_SIZE: '1000',
    SESSION_IDLE_MINUTES: 'forever',
    SANDBOX_MAX_LIFETIME_S: 'a week',
    SLACK_BOT_TOKEN: 'xoxp-user-token',
    SLACK_APP_TOKEN: 'xoxb-wrong-kind',
    SLACK_SIGNING_SECRET: 'short',
    SLACK_API_URL: 'ftp://example',
    SLACK_STREAMING: 'always',
    SANDBOX_POOL_MAX: 'lots',
    SANDBOX_CHECKPOINT_MB: '500',
    SANDBOX_CHECKPOINT_IDLE_S: 'soon',
    SANDBOX_CHECKPOINT_TOTAL_MB: 'lots',
    DISCORD_TOKEN: 'not-a-token',
    DISCORD_APP_ID: 'abc',
    DISCORD_API_URL: 'nope',
    HTTP_PORT: '70000',
    LOG_LEVEL: 'loud',
    LOG_FORMAT: 'xml',
    ALLOW_BOT_MESSAGES: 'yes',
    DISCORD_GUILD_ID: 'my-server',
    PLAYGROUND: 'sometimes',
    MODEL_VISION: 'sometimes',
    PLAYGROUND_TOKEN: 'short',
    WORKER_ID: 'two words',
    AGENT_MAX_STEPS: 'lots',
    AGENT_TURN_TIMEOUT_S: '5',
    MAX_ATTACHMENT_MB: '-1',
    MAX_ATTACHMENTS: '1000',
    ALLOWED_USERS: 'U123',
    ALLOWED_CHANNELS: 'slack C1',
    USER_RATE_PER_MINUTE: 'many',
    REDIS_PREFIX: 'has space',
    SANDBOT_DATA_DIR: 'data\tdir',
    WORKER_CONCURRENCY: '0',
    METRICS_PORT: '99999',
    BOT_ROLE: 'gateway',
    SYSTEM_PROMPT_FILE: '/nonexistent/sandbot-prompt.txt',
    MODEL_TEMPERATURE: '2.5',
    MODEL_MAX_TOKENS: 'lots',
    MODEL_CONTEXT_TOKENS: 'huge',
    MODEL_PRICES: 'gpt-4o-mini=cheap',
    PRICE_CURRENCY: 'dollars',
    USAGE_TIME_ZONE: 'Mars/Olympus_Mons',
    AUDIT_LOG: 'audit\nlog',
    AUDIT_LOG_MAX_MB: 'huge',
    BUDGET_ADMINS: 'U123',
    BUDGET_USER_TOKENS: 'lots',
    BUDGET_USER_CELLS: '-1',
    BUDGET_USER_CPU_SECONDS: '1.5',
    BUDGET_CHANNEL_TOKENS: 'none',
    BUDGET_CHANNEL_CELLS: 'many',
    BUDGET_CHANNEL_CPU_SECONDS: 'forever',
    BUDGET_WORKSPACE_TOKENS: 'plenty',
    BUDGET_WORKSPACE_CELLS: 'eleventy',
    BUDGET_WORKSPACE_CPU_SECONDS: 'sometimes',
    SANDBOX_PACKAGE_INDEX: 'file:///srv/wheels',
    SANDBOX_PACKAGES: 'numpy; rm -rf',
    SANDBOX_PACKAGE_MAX_MB: 'big',
    SANDBOX_PACKAGE_TOTAL_MB: 'none',
    PACKAGE_APPROVERS: 'U123',
    PACKAGE_APPROVAL_TIMEOUT_MINUTES: 'forever',
  };

  for (const [name, value] of Object.entries(BAD_VALUES)) {
    it(`rejects a bad ${name} by name, without echoing the value`, () => {
      const env: Record<string, string> = { [name]: value };
      // Slack settings come in pairs; give the partner so only the bad one is reported.
      if (name.startsWith('SLACK_') && name !== 'SLACK_BOT_TOKEN') env.SLACK_BOT_TOKEN = 'xoxb-1-2';
      if (name === 'SLACK_API_URL' || name === 'SLACK_STREAMING') env.SLACK_APP_TOKEN = 'xapp-1-2';
      if (name === 'SLACK_BOT_TOKEN') env.SLACK_APP_TOKEN = 'xapp-1-2';
      const lines = problemsOf(env);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${name}: expected `));
      expect(lines[0]).not.toContain(value);
    });
  }

  it('has a bad-value case for every setting that can be wrong', () => {
    const alwaysValid = ['OPENAI_API_KEY', 'OPENAI_MODEL', 'HTTP_HOST'];
    const untested = SETTING_NAMES.filter((n) => !(n in BAD_VALUES) && !alwaysValid.includes(n));
    expect(untested).toEqual([]);
  });

  it('reports every bad setting at once, one line each', () => {
    const lines = problemsOf({ HTTP_PORT: 'x', LOG_LEVEL: 'y', SANDBOX_CPUS: 'z' });
    expect(lines.map((l) => l.split(':')[0])).toEqual(['SANDBOX_CPUS', 'HTTP_PORT', 'LOG_LEVEL']);
  });

  it('never echoes a secret, even in a cross-setting problem', () => {
    const secret = 'xoxb-very-secret-token-1234';
    const lines = problemsOf({ SLACK_BOT_TOKEN: secret });
    expect(lines).toEqual([
      'SLACK_APP_TOKEN: expected set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events) next to SLACK_BOT_TOKEN',
    ]);
    expect(lines.join('\n')).not.toContain(secret);
  });

  it('needs the bot token when another Slack setting is given', () => {
    expect(problemsOf({ SLACK_APP_TOKEN: 'xapp-1-2' })).toEqual([
      'SLACK_BOT_TOKEN: expected a Slack bot token starting with xoxb- (the other Slack settings need it)',
    ]);
  });

  it('accepts Slack over HTTP events with a signing secret instead of an app token', () => {
    const result = parseConfig({
      SLACK_BOT_TOKEN: 'xoxb-1-2',
      SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
    });
    expect(result.ok).toBe(true);
  });

  describe('packages (issue 18)', () => {
    it('are off without SANDBOX_PACKAGE_INDEX, whatever the allowlist says', () => {
      const result = parseConfig({ SANDBOX_PACKAGES: '*' });
      expect(result.ok && result.config.packages).toBeUndefined();
    });

    it('take the index, the allowlist with its pins, and the caps in bytes', () => {
      const result = parseConfig({
        SANDBOX_PACKAGE_INDEX: 'http://devpi.internal:3141/root/pypi/+simple/',
        SANDBOX_PACKAGES: 'tabulate, tinytable==1.2,Some_Name>=2.0',
        SANDBOX_PACKAGE_MAX_MB: '10',
      });
      expect(result.ok && result.config.packages).toEqual({
        indexUrl: 'http://devpi.internal:3141/root/pypi/+simple/',
        allow: ['tabulate', 'tinytable==1.2', 'Some_Name>=2.0'],
        maxWheelBytes: 10 * 1024 * 1024,
        maxTotalBytes: 100 * 1024 * 1024,
      });
    });

    it('allow nothing when the index is set but the allowlist is not', () => {
      const result = parseConfig({ SANDBOX_PACKAGE_INDEX: 'http://127.0.0.1:8080/simple/' });
      expect(result.ok && result.config.packages?.allow).toEqual([]);
    });
  });

  describe('BOT_ROLE', () => {
    it('runs both the ingress and the turns by default', () => {
      const result = parseConfig({});
      expect(result.ok && result.config.role).toBe('all');
    });

    it.each(['ingress', 'turns'] as const)('accepts %s with REDIS_URL', (role) => {
      const result = parseConfig({ BOT_ROLE: role, REDIS_URL: 'redis://127.0.0.1:6379' });
      expect(result.ok && result.config.role).toBe(role);
    });

    it.each(['ingress', 'turns'])('refuses %s without REDIS_URL, naming both', (role) => {
      const lines = problemsOf({ BOT_ROLE: role });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^BOT_ROLE: expected .*REDIS_URL/);
    });

    it('reports only the bad REDIS_URL when a split role is given a bad one', () => {
      const lines = problemsOf({ BOT_ROLE: 'turns', REDIS_URL: 'http://localhost:6379' });
      expect(lines.map((l) => l.split(':')[0])).toEqual(['REDIS_URL']);
    });
  });
});
