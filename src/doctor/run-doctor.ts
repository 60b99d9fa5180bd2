import { parseConfig, withoutSettings, type Environment } from '../config/config.ts';
import type { Docker } from '../sandbox/docker-client.ts';
import type { CheckResult } from './check.ts';
import {
  checkConfig,
  checkDiscord,
  checkDocker,
  checkImage,
  checkModel,
  checkNode,
  checkPlayground,
  checkRedis,
  checkRuntime,
  checkSlack,
} from './checks.ts';

export interface DoctorDeps {
  readonly env: Environment;
  readonly nodeVersion: string;
  readonly docker: Docker;
}

/**
 * Every check, in the order a newcomer should fix things. Bad settings are reported and
 * then replaced by their defaults, so one typo does not hide every other finding.
 */
export async function runDoctor(deps: DoctorDeps): Promise<CheckResult[]> {
  const parsed = parseConfig(deps.env);
  const problems = parsed.ok ? [] : parsed.problems;
  const usable = parsed.ok
    ? parsed
    : parseConfig(
        withoutSettings(
          deps.env,
          problems.map((p) => p.setting),
        ),
      );
  if (!usable.ok) throw new Error('defaults failed to parse; this is a bug in the schema');
  const config = usable.config;

  const results: CheckResult[] = [checkNode(deps.nodeVersion), ...checkConfig(problems)];
  const [dockerResult, facts] = await checkDocker(deps.docker);
  results.push(dockerResult);
  if (facts.reachable) {
    results.push(await checkImage(deps.docker, config.sandbox.image));
    results.push(checkRuntime(config.sandbox.runtime, facts));
  } else {
    results.push({
      name: 'sandbox image',
      status: 'fail',
      detail: `cannot check ${config.sandbox.image} without the Docker engine`,
      fix: 'start Docker, then run `npm run sandbox:build`',
    });
  }
  results.push(...(await checkRedis(config.redisUrl)));
  results.push(
    checkModel(config.openai),
    checkSlack(config.slack),
    checkDiscord(config.discord),
    checkPlayground(config),
  );
  return results;
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
