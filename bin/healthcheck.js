// The container health check of the bot/worker image (node's fetch: a slim image has no
// curl). One image plays two roles, and each serves /healthz on its own port: the bot on
// HTTP_PORT, a worker on METRICS_PORT. Only the role that runs listens, so the container is
// healthy when either answers 200; 503 (shutting down) or silence on both is unhealthy.
import process from 'node:process';

const env = process.env;
const wildcard = ['', '0.0.0.0', '::', '[::]'];
const bound = env.HTTP_HOST?.trim() ?? '';
const host = wildcard.includes(bound) ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
// Empty counts as unset, as in sandbot's settings; port 0 means that server is off.
const ports = [env.HTTP_PORT?.trim() || '3000', env.METRICS_PORT?.trim() || '9464'].filter(
  (port) => port !== '0',
);

async function healthy(port) {
  try {
    const url = `http://${host}:${port}/healthz`;
    const response = await globalThis.fetch(url, {
      signal: globalThis.AbortSignal.timeout(3000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

const results = await Promise.all(ports.map(healthy));
process.exitCode = results.includes(true) ? 0 : 1;
