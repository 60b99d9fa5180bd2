/** Docker labels on every container and volume sandbot creates, for ownership and clean-up. */
export const LABEL = {
  managed: 'sandbot.managed',
  /** Which worker created it; a worker removes its own leftovers when it starts. */
  worker: 'sandbot.worker',
  /** Set only on containers made for a named session from the start (`sandbot exec --session`). */
  session: 'sandbot.session',
  kind: 'sandbot.kind',
  /** The Redis prefix of the deployment a worker serves; sweeps never cross deployments. */
  deployment: 'sandbot.deployment',
  /**
   * Unix seconds after which the container (and its volume) must no longer exist: its hard
   * maximum lifetime. The container's init kills it then; any sandbot process that sees it
   * later removes it (src/sandbox/sweep.ts). Labels cannot change, so this is the hard bound
   * only, never the idle expiry.
   */
  expires: 'sandbot.expires',
} as const;

export type Labels = Readonly<Record<string, string>>;

/** The expiry label for something created now that may live `maxLifetimeMs`. */
export function expiryLabel(maxLifetimeMs: number, nowMs = Date.now()): Labels {
  return { [LABEL.expires]: String(Math.ceil((nowMs + maxLifetimeMs) / 1000)) };
}

/** The expiry in unix ms from labels, or undefined when there is none (or it is not a number). */
export function expiresAtMs(labels: Labels | undefined): number | undefined {
  const raw = labels?.[LABEL.expires];
  if (raw === undefined || !/^\d{1,12}$/.test(raw)) return undefined;
  return Number(raw) * 1000;
}
