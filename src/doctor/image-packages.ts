import type { Docker } from '../sandbox/docker-client.ts';
import { LABEL } from '../sandbox/labels.ts';

/** The runner's own listing, as the kernel sends it in its `ready` frame. */
const LIST_PACKAGES =
  "from runner.packages import installed_packages; print(' '.join(installed_packages()))";
const TIMEOUT_MS = 20_000;

/**
 * The Python distributions an image really has (a derived image's included), listed by the
 * image's runner in a throwaway container: no network, read-only, every capability dropped,
 * removed afterwards. Names only, bounded; undefined when it could not be listed in time.
 */
export async function imagePackages(docker: Docker, image: string): Promise<string[] | undefined> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['python3', '-P', '-c', LIST_PACKAGES],
    // One raw output stream: no multiplexing to undo.
    Tty: true,
    Labels: { [LABEL.managed]: 'true', 'sandbot.doctor': 'packages' },
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 256 * 1024 * 1024,
      PidsLimit: 32,
    },
  });
  try {
    await container.start();
    const finished = await Promise.race([
      container.wait().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), TIMEOUT_MS).unref()),
    ]);
    if (!finished) return undefined;
    const output = await container.logs({ stdout: true, stderr: false, follow: false });
    return output
      .toString('utf8')
      .split(/\s+/)
      .filter((name) => /^[a-z0-9][a-z0-9-]{0,99}$/.test(name))
      .slice(0, 2000);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
