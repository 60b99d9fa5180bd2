/**
 * `npm run bench [-- --json] [--only queue,slack] [--capacity [--sessions N]]`: measures, and
 * prints (`--json`: one JSON line, also appended to bench/results.jsonl for `npm run
 * bench:report`; `--capacity`: the opt-in density benchmark, 100 sessions). Every figure sits
 * beside an anchor measured in the same run on the same machine, with the ratio, because these
 * machines are noisy and absolute numbers alone mislead. Benchmarks are never tests: nothing here fails
 * on a slow figure; the targets are printed for a person to judge.
 */
import { benchAnswerStream } from './answer-stream-bench.ts';
import { benchArrivals } from './arrival-bench.ts';
import { benchCapacity, sessionsFromArgs } from './capacity-bench.ts';
import { benchCheckpoints } from './checkpoint-bench.ts';
import { sandboxSettingsFromEnv } from './bench-settings.ts';
import { benchDiscord } from './discord-bench.ts';
import { benchQueue } from './queue-bench.ts';
import { benchRestarts } from './restart-bench.ts';
import { benchRuntimes } from './runtime-bench.ts';
import { benchTurns } from './turn-bench.ts';
import { benchTurnOverhead } from './turn-overhead-bench.ts';
import { benchTurnFaults } from './turn-fault-bench.ts';
import { benchSandbox } from './sandbox-bench.ts';
import { benchSlack } from './slack-bench.ts';
import { appendResults } from './results-log.ts';
import { TARGETS } from './targets.ts';

const json = process.argv.includes('--json');
const image = process.env.SANDBOX_IMAGE ?? 'sandbot-sandbox:latest';
const log = (line: string) => {
  if (!json) process.stderr.write(`bench: ${line}\n`);
};

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const sandbox = sandboxSettingsFromEnv(process.env);
const benchmarks: Record<string, () => Promise<object>> = {
  sandbox: () => benchSandbox(image, log, sandbox.runtime),
  runtimes: () => benchRuntimes(image, log),
  checkpoints: () => benchCheckpoints(image, log),
  queue: () => benchQueue(image, redisUrl, log),
  arrivals: () =>
    benchArrivals({
      image,
      redisUrl,
      runtime: sandbox.runtime,
      poolSize: sandbox.poolSize,
      poolMax: sandbox.poolMax ?? sandbox.poolSize,
      log,
    }),
  restarts: () => benchRestarts(redisUrl, log),
  turns: () => benchTurns(redisUrl, log),
  'turn-faults': () => benchTurnFaults(image, redisUrl, log),
  slack: () => benchSlack(image, log),
  'turn-overhead': () => benchTurnOverhead(image, log),
  discord: () => benchDiscord(image, log),
  'answer-stream': () => benchAnswerStream(image, log),
  capacity: () =>
    benchCapacity({
      image,
      sessions: sessionsFromArgs(process.argv, process.env),
      runtime: sandbox.runtime,
      log,
    }),
};
// Minutes long and host-filling (100 sessions by default), so only when asked for by name.
const OPT_IN = new Set(['capacity']);
// `--only queue,slack` runs just those (a quick check of one change); the default runs all.
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex === -1 ? undefined : process.argv[onlyIndex + 1]?.split(',');
const unknown = only?.filter((name) => !(name in benchmarks)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`,
  );
  process.exit(1);
}
const figures: Record<string, unknown> = {};
for (const [name, run] of Object.entries(benchmarks)) {
  const wanted =
    only === undefined
      ? !OPT_IN.has(name) || process.argv.includes(`--${name}`)
      : only.includes(name);
  if (wanted) Object.assign(figures, await run());
}

if (json) {
  // Kept for trends (`npm run bench:report`), and printed as before.
  appendResults(figures);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  for (const [name, value] of Object.entries(figures)) {
    const target = TARGETS[name] === undefined ? '' : `   (${TARGETS[name]})`;
    process.stdout.write(`${name.padEnd(42)} ${String(value).padStart(10)}${target}\n`);
  }
}
