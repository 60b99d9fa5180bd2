import type { Config } from '../core/config.ts';
import { usageConfig } from './usage-settings.ts';
import { SETTINGS, SETTING_NAMES, type RawSettings, type SettingName } from './schema.ts';

/** One bad setting: its name and what was expected. The value is never included. */
export interface ConfigProblem {
  readonly setting: SettingName;
  readonly expected: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export type Environment = Readonly<Record<string, string | undefined>>;

/** Values are trimmed and an empty string counts as unset, so `FOO=` in .env means "default". */
function normalise(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function parseConfig(env: Environment): ConfigResult {
  const problems: ConfigProblem[] = [];
  const raw: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const setting = SETTINGS[name];
    const value = normalise(env[name]);
    const result = setting.schema.optional().safeParse(value);
    if (result.success) raw[name] = result.data;
    else problems.push({ setting: name, expected: setting.expected });
  }
  const settings = raw as RawSettings;
  problems.push(...crossChecks(settings, problems));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: toConfig(settings) };
}

/** Rules that span settings; skipped for settings that are already reported as bad. */
function crossChecks(s: RawSettings, already: readonly ConfigProblem[]): ConfigProblem[] {
  const bad = new Set(already.map((p) => p.setting));
  const out: ConfigProblem[] = [];
  const slackTransport = s.SLACK_APP_TOKEN ?? s.SLACK_SIGNING_SECRET;
  if (s.SLACK_BOT_TOKEN !== undefined && slackTransport === undefined) {
    if (!bad.has('SLACK_APP_TOKEN') && !bad.has('SLACK_SIGNING_SECRET')) {
      out.push({
        setting: 'SLACK_APP_TOKEN',
        expected:
          'set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events) next to SLACK_BOT_TOKEN',
      });
    }
  }
  if (
    s.SLACK_BOT_TOKEN === undefined &&
    slackTransport !== undefined &&
    !bad.has('SLACK_BOT_TOKEN')
  ) {
    out.push({
      setting: 'SLACK_BOT_TOKEN',
      expected: 'a Slack bot token starting with xoxb- (the other Slack settings need it)',
    });
  }
  // Split roles hand turns from one process to another: only a shared store can do that.
  const splitRole = s.BOT_ROLE === 'ingress' || s.BOT_ROLE === 'turns';
  if (splitRole && s.REDIS_URL === undefined && !bad.has('REDIS_URL')) {
    out.push({
      setting: 'BOT_ROLE',
      expected:
        'all without REDIS_URL: BOT_ROLE=ingress and BOT_ROLE=turns processes hand turns to each other through Redis, so set REDIS_URL',
    });
  }
  return out;
}

