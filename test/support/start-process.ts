import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Helpers for tests that run the real `sandbot start` (or `npm start`) as a process. */

/** A port free on loopback right now, for a process that cannot report the one it got. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves once `output()` contains `pattern` (checked on each stdout chunk); rejects
 *  with the output if the process exits first. */
export function waitForOutput(
  child: ChildProcess,
  output: () => string,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const found = pattern.exec(output());
      if (found === null) return;
      child.stdout?.off('data', look);
      resolve(found);
    };
    child.stdout?.on('data', look);
    look();
    child.once('exit', (code) => reject(new Error(`the process exited ${code}:\n${output()}`)));
  });
}

/** The URL from the `Playground: …` line `sandbot start` prints once it serves the page. */
export async function announcedUrl(child: ChildProcess, output: () => string): Promise<string> {
  const [, url = ''] = await waitForOutput(child, output, /Playground: (\S+)/);
  return url;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
