/**
 * The bot's own share of a turn (issue 19): the real `sandbot start` process, with the
 * settings a user gets, on the fake Slack (Socket Mode) and a fake model that answers at once.
 * Each turn is a mention; the model calls `python` once, then answers. Measured from outside
 * only, on one clock (CLOCK_MONOTONIC, which a runc container shares with the host; the fakes
 * run in this process):
 * - turn_overhead_to_model: the event sent by the fake Slack → the first model request in full
 * - tool_call_to_cell_start: the model's tool-call answer finished → the cell's first statement
 * - cell_end_to_model: the cell's last statement → the next model request in full
 * - answer_to_post: the model's final answer finished → its chat.postMessage at the fake Slack
 * Their sum sits beside the anchor measured in the same run: a warm cell's round trip straight
 * to a sandbox of the same image (what running the code costs by itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MemoryBlobStore } from '../src/blobs/memory-blob-store.ts';
import { buildCellResult } from '../src/core/cell-result-builder.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { LABEL } from '../src/sandbox/labels.ts';
import { SandboxManager, removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { startFakeOpenAI, type TimedExchange } from '../test/fakes/fake-openai-server.ts';
import { appMention } from '../test/fakes/fake-slack-payloads.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/fake-slack-server.ts';
import { benchSettings } from './queue-fixture.ts';
import { percentile, round, timeMs } from './stats.ts';

/** Threads, each with its own person (the default limit is 20 messages a person a minute). */
const THREADS = 6;
/** Measured turns per thread, after one warm-up turn that opens the thread's session. */
const TURNS_PER_THREAD = 6;
/** SANDBOX_POOL_SIZE's default: the warm kernels the bot keeps besides the threads' own. */
const DEFAULT_POOL_SIZE = 2;
/**
 * After the warm-up the pool refills: its new kernels import the data stack (CPU-bound, about
 * a second each on this host). Turns measured meanwhile would time the refill, not the bot.
 */
const SETTLE_MS = 5000;
/**
 * A pause after each turn's answer and after each anchor cell: the bot finishes a turn after
 * posting (reaction, session saved), and neither the anchor nor the next turn should share
 * the CPU with that tail. People do not write again within a tenth of a second either.
 */
const PAUSE_MS = 100;
const CHANNEL = 'C0OVERHEAD';
const BIN = join(import.meta.dirname, '..', 'bin', 'sandbot.js');

export interface TurnOverheadFigures {
  turn_overhead_to_model_p50_ms: number;
  turn_overhead_to_model_p95_ms: number;
  tool_call_to_cell_start_p50_ms: number;
  tool_call_to_cell_start_p95_ms: number;
  cell_end_to_model_p50_ms: number;
  cell_end_to_model_p95_ms: number;
  answer_to_post_p50_ms: number;
  answer_to_post_p95_ms: number;
  /** The four p50s added up: the bot's share of a one-cell turn. */
  bot_share_p50_ms: number;
  /** The whole turn as the thread sees it: event → answer posted. */
  turn_event_to_answer_p50_ms: number;
  /** Anchor: a warm `1+1`-sized cell straight to a sandbox, no bot around it. */
  raw_cell_p50_ms: number;
  bot_share_vs_raw_cell_ratio: number;
}

interface TurnSample {
  toModelMs: number;
  toCellStartMs: number;
  cellEndToModelMs: number;
  answerToPostMs: number;
  turnMs: number;
}

/** performance.now() of a CLOCK_MONOTONIC reading in nanoseconds (Python's clock_gettime_ns). */
const monotonicOriginNs = process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
const fromMonotonicNs = (ns: bigint): number => Number(ns - monotonicOriginNs) / 1e6;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const person = (thread: number) => `U0OVER${thread}`;

