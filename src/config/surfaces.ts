import type { Config } from '../core/config.ts';

export type SurfaceName = 'slack' | 'discord' | 'web';

/**
 * The chat surfaces `sandbot start` runs: Slack and Discord when their tokens are set, the
 * playground when neither is (PLAYGROUND=auto) or when asked for (on). `sandbot doctor` uses
 * the same rule, so the two never disagree.
 */
export function chooseSurfaces(config: Config): SurfaceName[] {
  const surfaces: SurfaceName[] = [];
  if (config.slack.botToken !== undefined) surfaces.push('slack');
  if (config.discord.token !== undefined) surfaces.push('discord');
  const web =
    config.playground.mode === 'on' || (config.playground.mode === 'auto' && surfaces.length === 0);
  if (web) surfaces.push('web');
  return surfaces;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The playground would be reachable from other machines without a token to guard it. */
export function playgroundUnguarded(config: Config): boolean {
  return !isLoopback(config.http.host) && config.playground.token === undefined;
}
