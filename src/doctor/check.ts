/** The outcome of one `sandbot doctor` check. */
export interface CheckResult {
  readonly name: string;
  /** `fail` makes doctor exit non-zero; `warn` is worth fixing but not required. */
  readonly status: 'ok' | 'info' | 'warn' | 'fail';
  readonly detail: string;
  /** A concrete next step; present on every warn and fail. */
  readonly fix?: string;
}

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const info = (name: string, detail: string): CheckResult => ({
  name,
  status: 'info',
  detail,
});
export const warn = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'warn',
  detail,
  fix,
});
export const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});
