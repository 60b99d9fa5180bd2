import type { Duplex } from 'node:stream';
import type { Container } from 'dockerode';
import { isNotFound, type Docker } from './docker-client.ts';

/** The container's stdin and stdout as one stream: the runner's protocol channel. */
export async function attach(container: Container): Promise<Duplex> {
  // dockerode types the hijacked connection as a ReadWriteStream; it is a net.Socket.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  return (await container.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as Duplex;
}

/**
 * Removes a sandbox container and its data volume, whatever state they are in. Docker refuses
 * for a moment a container that is still starting (409) and a volume still in use just after
 * its container's forced removal, so each is retried briefly. Gone already is done; Docker
 * down is left to the orphan sweep.
 */
export async function removeQuietly(
  docker: Docker,
  container: Container | undefined,
  volumeName: string | undefined,
): Promise<void> {
  if (container !== undefined) await retryBriefly(() => container.remove({ force: true, v: true }));
  if (volumeName !== undefined) await retryBriefly(() => docker.getVolume(volumeName).remove());
}

/** Up to five tries over about 1.5 s; not found counts as done. Never throws. */
async function retryBriefly(remove: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      await remove();
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }
}
