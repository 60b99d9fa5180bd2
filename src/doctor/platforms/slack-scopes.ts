import { readFileSync } from 'node:fs';

/** The Slack app manifest that ships in the repo (and the bot image): the scopes the code uses. */
const MANIFEST = new URL('../../../adapters/slack/manifest.yml', import.meta.url);

/**
 * The bot scopes the manifest asks for (`oauth_config.scopes.bot`), so doctor compares the
 * installed app against the one list the code is written for. That block is a plain list of
 * names, which a few lines read; a YAML library would be a new runtime dependency for it.
 */
export function manifestBotScopes(yaml = readFileSync(MANIFEST, 'utf8')): string[] {
  const lines = yaml.split('\n');
  const start = lines.findIndex((line) => /^\s+bot:\s*$/.test(line));
  if (start < 0) return [];
  const scopes: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const item = /^\s+-\s+([\w:.-]+)\s*$/.exec(line);
    if (item === null) break;
    scopes.push(item[1] ?? '');
  }
  return scopes;
}
