/** Exit codes of the `sandbot` command; documented in the README. */
export const ExitCode = {
  Ok: 0,
  /** The command ran and the thing it checked or ran failed (doctor found a problem, a cell failed). */
  Failed: 1,
  /** The command line itself was wrong. */
  Usage: 2,
  /** A service the command needs (Docker, Redis, the sandbox image) is unreachable. */
  Unavailable: 69,
  /** A setting is invalid; every bad one was printed. */
  Config: 78,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