/** The cell the model asks for: it reads the clock first and last, and prints both. */
function cellCode(turn: number): string {
  return [
    'import time as _bench_time',
    '_bench_start = _bench_time.clock_gettime_ns(_bench_time.CLOCK_MONOTONIC)',
    `_bench_value = ${turn} * 2`,
    'print("bench-cell", _bench_start, _bench_time.clock_gettime_ns(_bench_time.CLOCK_MONOTONIC))',
  ].join('\n');
}

export async function benchTurnOverhead(
  image: string,
  log: (line: string) => void,
): Promise<TurnOverheadFigures> {
  log('turn overhead: `sandbot start` (default settings) on the fake Slack and an instant model');
  const slack = await startFakeSlack();
  // Real people exist: users.info answers once per person and the name is remembered.
  for (let thread = 0; thread < THREADS; thread += 1) {
    slack.workspace.users.set(person(thread), `person ${thread}`);
  }
  const model = await startFakeOpenAI();
  const exchanges: TimedExchange[] = [];
  model.onExchange((exchange) => exchanges.push(exchange));
  const workerId = `bench-overhead-${process.pid}`;
  const cwd = await mkdtemp(join(tmpdir(), 'sandbot-bench-overhead-'));
  const bot = await startBot(slack, model.baseUrl, image, workerId, cwd);
  const docker = createDockerClient();
  const anchorWorker = `${workerId}-anchor`;
  const manager = new SandboxManager({
    docker,
    settings: benchSettings(image),
    workerId: anchorWorker,
    sessionIdleMs: 600_000,
    logger: pino({ level: 'silent' }),
  });
  try {
    await manager.start();
    const anchor = manager.session('bench:overhead-anchor');
    const blobs = new MemoryBlobStore({ maxBlobBytes: 1e6, ttlMs: 60_000 });
    const rawCell = () => timeMs(() => buildCellResult(anchor.execute(cellCode(0)), blobs));
    const roots: string[] = [];
    const samples: TurnSample[] = [];
    const raw: number[] = [];
    let turn = 0;
    for (let round_ = 0; round_ <= TURNS_PER_THREAD; round_ += 1) {
      for (let thread = 0; thread < THREADS; thread += 1) {
        turn += 1;
        const sample = await oneTurn(thread, turn);
        await pause(PAUSE_MS);
        raw.push(await rawCell());
        await pause(PAUSE_MS);
        // Round 0 opens each thread's session (and warms both processes): not counted.
        if (round_ > 0) samples.push(sample);
      }
      if (round_ === 0) await settle(docker, workerId);
    }
    const p50 = (pick: (s: TurnSample) => number) => percentile(samples.map(pick), 50);
    const p95 = (pick: (s: TurnSample) => number) => percentile(samples.map(pick), 95);
    const share = round(
      p50((s) => s.toModelMs) +
        p50((s) => s.toCellStartMs) +
        p50((s) => s.cellEndToModelMs) +
        p50((s) => s.answerToPostMs),
    );
    const rawP50 = percentile(raw.slice(THREADS), 50);
    return {
      turn_overhead_to_model_p50_ms: p50((s) => s.toModelMs),
      turn_overhead_to_model_p95_ms: p95((s) => s.toModelMs),
      tool_call_to_cell_start_p50_ms: p50((s) => s.toCellStartMs),
      tool_call_to_cell_start_p95_ms: p95((s) => s.toCellStartMs),
      cell_end_to_model_p50_ms: p50((s) => s.cellEndToModelMs),
      cell_end_to_model_p95_ms: p95((s) => s.cellEndToModelMs),
      answer_to_post_p50_ms: p50((s) => s.answerToPostMs),
      answer_to_post_p95_ms: p95((s) => s.answerToPostMs),
      bot_share_p50_ms: share,
      turn_event_to_answer_p50_ms: p50((s) => s.turnMs),
      raw_cell_p50_ms: rawP50,
      bot_share_vs_raw_cell_ratio: round(share / rawP50),
    };

    /** One mention in `thread`: the model runs one cell, then answers with a marker. */
    async function oneTurn(thread: number, n: number): Promise<TurnSample> {
      const marker = `answer-${n}-done`;
      model.script(
        {
          kind: 'tool',
          calls: [{ name: 'python', arguments: JSON.stringify({ code: cellCode(n) }) }],
        },
        { kind: 'text', text: `The cell ran. ${marker}` },
      );
      const first = exchanges.length;
      const ts = slack.workspace.nextTs();
      const root = roots[thread] ?? ts;
      roots[thread] ??= ts;
      const event = appMention(slack.ids, {
        channel: CHANNEL,
        user: person(thread),
        text: `<@${slack.ids.botUserId}> turn ${n}`,
        ts,
        ...(root === ts ? {} : { threadTs: root }),
      });
      const sentAtMs = performance.now();
      const sent = slack.sendEvent(event);
      const post = await slack.waitFor(
        () =>
          slack.calls.find(
            (c) => c.method === 'chat.postMessage' && c.ok && String(c.args.text).includes(marker),
          ),
        `the answer of turn ${n}`,
      );
      await sent;
      const [toolCall, answer] = exchanges.slice(first);
      if (toolCall === undefined || answer === undefined || exchanges.length !== first + 2) {
        throw new Error(`turn ${n}: expected two model requests, saw ${exchanges.length - first}`);
      }
      const [cellStartMs, cellEndMs] = cellClock(answer);
      return {
        toModelMs: toolCall.arrivedAtMs - sentAtMs,
        toCellStartMs: cellStartMs - toolCall.answeredAtMs,
        cellEndToModelMs: answer.arrivedAtMs - cellEndMs,
        answerToPostMs: post.atMs - answer.answeredAtMs,
        turnMs: post.atMs - sentAtMs,
      };
    }
  } finally {
    await manager.close();
    await stopBot(bot);
    // `sandbot start` runs its embedded worker as bot-WORKER_ID.
    await removeContainers(docker, { [LABEL.worker]: `bot-${workerId}` });
    await removeContainers(docker, { [LABEL.worker]: anchorWorker });
    await model.close();
    await slack.close();
    await rm(cwd, { recursive: true, force: true });
  }
}

