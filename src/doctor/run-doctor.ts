import { parseConfig, withoutSettings, type Environment } from '../config/config.ts';
import type { Config } from '../core/config.ts';
import type { Docker } from '../sandbox/docker-client.ts';
import { fail, info, type CheckResult } from './check.ts';
import {
  checkConfig,
  checkDiscord,
  checkDocker,
  checkModel,
  checkNode,
  checkPlayground,
  checkRuntime,
  checkSlack,
} from './checks.ts';
import { checkImage } from './image-check.ts';
import { probeModel } from './model-probe.ts';
import { checkRedis } from './redis-check.ts';

/** How long each network check waits for an answer before it says what it could not reach. */
export const NETWORK_TIMEOUT_MS = 5000;

export interface DoctorDeps {
  readonly env: Environment;
  readonly nodeVersion: string;
  readonly docker: Docker;
  /** Skip the checks that reach the model and the chat platforms (shapes only). */
  readonly offline?: boolean;
  /** Per network check. Default NETWORK_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/**
 * Every check, in the order a newcomer should fix things. Bad settings are reported and
 * then replaced by their defaults, so one typo does not hide every other finding (but a
 * service whose setting was bad is not checked at its default).
 */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const parsed = parseConfig(deps.env);
  const problems = parsed.ok ? [] : parsed.problems;
  const bad = new Set(problems.map((p) => p.setting));
  const usable = parsed.ok ? parsed : parseConfig(withoutSettings(deps.env, [...bad]));
  if (!usable.ok) throw new Error('defaults failed to parse; this is a bug in the schema');
  const config = usable.config;
  const timeoutMs = deps.timeoutMs ?? NETWORK_TIMEOUT_MS;

  const results: CheckResult[] = [checkNode(deps.nodeVersion), ...checkConfig(problems)];
  results.push(...(await sandboxChecks(deps.docker, config)));
  results.push(...(await redisChecks(config, bad.has('REDIS_URL'), timeoutMs)));
  const services = deps.offline === true ? offlineChecks(config) : onlineChecks(config, timeoutMs);
  results.push(...(await services), checkPlayground(config));
  return results;
}

async function sandboxChecks(docker: Docker, config: Config): Promise<CheckResult[]> {
  const [dockerResult, facts] = await checkDocker(docker);
  if (!facts.reachable) {
    return [
      dockerResult,
      fail(
        'sandbox image',
        `cannot check ${config.sandbox.image} without the Docker engine`,
        'start Docker, then run `npm run sandbox:build`',
      ),
    ];
  }
  return [
    dockerResult,
    await checkImage(docker, config.sandbox.image),
    checkRuntime(config.sandbox.runtime, facts),
  ];
}

async function redisChecks(
  config: Config,
  urlInvalid: boolean,
  timeoutMs: number,
): Promise<CheckResult[]> {
  if (urlInvalid) return [info('Redis', 'not checked: REDIS_URL is invalid (see above)')];
  if (config.redisUrl === undefined) {
    return [
      info('Redis', 'REDIS_URL unset: embedded mode (stores in one SQLite file)'),
      info('workers', 'in-process: `sandbot start` runs the worker itself'),
    ];
  }
  return checkRedis(config.redisUrl, { prefix: config.redisPrefix, timeoutMs });
}

/** The model and the platforms as they answer, side by side (each bounded by `timeoutMs`). */
async function onlineChecks(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const model = checkModel(config.openai);
  const slack = checkSlack(config.slack);
  const discord = checkDiscord(config.discord);
  // The platform SDKs load only when their platform is configured (as in `sandbot start`):
  // they are heavy, and every other command shares this process's start-up.
  const found = await Promise.all([
    model.status === 'warn' ? [model] : probeModel(config.openai, timeoutMs),
    slack.status === 'info'
      ? [slack]
      : import('./platforms/slack-probe.ts').then((m) => m.probeSlack(config.slack, timeoutMs)),
    discord.status === 'info'
      ? [discord]
      : import('./platforms/discord-probe.ts').then((m) =>
          m.probeDiscord(config.discord, timeoutMs),
        ),
  ]);
  return found.flat();
}

/** --offline: only what the settings say, marked as not contacted. */
function offlineChecks(config: Config): Promise<CheckResult[]> {
  const results = [
    checkModel(config.openai),
    checkSlack(config.slack),
    checkDiscord(config.discord),
  ];
  return Promise.resolve(
    results.map((r) =>
      r.status === 'ok' ? { ...r, detail: `${r.detail} (not contacted: --offline)` } : r,
    ),
  );
}

const MARK: Record<CheckResult['status'], string> = {
  ok: 'ok  ',
  info: 'info',
  warn: 'WARN',
  fail: 'FAIL',
};

export function formatCheck(result: CheckResult): string {
  const fix = result.fix === undefined ? '' : `\n        fix: ${result.fix}`;
  return `[${MARK[result.status]}] ${result.name}: ${result.detail}${fix}`;
}
