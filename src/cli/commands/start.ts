import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { feedbackCounter } from '../../http/feedback-counter.ts';
import type { BotRole, Config } from '../../core/config.ts';
import { chooseSurfaces, playgroundUnguarded, type SurfaceName } from '../../config/surfaces.ts';
import type { AdapterContext, AdapterFactory, ChatAdapter } from '../../core/chat-adapter.ts';
import { SandbotError } from '../../core/errors.ts';
import { HttpServer } from '../../http/http-server.ts';
import { createLogger, type Logger } from '../../logging/logger.ts';
import { buildCore } from '../../runtime/core.ts';
import {
  createDockerClient,
  DOCKER_UNREACHABLE_FIX,
  isNotFound,
  translateDockerError,
} from '../../sandbox/docker-client.ts';
import { UsageError, type Command, type CommandContext } from '../command.ts';
import { ExitCode } from '../exit-codes.ts';
import { loadConfig } from '../load-config.ts';
import { SANDBOT_VERSION } from '../version.ts';

const DEFAULT_IMAGE = 'sandbot-sandbox:latest';
/** At shutdown, how long running turns may take before they are left to be resumed. */
const TURN_GRACE_MS = 3000;
const BUILD_SCRIPT = fileURLToPath(new URL('../../../sandbox-image/build.sh', import.meta.url));

/*
 * The composition root: the one place in src/ that loads adapters, and only those whose
 * credentials are set (so a Discord-only bot never loads Bolt). Core modules never import
 * an adapter.
 */
const ADAPTERS = {
  slack: async () => (await import('../../../adapters/slack/index.ts')).createSlackAdapter,
  discord: async () => (await import('../../../adapters/discord/index.ts')).createDiscordAdapter,
  web: async () => (await import('../../../adapters/web/index.ts')).createWebAdapter,
} satisfies Record<SurfaceName, () => Promise<AdapterFactory>>;

export const startCommand: Command = {
  name: 'start',
  summary: 'run the bot: Slack and Discord when configured, else the local playground',
  help: `Usage: sandbot start [--no-build]

Runs every chat surface whose credentials are set: Slack (SLACK_BOT_TOKEN), Discord
(DISCORD_TOKEN). With neither, it serves the local web playground on HTTP_HOST:HTTP_PORT
(PLAYGROUND=on serves it alongside them). /healthz and /metrics are on the same port.

With REDIS_URL unset the sandbox worker runs in this process; if the sandbox image is
missing it is built first (about a minute), unless --no-build is given.

BOT_ROLE splits a deployment over processes that share REDIS_URL: \`ingress\` takes chat
events (the Discord gateway, Slack Socket Mode or HTTP events) and stores them as turns but
answers none; \`turns\` answers stored turns through the platforms' REST APIs and connects to
no event source (the playground's page and API count as events); \`all\` (the default) does
both.

On SIGTERM or Ctrl-C it stops the chat surfaces and running cells, removes its sandboxes and
exits within 10 s; a second signal ends it at once. With REDIS_URL set, Redis must answer at
start; if it goes away later, the bot keeps retrying, /healthz answers 503 meanwhile, and it
carries on when Redis is back.

Exit status: 0 after Ctrl-C or SIGTERM; 69 when Docker, the sandbox image or Redis is
unreachable at start; 78 when a setting is invalid.`,
  async run(args, context) {
    const build = !args.includes('--no-build');
    const unknown = args.filter((a) => a !== '--no-build');
    if (unknown.length > 0) throw new UsageError(`unknown option ${unknown.join(' ')}`);
    const config = loadConfig(context);
    const logger = createLogger({ level: config.log.level, format: config.log.format });

    let surfaces = chooseSurfaces(config);
    // A turns-only process serves no page: nothing to guard.
    if (surfaces.includes('web') && config.role !== 'turns' && playgroundUnguarded(config)) {
      const problem = `the playground would listen on ${config.http.host}, reachable from other machines; set PLAYGROUND_TOKEN (16+ characters) or HTTP_HOST=127.0.0.1`;
      // Asked for explicitly: refuse. Merely the default (a container with no chat tokens
      // yet): run without it, so /healthz answers and a restart policy does not loop.
      if (config.playground.mode === 'on') {
        context.stderr.write(`sandbot start: ${problem}.\n`);
        return ExitCode.Config;
      }
      context.stderr.write(`sandbot start: not serving the playground: ${problem}.\n`);
      surfaces = surfaces.filter((s) => s !== 'web');
    }
    if (config.redisUrl === undefined) await ensureSandboxImage(config, context, build);

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics, prefix: 'sandbot_bot_' });
    const adapters: ChatAdapter[] = [];
    const core = await buildCore(config, logger, {
      embeddedWorkerId: `bot-${config.worker.id}`,
      metrics,
      adapters: () => adapters,
    });
    let healthy = true;
    const http = new HttpServer({
      host: config.http.host,
      port: config.http.port,
      logger,
      metrics,
      healthy: () => healthy && core.healthy(),
      version: SANDBOT_VERSION,
    });
    const adapterContext: AdapterContext = {
      config,
      conversation: core.conversation,
      deliveries: core.deliveries,
      http,
      logger,
      countFeedback: feedbackCounter(metrics),
      ...(core.limiters === undefined ? {} : { limiters: core.limiters }),
    };
    try {
      await http.listen();
      // A turns-only process builds its adapters for their REST clients (replyFor,
      // fetchAttachment) but connects none of them to its platform's events.
      const ingress = config.role !== 'turns';
      adapters.push(...(await createAdapters(surfaces, adapterContext, { start: ingress })));
      // Turns (new, and those a dead process left) are answered once replies can be rebuilt.
      if (config.role !== 'ingress') core.conversation.startTurns();
      context.stdout.write(announce(surfaces, http.url, config));
      await waitFor(context.signal);
      logger.info('shutting down');
    } finally {
      healthy = false;
      // Running turns get a moment first, while the adapters' clients still post (a Discord
      // client that is destroyed takes its REST with it); the rest are resumed by another
      // process or after a restart. Messages that arrive meanwhile are stored as turns for it.
      await core.conversation.stopTurns(TURN_GRACE_MS);
      await stopAll(adapters, logger);
      await http.close();
      await core.close();
    }
    return ExitCode.Ok;
  },
};

