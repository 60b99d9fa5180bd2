/**
 * `npm run bench [-- --json] [--only queue,slack]`: measures, and prints. Every figure sits
 * beside an anchor measured in the same run on the same machine, with the ratio, because these
 * machines are noisy and absolute numbers alone mislead. Benchmarks are never tests: nothing here fails
 * on a slow figure; the targets are printed for a person to judge.
 */
import { benchAnswerStream } from './answer-stream-bench.ts';
import { benchDiscord } from './discord-bench.ts';
import { benchQueue } from './queue-bench.ts';
import { benchRestarts } from './restart-bench.ts';
import { benchTurns } from './turn-bench.ts';
import { benchTurnOverhead } from './turn-overhead-bench.ts';
import { benchTurnFaults } from './turn-fault-bench.ts';
import { benchSandbox } from './sandbox-bench.ts';
import { benchSlack } from './slack-bench.ts';

const json = process.argv.includes('--json');
const image = process.env.SANDBOX_IMAGE ?? 'sandbot-sandbox:latest';
const log = (line: string) => {
  if (!json) process.stderr.write(`bench: ${line}\n`);
};

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const benchmarks: Record<string, () => Promise<object>> = {
  sandbox: () => benchSandbox(image, log),
  queue: () => benchQueue(image, redisUrl, log),
  restarts: () => benchRestarts(redisUrl, log),
  turns: () => benchTurns(redisUrl, log),
  'turn-faults': () => benchTurnFaults(image, redisUrl, log),
  slack: () => benchSlack(image, log),
  'turn-overhead': () => benchTurnOverhead(image, log),
  discord: () => benchDiscord(image, log),
  'answer-stream': () => benchAnswerStream(image, log),
};
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
  if (only === undefined || only.includes(name)) Object.assign(figures, await run());
}

if (json) {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} else {
  const targets: Record<string, string> = {
    warm_vs_jupyter_ratio: 'target <= 3',
    plot_vs_jupyter_plot_ratio: 'target <= 1',
    docker_run_vs_new_session_ratio: 'target >= 7',
    idle_session_memory_mb: 'target < 80',
    copy_out_vs_archive_ratio: 'target <= 2',
    queue_cell_p50_ms: 'target < 10',
    queue_overhead_p50_ms: 'target < 3',
    turn_redis_added_p50_ms: 'target < 3',
    turn_sqlite_added_p50_ms: 'target < 3',
    resume_after_kill_s: 'target < 30',
    bot_share_p50_ms: 'target < 15',
    first_answer_token_visible_p50_ms: 'target < the edit interval',
  };
  for (const [name, value] of Object.entries(figures)) {
    const target = targets[name] === undefined ? '' : `   (${targets[name]})`;
    process.stdout.write(`${name.padEnd(42)} ${String(value).padStart(10)}${target}\n`);
  }
}
