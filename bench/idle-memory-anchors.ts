import type { Docker } from '../src/sandbox/docker-client.ts';
import { hostMemoryBytes } from './host-memory.ts';
import { round } from './stats.ts';

const MiB = 1024 * 1024;
const SETTLE_POLL_MS = 1000;
const SETTLE_MAX_MS = 90_000;

/**
 * A bare ipykernel's idle memory in the same image and runtime, counted as a session's is
 * (host-memory.ts: anonymous memory plus tmpfs of the container's cgroup): the anchor of the
 * idle session figures. Started the way Jupyter starts one (`python3 -m ipykernel_launcher -f`
 * a connection file), no client attached, read once its memory stops growing. It imports what
 * Jupyter's kernel imports (IPython, zmq, tornado) and neither pandas nor matplotlib.
 */
export async function bareIpykernelIdleMb(
  docker: Docker,
  image: string,
  runtime: string | undefined,
): Promise<number> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['python3', '-m', 'ipykernel_launcher', '-f', '/tmp/kernel.json'],
    Env: ['HOME=/tmp'],
    Labels: { 'sandbot.bench': 'ipykernel-anchor' },
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=64m' },
      LogConfig: { Type: 'none', Config: {} },
      ...(runtime === undefined ? {} : { Runtime: runtime }),
    },
  });
  try {
    await container.start();
    const started = Date.now();
    let last = 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      const bytes = (await hostMemoryBytes(docker, container.id)) ?? Number.NaN;
      // Settled: grew by less than 256 KiB in the last second (its imports are done).
      const settled = Math.abs(bytes - last) < MiB / 4 && Date.now() - started > 3000;
      if (settled || Number.isNaN(bytes) || Date.now() - started > SETTLE_MAX_MS) {
        return round(bytes / MiB, 1);
      }
      last = bytes;
    }
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
