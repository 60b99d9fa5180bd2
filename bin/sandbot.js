#!/usr/bin/env node
// The sources are TypeScript run by Node's built-in type stripping (Node >= 22.18), so there
// is no build step; this shim only gives npm a JavaScript file to link as the `sandbot` bin.
// It checks the Node version before loading any .ts file, because an older Node fails on the
// first import with a bare ERR_UNKNOWN_FILE_EXTENSION. On an older Node it re-runs itself with
// the Node 24 that the project's `node` package installs in node_modules; without one it says
// in one line what to do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

/** Type stripping is on by default from 22.18 (the floor the README states; package.json has no `engines`: see docs/decisions.md). */
const MIN_NODE = [22, 18];
/** Set on the re-run, so a project Node that is somehow old too cannot loop. */
const RERUN_MARK = 'SANDBOT_NODE_RERUN';
/** EX_UNAVAILABLE: something the command needs (here: a recent Node) is not there. */
const EXIT_UNAVAILABLE = 69;

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) {
  const { runCli } = await import('../src/cli/main.ts');
  await runCli();
} else {
  rerunWithProjectNode();
}

function rerunWithProjectNode() {
  const projectNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  if (process.env[RERUN_MARK] === '1' || !existsSync(projectNode)) {
    process.stderr.write(
      `sandbot needs Node.js ${MIN_NODE.join('.')} or newer and this is ${process.version}: run \`npm install\` (it brings Node 24) and use \`npx sandbot\`, or install Node 24.\n`,
    );
    process.exit(EXIT_UNAVAILABLE);
  }
  const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [RERUN_MARK]: '1' },
  });
  // A terminal's Ctrl-C already reaches the child (same process group), and sandbot reads a
  // second SIGINT as "stop now", so SIGINT is only kept from ending this parent early. SIGTERM
  // and SIGHUP, usually sent to this pid alone, are passed on.
  process.on('SIGINT', () => undefined);
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // End the way the child ended, so whoever waits on this pid sees the same signal.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
}
