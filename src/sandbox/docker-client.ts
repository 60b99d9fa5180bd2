import Docker from 'dockerode';
import { SandbotError } from '../core/errors.ts';

export type { Docker };

/**
 * A Docker client. dockerode reads DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)
 * itself, the same variables the docker CLI uses; otherwise it talks to /var/run/docker.sock.
 */
export function createDockerClient(): Docker {
  return new Docker();
}

interface DockerodeError {
  statusCode?: number;
  code?: string;
  address?: string;
  json?: { message?: string } | null;
  reason?: string;
}

/** What to do when the engine cannot be reached; doctor and start say the same. */
export const DOCKER_UNREACHABLE_FIX =
  'install Docker (Debian: apt-get install docker.io) and start it (systemctl start docker, or `dockerd &`); set DOCKER_HOST if it listens elsewhere';

/** The one place where dockerode errors become SandbotErrors with a cause people can act on. */
export function translateDockerError(error: unknown, doing: string): SandbotError {
  if (error instanceof SandbotError) return error;
  const e = (error ?? {}) as DockerodeError;
  const where = e.address ?? 'the Docker socket (DOCKER_HOST or /var/run/docker.sock)';
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT') {
    return new SandbotError(
      'DOCKER_UNAVAILABLE',
      `Docker engine unreachable at ${where} (${e.code}) while trying to ${doing}`,
      { cause: error },
    );
  }
  if (e.code === 'EACCES') {
    return new SandbotError(
      'DOCKER_UNAVAILABLE',
      `permission denied on ${where} while trying to ${doing}: run as a user in the docker group`,
      { cause: error },
    );
  }
  const detail =
    e.json?.message ?? e.reason ?? (error instanceof Error ? error.message : String(error));
  return new SandbotError('SANDBOX_START_FAILED', `Docker failed to ${doing}: ${detail}`, {
    cause: error,
  });
}

export function isNotFound(error: unknown): boolean {
  return (error as DockerodeError | undefined)?.statusCode === 404;
}
