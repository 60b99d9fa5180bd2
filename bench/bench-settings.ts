import type { SandboxSettings } from '../src/core/config.ts';
import { formatProblems, parseConfig } from '../src/config/config.ts';

/**
 * The sandbox settings as the worker would read them from this environment (SANDBOX_RUNTIME,
 * SANDBOX_POOL_SIZE, SANDBOX_POOL_MAX, ...), so a benchmark measures what a deployment runs.
 * Bad settings stop the run, named as sandbot names them.
 */
export function sandboxSettingsFromEnv(env: NodeJS.ProcessEnv): SandboxSettings {
  const parsed = parseConfig(env);
  if (!parsed.ok) {
    for (const line of formatProblems(parsed.problems)) process.stderr.write(`bench: ${line}\n`);
    process.exit(1);
  }
  return parsed.config.sandbox;
}
