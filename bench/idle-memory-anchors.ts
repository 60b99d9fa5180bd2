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
export function bareIpykernelIdleMb(
  docker: Docker,
  image: string,
  runtime: string | undefined,
): Promise<number> {
  return idleContainerMb(
    docker,
    image,
    runtime,
    'ipykernel-anchor',
    [],
    ['python3', '-m', 'ipykernel_launcher', '-f', '/tmp/kernel.json'],
  );
}

/**
 * The floor under the idle session figures: a plain `python3` in the same image that runs the
 * idle session's cells as a script (`cells`: the imports, the DataFrame, the plot rendered to
 * PNG as the runner renders it) and then sleeps, with no kernel, no protocol and no IPython.
 * Whatever a session costs above this is the kernel's machinery; this much is the libraries'.
 */
export function dataStackFloorIdleMb(
  docker: Docker,
  image: string,
  runtime: string | undefined,
  cells: readonly string[],
): Promise<number> {
  const script = [
    ...cells,
    // A plot cell leaves a figure that the runner renders to PNG; render it the same way.
    'import sys',
    'if "matplotlib.pyplot" in sys.modules:',
    '    import io, matplotlib.pyplot',
    '    matplotlib.pyplot.gcf().savefig(io.BytesIO(), format="png")',
    'import gc, time',
    'gc.collect()',
    'time.sleep(3600)',
  ].join('\n');
  // One BLAS thread, as the runner sets it for the bench's one-CPU session (process.py).
  const env = ['OPENBLAS_NUM_THREADS=1'];
  return idleContainerMb(docker, image, runtime, 'data-stack-floor', env, [
    'python3',
    '-c',
    script,
  ]);
}

/** Starts `cmd` in a locked-down container and reads its memory once it stops growing. */
async function idleContainerMb(
  docker: Docker,
  image: string,
  runtime: string | undefined,
  label: string,
  env: string[],
  cmd: string[],
): Promise<number> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: cmd,
    Env: ['HOME=/tmp', ...env],
    Labels: { 'sandbot.bench': label },
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
