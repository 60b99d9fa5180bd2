import { hostname } from 'node:os';
import { z } from 'zod';
import { USAGE_SETTINGS } from './usage-settings.ts';
import { PACKAGE_APPROVAL_SETTINGS, peopleList } from './package-approval-settings.ts';
import { readPromptFile, PROMPT_FILE_MAX_BYTES } from './prompt-file.ts';

/**
 * Every setting sandbot reads, with what it expects. `expected` is the whole message a user
 * sees when a value is bad: it names what is wanted and never echoes the value, because many
 * of these are secrets.
 */
interface Setting {
  readonly schema: z.ZodType;
  readonly expected: string;
  readonly secret?: boolean;
}

const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const httpUrl = z.url({ protocol: /^https?$/ });

export const SETTINGS = {
  OPENAI_API_KEY: { schema: z.string().min(1), expected: 'an API key', secret: true },
  OPENAI_BASE_URL: {
    schema: httpUrl,
    expected: 'an http(s) URL such as http://localhost:11434/v1',
  },
  OPENAI_MODEL: { schema: z.string().min(1).default('gpt-4o-mini'), expected: 'a model name' },
  MODEL_VISION: {
    schema: z.enum(['auto', 'on', 'off']).default('auto'),
    expected:
      'auto (known vision models, else one small probe per model), on (send images), or off (text only)',
  },
  SYSTEM_PROMPT_FILE: {
    // Read once, here: a file that cannot be used stops start-up like any bad setting.
    schema: z.string().transform((path, context) => {
      const text = readPromptFile(path);
      if (text === undefined) context.addIssue({ code: 'custom', message: 'unreadable' });
      return text ?? '';
    }),
    expected: `a readable UTF-8 text file of at most ${PROMPT_FILE_MAX_BYTES / 1024} KB, whose text is appended to the built-in system prompt`,
  },
  MODEL_TEMPERATURE: {
    schema: z.coerce.number().min(0).max(2),
    expected: "a number from 0 to 2, or unset for the server's default",
  },
  MODEL_MAX_TOKENS: {
    schema: wholeNumber(16, 1_000_000),
    expected:
      "a whole number of tokens from 16 to 1000000 for one model reply, or unset for the server's default",
  },
  MODEL_CONTEXT_TOKENS: {
    schema: wholeNumber(2048, 10_000_000).default(128_000),
    expected:
      "a whole number of tokens from 2048 to 10000000: the model's context window (the thread is trimmed to fit)",
  },
  REDIS_URL: {
    schema: z.url({ protocol: /^rediss?$/ }),
    expected: 'a redis:// or rediss:// URL, or unset for the embedded in-process mode',
    secret: true,
  },
  REDIS_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/)
      .default('sandbot'),
    expected:
      'a key prefix of letters, digits and . _ : - (deployments sharing one Redis need different ones)',
  },
  BOT_ROLE: {
    schema: z.enum(['all', 'ingress', 'turns']).default('all'),
    expected:
      'all (take chat events and answer turns), ingress (take chat events only) or turns (answer turns only)',
  },
  SANDBOT_DATA_DIR: {
    schema: z
      .string()
      // eslint-disable-next-line no-control-regex -- refusing control characters is the point
      .regex(/^[^\x00-\x1f]+$/)
      .default('./.sandbot-data'),
    expected:
      "a directory path (no control characters) for the embedded mode's SQLite file; created if missing",
  },
  SANDBOX_IMAGE: {
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._/:@-]*$/)
      .default('sandbot-sandbox:latest'),
    expected: 'a Docker image reference such as sandbot-sandbox:latest',
  },
  SANDBOX_RUNTIME: {
    schema: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
    expected: 'a Docker runtime name such as runsc, or unset for the default runtime',
  },
  SANDBOX_MEMORY_MB: {
    schema: wholeNumber(128, 65536).default(1024),
    expected: 'a whole number of megabytes from 128 to 65536',
  },
  SANDBOX_CPUS: {
    schema: z.coerce.number().min(0.1).max(64).default(1),
    expected: 'a number of CPUs from 0.1 to 64',
  },
  SANDBOX_DISK_MB: {
    schema: wholeNumber(16, 65536).default(512),
    expected: 'a whole number of megabytes from 16 to 65536 (size of /mnt/data)',
  },
  SANDBOX_TMP_MB: {
    schema: wholeNumber(16, 65536).default(128),
    expected: 'a whole number of megabytes from 16 to 65536 (size of /tmp)',
  },
  SANDBOX_PIDS_LIMIT: {
    schema: wholeNumber(16, 65536).default(256),
    expected: 'a whole number of processes from 16 to 65536',
  },
  SANDBOX_CELL_TIMEOUT_S: {
    schema: wholeNumber(1, 86400).default(120),
    expected: 'a whole number of seconds from 1 to 86400',
  },
  SANDBOX_OUTPUT_LIMIT_KB: {
    schema: wholeNumber(1, 1048576).default(1024),
    expected: 'a whole number of kilobytes from 1 to 1048576 (output kept per cell)',
  },
  SANDBOX_MAX_FILE_MB: {
    schema: wholeNumber(1, 4096).default(50),
    expected: 'a whole number of megabytes from 1 to 4096 (largest file copied out of a cell)',
  },
  SANDBOX_MAX_FILES: {
    schema: wholeNumber(1, 1000).default(20),
    expected: 'a whole number from 1 to 1000 (files copied out per cell)',
  },
  SANDBOX_POOL_SIZE: {
    schema: wholeNumber(0, 64).default(2),
    expected: 'a whole number of warm containers from 0 to 64',
  },
  SANDBOX_POOL_MAX: {
    schema: wholeNumber(0, 64).default(4),
    expected: 'a whole number of warm containers from 0 to 64 the pool may grow to under load',
  },
  SANDBOX_MAX_LIFETIME_S: {
    schema: wholeNumber(10, 2_592_000).default(43_200),
    expected:
      "a whole number of seconds from 10 to 2592000 (a sandbox's hard maximum lifetime, busy or not)",
  },
  SANDBOX_CHECKPOINT_MB: {
    schema: wholeNumber(0, 100).default(50),
    expected:
      "a whole number of MB from 0 to 100 (one session's saved variables; 0 turns checkpoints off)",
  },
  SANDBOX_CHECKPOINT_IDLE_S: {
    schema: wholeNumber(1, 3600).default(10),
    expected: 'a whole number of seconds from 1 to 3600 (idle time before a checkpoint is saved)',
  },
  SANDBOX_CHECKPOINT_TOTAL_MB: {
    schema: wholeNumber(1, 1_048_576).default(1024),
    expected:
      'a whole number of MB from 1 to 1048576 (all checkpoints in the store; oldest dropped first)',
  },
  SANDBOX_PACKAGE_INDEX: {
    schema: httpUrl,
    expected:
      'an http(s) URL of a PEP 503 simple index the workers can reach (devpi, a directory of wheels), or unset: no packages can be installed',
  },
  SANDBOX_PACKAGES: {
    // One specifier per entry at most: the list itself is comma-separated.
    schema: z
      .string()
      .regex(
        /^(?:\*|[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)?)(?:\s*,\s*(?:\*|[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)?))*$/,
      ),
    expected:
      'a comma-separated list of package names that may be installed, each with at most one version specifier (e.g. tabulate,tinytable==1.2), or * for anything the index has',
  },
  SANDBOX_PACKAGE_MAX_MB: {
    schema: wholeNumber(1, 1024).default(50),
    expected: 'a whole number of megabytes from 1 to 1024 (largest wheel downloaded for a sandbox)',
  },
  SANDBOX_PACKAGE_TOTAL_MB: {
    schema: wholeNumber(1, 4096).default(100),
    expected: 'a whole number of megabytes from 1 to 4096 (all wheels of one install together)',
  },
  SESSION_IDLE_MINUTES: {
    schema: wholeNumber(1, 10080).default(30),
    expected: 'a whole number of minutes from 1 to 10080',
  },
  WORKER_ID: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
      .default(() =>
        hostname()
          .replace(/[^A-Za-z0-9_.-]/g, '-')
          .slice(0, 64),
      ),
    expected:
      'a worker name of letters, digits and . _ - (unique per worker; default: the host name)',
  },
  WORKER_CONCURRENCY: {
    schema: wholeNumber(1, 256).default(2),
    expected: 'a whole number of cells a worker runs at once, from 1 to 256',
  },
  METRICS_PORT: {
    schema: wholeNumber(0, 65535).default(9464),
    expected: "a port from 0 to 65535 for the worker's /metrics and /healthz (0 turns them off)",
  },
  AGENT_MAX_STEPS: {
    schema: wholeNumber(1, 100).default(10),
    expected: 'a whole number of model calls per turn, from 1 to 100',
  },
  AGENT_TURN_TIMEOUT_S: {
    schema: wholeNumber(10, 86400).default(600),
    expected: 'a whole number of seconds per turn, from 10 to 86400',
  },
  MAX_ATTACHMENT_MB: {
    schema: wholeNumber(1, 1024).default(50),
    expected: 'a whole number of megabytes per attached file, from 1 to 1024',
  },
  MAX_ATTACHMENTS: {
    schema: wholeNumber(1, 100).default(10),
    expected: 'a whole number of files per message, from 1 to 100',
  },
  ALLOWED_USERS: {
    schema: peopleList,
    expected:
      'a comma-separated list of platform:user-id (e.g. slack:U012AB,discord:1234), discord:role:<role-id> and slack:group:<usergroup-id> entries, or unset for everyone',
  },
  ALLOWED_CHANNELS: {
    schema: z.string().regex(/^[a-z]+:[A-Za-z0-9._@-]+(,\s*[a-z]+:[A-Za-z0-9._@-]+)*$/),
    expected: 'a comma-separated list of platform:channel-id, or unset for every channel',
  },
  USER_RATE_PER_MINUTE: {
    schema: wholeNumber(0, 10000).default(20),
    expected: 'a whole number of messages per user per minute (0 for no limit)',
  },
  ALLOW_BOT_MESSAGES: {
    schema: z.enum(['true', 'false']).default('false'),
    expected: 'true or false: answer messages that other bots post (never its own)',
  },
  SLACK_BOT_TOKEN: {
    schema: z.string().regex(/^xoxb-[A-Za-z0-9-]+$/),
    expected: 'a Slack bot token starting with xoxb-',
    secret: true,
  },
  SLACK_APP_TOKEN: {
    schema: z.string().regex(/^xapp-[A-Za-z0-9-]+$/),
    expected: 'a Slack app-level token starting with xapp- (Socket Mode)',
    secret: true,
  },
  SLACK_SIGNING_SECRET: {
    schema: z.string().regex(/^[A-Za-z0-9]{16,}$/),
    expected: 'the Slack signing secret (letters and digits, from Basic Information)',
    secret: true,
  },
  SLACK_API_URL: { schema: httpUrl, expected: 'an http(s) URL ending in /api/' },
  SLACK_STREAMING: {
    schema: z.enum(['auto', 'off']).default('auto'),
    expected:
      "auto (stream answers with Slack's chat.startStream where the workspace offers it, else edit the status message) or off",
  },
  DISCORD_TOKEN: {
    schema: z.string().regex(/^[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}$/),
    expected: 'a Discord bot token (three dot-separated parts, from the Bot page)',
    secret: true,
  },
  DISCORD_APP_ID: {
    schema: z.string().regex(/^\d{17,20}$/),
    expected: 'a Discord application id (17 to 20 digits)',
  },
  DISCORD_API_URL: { schema: httpUrl, expected: 'an http(s) URL such as https://discord.com/api' },
  DISCORD_GUILD_ID: {
    schema: z.string().regex(/^\d{17,20}$/),
    expected:
      'a Discord server (guild) id: `npm run discord:register` registers commands there only',
  },
  PLAYGROUND: {
    schema: z.enum(['auto', 'on', 'off']).default('auto'),
    expected: 'auto (only when no Slack or Discord token is set), on, or off',
  },
  PLAYGROUND_TOKEN: {
    schema: z.string().min(16),
    expected: 'at least 16 characters; required when HTTP_HOST is not a loopback address',
    secret: true,
  },
  HTTP_HOST: {
    schema: z.string().min(1).default('127.0.0.1'),
    expected: 'a host name or IP address to listen on',
  },
  HTTP_PORT: { schema: wholeNumber(0, 65535).default(3000), expected: 'a port from 0 to 65535' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
  },
  LOG_FORMAT: {
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    expected: 'one of auto (pretty on a terminal, JSON otherwise), json, pretty',
  },
  ...USAGE_SETTINGS,
  ...PACKAGE_APPROVAL_SETTINGS,
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export const SECRET_SETTINGS: readonly SettingName[] = SETTING_NAMES.filter(
  (name) => (SETTINGS[name] as Setting).secret === true,
);

/** A setting with a default always has a value; any other may be unset. */
type Parsed<S> = S extends z.ZodDefault ? z.output<S> : z.output<S> | undefined;

/** The raw values after parsing, keyed by setting name. */
export type RawSettings = {
  [K in SettingName]: Parsed<(typeof SETTINGS)[K]['schema']>;
};
