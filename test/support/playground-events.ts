import type { PlaygroundEvent } from '../../adapters/web/event-hub.ts';

/**
 * The playground's live stream (Server-Sent Events on GET /api/events) as a page hears it, so
 * a test waits for the answer it is announced with instead of polling the thread on a clock.
 */
export interface PlaygroundEvents {
  /** Every event heard so far, in order. */
  readonly heard: readonly PlaygroundEvent[];
  /** Resolves with the first truthy result of `check`, tried now and after every event;
   *  rejects, naming `what`, if the stream ends first. */
  until<T>(what: string, check: () => T | undefined | null | false): Promise<T>;
  close(): void;
}

/** Connects to `${base}api/events`; resolves once the server has taken the stream, so every
 *  event published after that is heard. `headers` carry the token when one is set. */
export async function listenToPlayground(
  base: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<PlaygroundEvents> {
  const abort = new AbortController();
  const response = await fetch(new URL('api/events', base.endsWith('/') ? base : `${base}/`), {
    headers,
    signal: abort.signal,
  });
  if (!response.ok || response.body === null) {
    throw new Error(`the event stream answered ${response.status}`);
  }
  const body = response.body;
  const heard: PlaygroundEvent[] = [];
  const listeners = new Set<() => void>();
  /** Set once the stream has ended: why, for whoever still waits. */
  let ended: Error | undefined;
  const notify = () => listeners.forEach((listener) => listener());

  void (async () => {
    let buffer = '';
    try {
      for await (const text of body.pipeThrough(new TextDecoderStream())) {
        buffer += text;
        // A frame ends with a blank line; comments (keep-alives) and `retry:` carry no data.
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice('data: '.length))
            .join('\n');
          buffer = buffer.slice(end + 2);
          if (data !== '') heard.push(JSON.parse(data) as PlaygroundEvent);
        }
        notify();
      }
      ended = new Error('the server ended the stream');
    } catch (error) {
      ended = error instanceof Error ? error : new Error(String(error));
    }
    notify();
  })();

  return {
    heard,
    until<T>(what: string, check: () => T | undefined | null | false): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const look = () => {
          const found = check();
          if (found !== undefined && found !== null && found !== false) {
            listeners.delete(look);
            resolve(found);
          } else if (ended !== undefined) {
            listeners.delete(look);
            reject(new Error(`the event stream ended before ${what}`, { cause: ended }));
          }
        };
        listeners.add(look);
        look();
      });
    },
    close: () => abort.abort(),
  };
}
