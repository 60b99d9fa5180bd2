import { chooseSurfaces, playgroundUnguarded } from '../config/surfaces.ts';
import type { Config } from '../core/config.ts';
import type { ConfigProblem } from '../config/config.ts';
import {
  DOCKER_UNREACHABLE_FIX,
  translateDockerError,
  type Docker,
} from '../sandbox/docker-client.ts';
import { fail, info, ok, warn, type CheckResult } from './check.ts';

/** Type stripping of .ts sources, which `sandbot` runs on, is on by default from 22.18. */
const MIN_NODE = [22, 18] as const;
/** Docker 20.10's API; the hardening options we use are all present there. */
const MIN_DOCKER_API = [1, 41] as const;

function atLeast(version: string, min: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

export function checkNode(version: string): CheckResult {
  if (atLeast(version, MIN_NODE)) return ok('Node.js', version);
  return fail(
    'Node.js',
    `${version} is too old (need ${MIN_NODE.join('.')} or newer)`,
    'run sandbot through npm (`npm start`, `npx sandbot`), which uses the Node 24 in node_modules, or install Node 24',
  );
}

export function checkConfig(problems: readonly ConfigProblem[]): CheckResult[] {
  if (problems.length === 0) return [ok('settings', 'all settings valid')];
  return problems.map((p) =>
    fail(`setting ${p.setting}`, 'invalid value', `set ${p.setting} to ${p.expected}`),
  );
}

export interface DockerFacts {
  readonly reachable: boolean;
  readonly runtimes: readonly string[];
}

export async function checkDocker(docker: Docker): Promise<[CheckResult, DockerFacts]> {
  try {
    const version = await docker.version();
    const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
    const runtimes = Object.keys(info.Runtimes ?? {});
    const facts = { reachable: true, runtimes };
    const detail = `engine ${version.Version}, API ${version.ApiVersion}`;
    if (!atLeast(version.ApiVersion, MIN_DOCKER_API)) {
      return [
        fail('Docker engine', `${detail} is too old`, 'upgrade Docker to 20.10 or newer'),
        facts,
      ];
    }
    return [ok('Docker engine', detail), facts];
  } catch (error) {
    return [
      fail(
        'Docker engine',
        translateDockerError(error, 'reach the engine').message,
        DOCKER_UNREACHABLE_FIX,
      ),
      { reachable: false, runtimes: [] },
    ];
  }
}

export function checkRuntime(runtime: string | undefined, facts: DockerFacts): CheckResult {
  if (runtime === undefined) return info('sandbox runtime', 'Docker default (runc)');
  if (facts.runtimes.includes(runtime)) return ok('sandbox runtime', runtime);
  return fail(
    'sandbox runtime',
    `${runtime} is not registered with the Docker engine (has: ${facts.runtimes.join(', ') || 'none'})`,
    runtime === 'runsc'
      ? 'apt-get install runsc, add {"runtimes":{"runsc":{"path":"/usr/bin/runsc"}}} to /etc/docker/daemon.json and restart dockerd'
      : `register ${runtime} in /etc/docker/daemon.json, or unset SANDBOX_RUNTIME`,
  );
}

export function checkModel(openai: Config['openai']): CheckResult {
  if (openai.apiKey === undefined && openai.baseUrl === undefined) {
    return warn(
      'model',
      'no model endpoint configured: direct code runs, chat requests get a how-to answer',
      'set OPENAI_API_KEY (and OPENAI_MODEL), or OPENAI_BASE_URL for a compatible server such as Ollama',
    );
  }
  const where = openai.baseUrl ?? 'api.openai.com';
  return ok('model', `${openai.model} at ${where}`);
}

export function checkSlack(slack: Config['slack']): CheckResult {
  if (slack.botToken === undefined) {
    return info('Slack', 'not configured (set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to enable)');
  }
  const mode = slack.appToken !== undefined ? 'Socket Mode' : 'HTTP events';
  return ok('Slack', `credentials well-formed (${mode})`);
}

export function checkDiscord(discord: Config['discord']): CheckResult {
  if (discord.token === undefined) {
    return info('Discord', 'not configured (set DISCORD_TOKEN and DISCORD_APP_ID to enable)');
  }
  const tokenAppId = discordIdFromToken(discord.token);
  if (discord.appId !== undefined && tokenAppId !== undefined && tokenAppId !== discord.appId) {
    return fail(
      'Discord',
      'DISCORD_TOKEN belongs to a different application than DISCORD_APP_ID',
      'copy both from the same application in the Discord developer portal',
    );
  }
  return ok('Discord', 'credentials well-formed');
}

/** A bot token's first part is the bot's user id in base64, which equals the application id. */
function discordIdFromToken(token: string): string | undefined {
  const first = token.split('.')[0] ?? '';
  const decoded = Buffer.from(first, 'base64url').toString('utf8');
  return /^\d{17,20}$/.test(decoded) ? decoded : undefined;
}

export function checkPlayground(config: Config): CheckResult {
  const where = `${config.http.host}:${config.http.port}`;
  if (!chooseSurfaces(config).includes('web')) {
    return info(
      'playground',
      `off (PLAYGROUND=${config.playground.mode}); /healthz and /metrics on ${where}`,
    );
  }
  if (!playgroundUnguarded(config)) {
    const guard = config.playground.token === undefined ? 'this machine only' : 'token required';
    return ok('playground', `served on ${where} (${guard})`);
  }
  const fix = 'set PLAYGROUND_TOKEN (16+ random characters), or HTTP_HOST=127.0.0.1';
  return config.playground.mode === 'on'
    ? fail('playground', `PLAYGROUND=on would listen on ${where} with no token; start refuses`, fix)
    : warn('playground', `would listen on ${where} with no token, so start skips it`, fix);
}
