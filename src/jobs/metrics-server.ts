import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics in Prometheus text format and /healthz, on the given port. */
export async function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
  healthy: () => boolean,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      registry
        .metrics()
        .then((body) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(body);
        })
        .catch(() => {
          response.writeHead(500);
          response.end();
        });
      return;
    }
    if (request.url === '/healthz') {
      const ok = healthy();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      response.end(ok ? 'ok\n' : 'shutting down\n');
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
