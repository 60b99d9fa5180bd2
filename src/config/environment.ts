import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import type { Environment } from './config.ts';

/**
 * The process environment over an optional `.env` file: a variable set in the real
 * environment wins, as with docker compose and dotenv. Reading does not modify process.env.
 */
export function readEnvironment(
  processEnv: NodeJS.ProcessEnv,
  envFile: string | undefined,
): Environment {
  if (envFile === undefined) return { ...processEnv };
  let fileText: string;
  try {
    fileText = readFileSync(envFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ...processEnv };
    throw error;
  }
  return { ...parseEnv(fileText), ...processEnv };
}