const ROLE_LINES: Readonly<Record<BotRole, string>> = {
  all: 'Role: all (BOT_ROLE): takes chat events and answers turns.',
  ingress: 'Role: ingress (BOT_ROLE): takes chat events; BOT_ROLE=turns processes answer them.',
  turns: 'Role: turns (BOT_ROLE): answers stored turns; takes no chat events.',
};

function announce(surfaces: readonly SurfaceName[], url: string, config: Config): string {
  const lines = [
    `sandbot is running (${surfaces.join(', ') || 'no chat surface'}).`,
    ROLE_LINES[config.role],
  ];
  if (surfaces.length === 0) {
    lines.push('Nothing to talk to: set SLACK_BOT_TOKEN or DISCORD_TOKEN, or PLAYGROUND_TOKEN.');
  }
  if (surfaces.includes('web')) {
    // Listening on every interface: show an address a browser on this machine can open.
    const local = url.replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, 'http://127.0.0.1');
    lines.push(`Playground: ${local}/`);
  }
  if (config.redisUrl === undefined) lines.push('Code runs in this process (REDIS_URL unset).');
  if (config.openai.apiKey === undefined && config.openai.baseUrl === undefined) {
    lines.push('No model configured: code runs, chat needs OPENAI_API_KEY or OPENAI_BASE_URL.');
  }
  lines.push('Ctrl-C stops it.');
  return `${lines.join('\n')}\n`;
}

/**
 * Embedded mode runs sandboxes here, so Docker and the image must be present: a missing
 * default image is built on the spot (offline-capable script), anything else says what to do.
 */
async function ensureSandboxImage(
  config: Config,
  context: CommandContext,
  build: boolean,
): Promise<void> {
  const docker = createDockerClient();
  try {
    await docker.ping();
  } catch (error) {
    const cause = translateDockerError(error, 'reach the engine');
    throw new SandbotError(
      'DOCKER_UNAVAILABLE',
      `${cause.message}.\nThe sandboxes need it: ${DOCKER_UNREACHABLE_FIX}. \`npx sandbot doctor\` checks everything; or set REDIS_URL to leave the sandboxes to \`sandbot worker\` processes elsewhere.`,
      { cause: error },
    );
  }
  const image = config.sandbox.image;
  const present = await docker
    .getImage(image)
    .inspect()
    .then(() => true)
    .catch((error: unknown) => {
      if (isNotFound(error)) return false;
      throw translateDockerError(error, `inspect the sandbox image ${image}`);
    });
  if (present) return;
  const buildable = image === DEFAULT_IMAGE && existsSync(BUILD_SCRIPT);
  if (!build || !buildable) {
    throw new SandbotError(
      'SANDBOX_IMAGE_MISSING',
      buildable
        ? `the sandbox image ${image} is missing; build it with \`npm run sandbox:build\` (about a minute)`
        : `the sandbox image ${image} (SANDBOX_IMAGE) is missing; build or pull it on this Docker engine`,
    );
  }
  context.stderr.write(
    `The sandbox image ${image} is missing; building it now (npm run sandbox:build, about a minute)…\n`,
  );
  const code = await new Promise<number | null>((resolve) => {
    // Ctrl-C during the build stops the build too.
    const child = spawn('bash', [BUILD_SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: context.signal,
    });
    child.stdout.pipe(context.stderr, { end: false });
    child.stderr.pipe(context.stderr, { end: false });
    child.on('close', resolve);
    child.on('error', () => resolve(null));
  });
  if (context.signal.aborted) {
    throw new SandbotError('SANDBOX_IMAGE_MISSING', 'the sandbox image build was interrupted');
  }
  if (code !== 0) {
    throw new SandbotError(
      'SANDBOX_IMAGE_MISSING',
      `building the sandbox image failed (exit ${code}); see the output above, then run \`npm run sandbox:build\``,
    );
  }
}

/** The adapters of `surfaces`, each started (connected to its events) when `start` says so. */
async function createAdapters(
  surfaces: readonly SurfaceName[],
  context: AdapterContext,
  options: { readonly start: boolean },
): Promise<ChatAdapter[]> {
  const created: ChatAdapter[] = [];
  for (const name of surfaces) {
    const adapter = (await ADAPTERS[name]())(context);
    if (options.start) await adapter.start();
    created.push(adapter);
  }
  return created;
}

async function stopAll(adapters: readonly ChatAdapter[], logger: Logger): Promise<void> {
  await Promise.all(
    adapters.map((adapter) =>
      adapter.stop().catch((error: unknown) => {
        logger.warn({ err: error, adapter: adapter.name }, 'adapter did not stop cleanly');
      }),
    ),
  );
}

function waitFor(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}
