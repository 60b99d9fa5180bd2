/** A PEP 503 normalised project name: lower case, runs of `-`, `_`, `.` made one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** PEP 508's rule for a project name (before normalising). */
export const PROJECT_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
