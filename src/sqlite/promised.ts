/**
 * A synchronous SQLite call behind an async port: its result as a resolved promise, its throw
 * as a rejection (never a synchronous throw out of a method callers `await` or `.catch`).
 */
export function promised<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