function toConfig(s: RawSettings): Config {
  return {
    openai: { apiKey: s.OPENAI_API_KEY, baseUrl: s.OPENAI_BASE_URL, model: s.OPENAI_MODEL },
    redisUrl: s.REDIS_URL,
    redisPrefix: s.REDIS_PREFIX,
    dataDir: s.SANDBOT_DATA_DIR,
    role: s.BOT_ROLE,
    sandbox: sandboxConfig(s),
    packages: packageConfig(s),
    sessionIdleMs: s.SESSION_IDLE_MINUTES * 60_000,
    checkpoints: {
      maxBytes: s.SANDBOX_CHECKPOINT_MB * 1024 * 1024,
      idleMs: s.SANDBOX_CHECKPOINT_IDLE_S * 1000,
      totalBytes: s.SANDBOX_CHECKPOINT_TOTAL_MB * 1024 * 1024,
    },
    agent: {
      maxSteps: s.AGENT_MAX_STEPS,
      turnTimeoutMs: s.AGENT_TURN_TIMEOUT_S * 1000,
      maxAttachmentBytes: s.MAX_ATTACHMENT_MB * 1024 * 1024,
      maxAttachments: s.MAX_ATTACHMENTS,
      vision: s.MODEL_VISION,
      contextTokens: s.MODEL_CONTEXT_TOKENS,
      ...(s.MODEL_TEMPERATURE === undefined ? {} : { temperature: s.MODEL_TEMPERATURE }),
      ...(s.MODEL_MAX_TOKENS === undefined ? {} : { maxTokens: s.MODEL_MAX_TOKENS }),
      ...(s.SYSTEM_PROMPT_FILE === undefined ? {} : { systemPromptExtra: s.SYSTEM_PROMPT_FILE }),
    },
    policy: {
      allowedUsers: splitList(s.ALLOWED_USERS),
      allowedChannels: splitList(s.ALLOWED_CHANNELS),
      userRatePerMinute: s.USER_RATE_PER_MINUTE,
      ...(s.PACKAGE_APPROVERS === undefined
        ? {}
        : { packageApprovers: splitList(s.PACKAGE_APPROVERS) ?? [] }),
      packageApprovalTimeoutMs: s.PACKAGE_APPROVAL_TIMEOUT_MINUTES * 60_000,
    },
    worker: { id: s.WORKER_ID, concurrency: s.WORKER_CONCURRENCY, metricsPort: s.METRICS_PORT },
    slack: {
      botToken: s.SLACK_BOT_TOKEN,
      appToken: s.SLACK_APP_TOKEN,
      signingSecret: s.SLACK_SIGNING_SECRET,
      apiUrl: s.SLACK_API_URL,
      streaming: s.SLACK_STREAMING,
    },
    discord: {
      token: s.DISCORD_TOKEN,
      appId: s.DISCORD_APP_ID,
      apiUrl: s.DISCORD_API_URL,
      guildId: s.DISCORD_GUILD_ID,
    },
    http: { host: s.HTTP_HOST, port: s.HTTP_PORT },
    allowBotMessages: s.ALLOW_BOT_MESSAGES === 'true',
    playground: { mode: s.PLAYGROUND, token: s.PLAYGROUND_TOKEN },
    log: { level: s.LOG_LEVEL, format: s.LOG_FORMAT },
    usage: usageConfig(s),
  };
}

function sandboxConfig(s: RawSettings): Config['sandbox'] {
  return {
    image: s.SANDBOX_IMAGE,
    runtime: s.SANDBOX_RUNTIME,
    memoryMb: s.SANDBOX_MEMORY_MB,
    cpus: s.SANDBOX_CPUS,
    diskMb: s.SANDBOX_DISK_MB,
    tmpMb: s.SANDBOX_TMP_MB,
    pidsLimit: s.SANDBOX_PIDS_LIMIT,
    cellTimeoutMs: s.SANDBOX_CELL_TIMEOUT_S * 1000,
    outputLimitBytes: s.SANDBOX_OUTPUT_LIMIT_KB * 1024,
    maxFileBytes: s.SANDBOX_MAX_FILE_MB * 1024 * 1024,
    maxFiles: s.SANDBOX_MAX_FILES,
    poolSize: s.SANDBOX_POOL_SIZE,
    poolMax: s.SANDBOX_POOL_MAX,
    maxLifetimeMs: s.SANDBOX_MAX_LIFETIME_S * 1000,
  };
}

function packageConfig(s: RawSettings): Config['packages'] {
  if (s.SANDBOX_PACKAGE_INDEX === undefined) return undefined;
  return {
    indexUrl: s.SANDBOX_PACKAGE_INDEX,
    allow: splitList(s.SANDBOX_PACKAGES) ?? [],
    maxWheelBytes: s.SANDBOX_PACKAGE_MAX_MB * 1024 * 1024,
    maxTotalBytes: s.SANDBOX_PACKAGE_TOTAL_MB * 1024 * 1024,
  };
}

function splitList(value: string | undefined): string[] | undefined {
  return value?.split(',').map((item) => item.trim());
}

/** The lines printed when start-up stops on bad settings: one per setting, no values. */
export function formatProblems(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${p.setting}: expected ${p.expected}`);
}

/** The environment with every named bad setting removed, so defaults apply (for `doctor`). */
export function withoutSettings(env: Environment, names: readonly SettingName[]): Environment {
  const copy: Record<string, string | undefined> = { ...env };
  for (const name of names) copy[name] = undefined;
  return copy;
}
