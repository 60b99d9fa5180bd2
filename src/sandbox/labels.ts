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
} as const;

export type Labels = Readonly<Record<string, string>>;
