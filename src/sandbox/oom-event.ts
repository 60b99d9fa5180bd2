import type { Docker } from './docker-client.ts';

/**
 * Whether the container was killed for memory: Docker's OOMKilled, or, for a SIGKILL that was
 * not ours (`killedFor` unset), an `oom` event in Docker's log (sawOomEvent).
 */
export async function wasOomKilled(
  docker: Docker,
  info: { readonly Id: string; readonly State: { OOMKilled: boolean; StartedAt: string } },
  exitCode: number | undefined,
  killedFor: string | undefined,
): Promise<boolean> {
  if (info.State.OOMKilled) return true;
  if (exitCode !== 137 || killedFor !== undefined) return false;
  return sawOomEvent(docker, info.Id, info.State.StartedAt);
}

/** How long after a kill a late `oom` event is still waited for. */
const LATE_OOM_WAIT_S = 1;

/**
 * Whether Docker logged an `oom` event for the container since `startedAt`, waiting up to
 * LATE_OOM_WAIT_S for one still on its way. Docker sets State.OOMKilled only when the
 * containerd OOM event comes before the exit event; under load (seen under gVisor in CI) the
 * two can arrive the other way round, and a memory bomb then looks like a plain SIGKILL.
 * Docker still logs the `oom` event, so its event log settles it. False when it cannot be
 * read.
 */
export async function sawOomEvent(
  docker: Docker,
  containerId: string,
  startedAt: string,
): Promise<boolean> {
  const startedS = Math.floor(Date.parse(startedAt) / 1000);
  if (!Number.isFinite(startedS)) return false;
  try {
    const events = (await docker.getEvents({
      since: startedS,
      until: Math.ceil(Date.now() / 1000) + LATE_OOM_WAIT_S,
      filters: { container: [containerId], event: ['oom'] },
    })) as unknown as AsyncIterable<Buffer>;
    let seen = '';
    for await (const chunk of events) seen += chunk.toString();
    return seen.includes('"oom"');
  } catch {
    return false;
  }
}