/** Waits until the bot holds the threads' kernels and a full pool again, and a while more. */
async function settle(docker: ReturnType<typeof createDockerClient>, workerId: string) {
  const until = Date.now() + 120_000;
  for (;;) {
    const running = await docker.listContainers({
      filters: { label: [`${LABEL.worker}=bot-${workerId}`] },
    });
    if (running.length >= THREADS + DEFAULT_POOL_SIZE || Date.now() > until) break;
    await pause(200);
  }
  await pause(SETTLE_MS);
}

/** The cell's first and last clock readings, from the tool result the model was sent. */
function cellClock(exchange: TimedExchange): [number, number] {
  const tool = exchange.request.body.messages.findLast(
    (m) => (m as { role?: unknown }).role === 'tool',
  );
  const found = /bench-cell (\d+) (\d+)/.exec(JSON.stringify(tool ?? ''));
  if (found?.[1] === undefined || found[2] === undefined) {
    throw new Error('the tool result does not carry the cell clock');
  }
  return [fromMonotonicNs(BigInt(found[1])), fromMonotonicNs(BigInt(found[2]))];
}

/** `sandbot start` as a user starts it: only the platform, the model and the image are set. */
async function startBot(
  slack: FakeSlack,
  modelUrl: string,
  image: string,
  workerId: string,
  cwd: string,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--no-build'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
      OPENAI_API_KEY: 'bench',
      OPENAI_BASE_URL: modelUrl,
      SANDBOX_IMAGE: image,
      // Its own id, so its start-up sweep of orphaned containers touches nobody else's.
      WORKER_ID: workerId,
      HTTP_PORT: '0',
      ...(process.env.DOCKER_HOST === undefined ? {} : { DOCKER_HOST: process.env.DOCKER_HOST }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const until = Date.now() + 120_000;
  while (!/sandbot is running \(slack\)/.test(output)) {
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`sandbot start did not come up:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

async function stopBot(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(guard);
}
