import type { Config } from '../core/config.ts';
import { formatProblems, parseConfig } from '../config/config.ts';
import type { CommandContext } from './command.ts';

/** Thrown when settings are bad; main prints nothing more and exits with ExitCode.Config. */
export class ConfigExit extends Error {
  override readonly name = 'ConfigExit';
}

/** Parses settings once for a command; on failure prints one line per bad setting. */
export function loadConfig(context: CommandContext): Config {
  const result = parseConfig(context.env);
  if (result.ok) return result.config;
  context.stderr.write('sandbot: invalid settings (fix these, or run `sandbot doctor`):\n');
  for (const line of formatProblems(result.problems)) context.stderr.write(`  ${line}\n`);
  throw new ConfigExit();
}
