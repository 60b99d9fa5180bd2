/** What the global setup found, handed to test files through vitest's provide/inject. */
export interface ServiceProbe {
  readonly redisUrl: string | undefined;
  readonly docker: boolean;
  readonly sandboxImage: string | undefined;
  /** One line per missing service: what is missing and how to get it. */
  readonly missing: readonly string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceProbe;
  }
}

export const SANDBOX_IMAGE = process.env.SANDBOX_IMAGE ?? 'sandbot-sandbox:latest';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
