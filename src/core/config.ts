import type { UsageSettings } from './usage-settings.ts';

/*
 * The typed settings every layer shares. src/config/ parses the environment into them (its
 * toConfig is checked against these types, so the schema's choices cannot drift from them).
 */

/** Typed settings handed to the rest of the code; only entry points read the environment. */
export interface Config {
  readonly openai: {
    readonly apiKey: string | undefined;
    readonly baseUrl: string | undefined;
    readonly model: string;
  };
  /** Unset means the embedded mode: in-process worker and queue, stores in `dataDir`. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and queue of this deployment. */
  readonly redisPrefix: string;
  /** Where the embedded mode keeps its SQLite file (relative paths: to the working directory). */
  readonly dataDir: string;
  /**
   * What `sandbot start` runs (BOT_ROLE): `all` takes chat events and answers turns;
   * `ingress` only takes events (Discord gateway, Slack Socket Mode or HTTP events) and
   * stores them as turns; `turns` only answers stored turns, through the adapters' REST
   * clients. The split roles need `redisUrl`.
   */
  readonly role: BotRole;
  readonly sandbox: SandboxSettings;
  /** Extra packages for the sandboxes (issue 18); undefined when SANDBOX_PACKAGE_INDEX is unset. */
  readonly packages: PackageSettings | undefined;
  readonly sessionIdleMs: number;
  readonly checkpoints: CheckpointSettings;
  readonly agent: {
    readonly maxSteps: number;
    readonly turnTimeoutMs: number;
    readonly maxAttachmentBytes: number;
    readonly maxAttachments: number;
    /**
     * Whether the model is given images (attachments, the plots of its cells) as image inputs
     * (MODEL_VISION). Undefined: off, as for a text-only model.
     */
    readonly vision?: VisionMode;
    /** MODEL_TEMPERATURE; undefined: not sent (the server's default). */
    readonly temperature?: number;
    /** MODEL_MAX_TOKENS, for one model reply; undefined: not sent. */
    readonly maxTokens?: number;
    /** MODEL_CONTEXT_TOKENS: the thread is trimmed to fit an estimate of it. Undefined: 128,000. */
    readonly contextTokens?: number;
    /** The text of SYSTEM_PROMPT_FILE, read once at start: appended to the built-in prompt. */
    readonly systemPromptExtra?: string;
  };
  readonly policy: {
    /** `platform:id` entries; undefined means everyone. */
    readonly allowedUsers: readonly string[] | undefined;
    readonly allowedChannels: readonly string[] | undefined;
    /** 0: no limit. */
    readonly userRatePerMinute: number;
    /** PACKAGE_APPROVERS, written as allowedUsers; absent: packages off the list are refused. */
    readonly packageApprovers?: readonly string[];
    /** PACKAGE_APPROVAL_TIMEOUT_MINUTES; absent: 30 minutes. */
    readonly packageApprovalTimeoutMs?: number;
  };
  readonly worker: {
    readonly id: string;
    readonly concurrency: number;
    /** 0: no metrics server. */
    readonly metricsPort: number;
  };
  readonly slack: {
    readonly botToken: string | undefined;
    readonly appToken: string | undefined;
    readonly signingSecret: string | undefined;
    readonly apiUrl: string | undefined;
    /** `auto`: answers stream with chat.startStream/appendStream/stopStream where offered. */
    readonly streaming: 'auto' | 'off';
  };
  readonly discord: {
    readonly token: string | undefined;
    readonly appId: string | undefined;
    readonly apiUrl: string | undefined;
    /** `npm run discord:register` registers commands in this guild only (development). */
    readonly guildId: string | undefined;
  };
  readonly http: { readonly host: string; readonly port: number };
  /** Answer messages other bots post (the bot's own are always ignored). */
  readonly allowBotMessages: boolean;
  readonly playground: {
    readonly mode: 'auto' | 'on' | 'off';
    /** Required (by `sandbot start`) when HTTP_HOST is not loopback. */
    readonly token: string | undefined;
  };
  /** Meters, prices, the audit trail (src/metering/, src/audit/). */
  readonly usage: UsageSettings;
  readonly log: {
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    readonly format: 'auto' | 'json' | 'pretty';
  };
}

export type BotRole = 'all' | 'ingress' | 'turns';

/** `auto`: decided once per model (known families, else a probe); `on`/`off`: as set. */
export type VisionMode = 'auto' | 'on' | 'off';

/**
 * Checkpoints of a session's variables (issue 18, docs/checkpoints.md): saved inside the
 * sandbox after `idleMs` without a cell and before a kernel is reaped or its worker drains,
 * kept in the store for the session's lifetime, restored into the session's next kernel.
 */
export interface CheckpointSettings {
  /** One session's checkpoint at most; 0: checkpoints are off. */
  readonly maxBytes: number;
  /** Idle time after a cell before its state is saved. */
  readonly idleMs: number;
  /** All checkpoints in the store at most; past it the oldest are dropped. */
  readonly totalBytes: number;
}

export interface SandboxSettings {
  readonly image: string;
  readonly runtime: string | undefined;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly diskMb: number;
  readonly tmpMb: number;
  readonly pidsLimit: number;
  readonly cellTimeoutMs: number;
  readonly outputLimitBytes: number;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly poolSize: number;
  /** How far the warm pool may grow ahead of demand (src/sandbox/pool-sizer.ts). Undefined:
   *  it stays at `poolSize`. */
  readonly poolMax?: number;
  /** A container's hard maximum lifetime, enforced by its init and by every sandbot process
   *  that sees it later. Undefined: 12 h. */
  readonly maxLifetimeMs?: number;
}

/** Where sandboxes' extra packages come from and what may be installed (src/packages/). */
export interface PackageSettings {
  /** A PEP 503 simple index, fetched by the workers only (the sandboxes have no network). */
  readonly indexUrl: string;
  /** SANDBOX_PACKAGES entries as written (`name`, `name==1.2`, `*`); empty: nothing allowed. */
  readonly allow: readonly string[];
  readonly maxWheelBytes: number;
  readonly maxTotalBytes: number;
}
