/**
 * Durable turns under faults, with real processes (issue 13): `sandbot worker` and `sandbot
 * start` processes on one Redis prefix, the bots on the fake Slack over Socket Mode.
 *
 * - `resume_after_kill_s`: a bot process SIGKILLed while its turn's cell (about 2 s) runs, to
 *   that turn's answer posted, with a second bot replica already running; the anchor is the
 *   same turn's whole duration without a kill, in the same run. `resume_after_restart_s` is
 *   the same with one bot process, started again at once under its own name.
 * - `turns_per_s`: turns through the fake OpenAI-compatible model (one trivial cell each)
 *   answered per second by two bot processes; the anchor is one bot process, in the same run.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRedis, type Redis } from '../src/redis/connection.ts';
import { createDockerClient } from '../src/sandbox/docker-client.ts';
import { LABEL } from '../src/sandbox/labels.ts';
import { removeContainers } from '../src/sandbox/sandbox-manager.ts';
import { startFakeOpenAI, type RecordedRequest } from '../test/fakes/fake-openai-server.ts';
import { appMention } from '../test/fakes/fake-slack-payloads.ts';
import { startFakeSlack, type FakeSlack } from '../test/fakes/fake-slack-server.ts';
import { BotDeployment } from '../test/support/bot-deployment.ts';
import { percentile, round } from './stats.ts';

export interface TurnFaultFigures {
  /** SIGKILL of the bot running a turn (mid-cell) to its answer, a second replica running. */
  resume_after_kill_s: number;
  /** Anchor: the same turn, sent to answered, without a kill. */
  turn_without_kill_s: number;
  resume_after_kill_vs_turn_ratio: number;
  /** The same kill with one bot process, started again at once under its own name. */
  resume_after_restart_s: number;
  /** Model turns (one trivial cell each) answered per second by two bot processes. */
  turns_per_s: number;
  /** Anchor: the same with one bot process. */
  turns_per_s_one_bot: number;
  turns_per_s_two_vs_one_bot_ratio: number;
}

const CHANNEL = 'C0FAULTS';
/** Kill samples with a replica running (the figure is their median). */
const KILLS = 3;
/** Throughput: this many threads, each with this many turns per measurement. */
const THREADS = 8;
const TURNS_PER_THREAD = 10;
const CELL_S = 2;

/** `sandbot start` on the fake Slack; the platform settings include the fake model's. */
class SlackBots extends BotDeployment {
  bot(name: string): Promise<ChildProcess> {
    return this.run(['start', '--no-build'], name, /is running \(slack\)/);
  }
}

/** The fake model: a trivial cell for a user's message, then a short answer after its result. */
function modelReply(request: RecordedRequest) {
  const last = request.body.messages.at(-1) as { role?: string } | undefined;
  return last?.role === 'tool'
    ? { kind: 'text' as const, text: 'Done.' }
    : {
        kind: 'tool' as const,
        calls: [{ name: 'python', arguments: JSON.stringify({ code: 'print(6 * 7)' }) }],
      };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchTurnFaults(
  image: string,
  redisUrl: string,
  log: (line: string) => void,
): Promise<TurnFaultFigures> {
  const prefix = `sandbot-bench-turn-faults-${process.pid}`;
  const slack = await startFakeSlack({ spreadEvents: true });
  const model = await startFakeOpenAI();
  // Enough replies for every model turn of the run; each one answers what it is asked.
  model.script(
    ...Array.from({ length: 4 * THREADS * (2 * TURNS_PER_THREAD + 2) }, () => modelReply),
  );
  const redis = createRedis(redisUrl);
  await redis.connect();
  const bots = new SlackBots({
    redisUrl,
    prefix,
    sandboxImage: image,
    poolSize: 2,
    platformEnv: {
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_APP_TOKEN: slack.appToken,
      SLACK_API_URL: slack.apiUrl,
      OPENAI_BASE_URL: model.baseUrl,
      OPENAI_API_KEY: 'bench',
      OPENAI_MODEL: 'fake-model',
      USER_RATE_PER_MINUTE: '0',
    },
  });
  let users = 0;
  const send = async (text: string, threadTs?: string): Promise<string> => {
    const ts = slack.workspace.nextTs();
    users += 1;
    const event = appMention(slack.ids, {
      channel: CHANNEL,
      user: `U0BENCH${users}`,
      text: `<@${slack.ids.botUserId}> ${text}`,
      ts,
      ...(threadTs === undefined ? {} : { threadTs }),
    });
    // Sent just after a bot stopped, an envelope may go to its closing socket; Slack sends an
    // unacknowledged envelope again, and so does this (the bots drop a message seen twice).
    await slack.sendEvent(event).catch(async (error: unknown) => {
      if (!String(error).includes('was not acknowledged')) throw error;
      await slack.sendEvent(event);
    });
    return ts;
  };
  try {
    log('turn faults: one worker, two bot processes on the fake Slack and the fake model');
    await bots.worker('w1', { WORKER_CONCURRENCY: '4' });
    const running = new Map<string, ChildProcess>([['bot-a', await bots.bot('bot-a')]]);

    log(`turn faults: ${THREADS * TURNS_PER_THREAD} model turns, one bot, then two`);
    // Two sets of threads, both warmed up (kernels started) first, one per measurement: the
    // second measurement's threads are no longer (in history to read) than the first's.
    const oneBotRoots: string[] = [];
    const twoBotRoots: string[] = [];
    for (let t = 0; t < THREADS; t += 1) {
      oneBotRoots.push(await send('warm up'));
      twoBotRoots.push(await send('warm up'));
    }
    await answeredInThreads(slack, [...oneBotRoots, ...twoBotRoots], 1);
    const oneBot = await throughput(slack, oneBotRoots, send);
    running.set('bot-b', await bots.bot('bot-b'));
    const twoBots = await throughput(slack, twoBotRoots, send);

    log(`turn faults: a bot killed mid-cell, ${KILLS} times, a replica running`);
    const turn = (marker: string) =>
      `run print("${marker}-be" + "gun", flush=True); import time; time.sleep(${CELL_S}); ` +
      `print("${marker}-fini" + "shed")`;
    const withoutKill: number[] = [];
    const afterKill: number[] = [];
    for (let i = 0; i < KILLS; i += 1) {
      const plain = `plain${i}`;
      const sentAt = performance.now();
      const ts = await send(turn(plain));
      await finished(slack, ts, plain);
      withoutKill.push((performance.now() - sentAt) / 1000);

      const marker = `kill${i}`;
      const killedTs = await send(turn(marker));
      const victim = await holderOf(redis, prefix, sessionOf(slack, killedTs), running);
      const killedAt = performance.now();
      await bots.stop(running.get(victim) as ChildProcess, 'SIGKILL');
      await finished(slack, killedTs, marker);
      afterKill.push((performance.now() - killedAt) / 1000);
      running.set(victim, await bots.bot(victim));
    }

    log('turn faults: the same with one bot process, started again at once');
    const [spare = ''] = [...running.keys()];
    await bots.stop(running.get(spare) as ChildProcess, 'SIGTERM');
    running.delete(spare);
    const marker = 'restart';
    const restartTs = await send(turn(marker));
    const victim = await holderOf(redis, prefix, sessionOf(slack, restartTs), running);
    const killedAt = performance.now();
    await bots.stop(running.get(victim) as ChildProcess, 'SIGKILL');
    running.set(victim, await bots.bot(victim));
    await finished(slack, restartTs, marker);
    const afterRestart = (performance.now() - killedAt) / 1000;

    const resume = percentile(afterKill, 50);
    const plain = percentile(withoutKill, 50);
    return {
      resume_after_kill_s: resume,
      turn_without_kill_s: plain,
      resume_after_kill_vs_turn_ratio: round(resume / plain),
      resume_after_restart_s: round(afterRestart),
      turns_per_s: round(twoBots, 1),
      turns_per_s_one_bot: round(oneBot, 1),
      turns_per_s_two_vs_one_bot_ratio: round(twoBots / oneBot),
    };
  } finally {
    bots.dispose();
    await removeContainers(createDockerClient(), { [LABEL.deployment]: prefix });
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await slack.close();
    await model.close();
  }
}

/** Sends TURNS_PER_THREAD model turns to every (warmed-up) thread; turns answered per second. */
async function throughput(
  slack: FakeSlack,
  roots: readonly string[],
  send: (text: string, threadTs?: string) => Promise<string>,
): Promise<number> {
  const began = performance.now();
  for (let k = 0; k < TURNS_PER_THREAD; k += 1) {
    for (const root of roots) await send('compute the answer', root);
  }
  await answeredInThreads(slack, roots, 1 + TURNS_PER_THREAD); // and the warm-up's
  return (roots.length * TURNS_PER_THREAD) / ((performance.now() - began) / 1000);
}

/** Resolves once every thread has `count` model answers. */
function answeredInThreads(slack: FakeSlack, roots: readonly string[], count: number) {
  const answers = (root: string) =>
    slack.workspace.messages.filter(
      (m) => !m.deleted && m.threadTs === root && m.text.includes('Done.'),
    ).length;
  return slack.waitFor(
    () => roots.every((root) => answers(root) >= count),
    `${count} answers in every thread`,
    300_000,
  );
}

function finished(slack: FakeSlack, ts: string, marker: string) {
  return slack.waitFor(
    () =>
      slack.workspace.messages.find(
        (m) => !m.deleted && m.threadTs === ts && m.text.includes(`${marker}-finished`),
      ),
    `the answer of ${marker}`,
    120_000,
  );
}

function sessionOf(slack: FakeSlack, ts: string): string {
  return `slack:${slack.ids.teamId}:${CHANNEL}:${ts}`;
}

/**
 * The name of the bot process running the thread's turn, once its cell has started: the
 * cell's job id is derived from the turn id (durable-turns.ts: `t<sha256 prefix>-<cell>`), and
 * the lease's token starts with the runner id, `<WORKER_ID>-<pid>`.
 */
async function holderOf(
  redis: Redis,
  prefix: string,
  sessionKey: string,
  running: ReadonlyMap<string, ChildProcess>,
): Promise<string> {
  const base = `${prefix}:turns:`;
  const until = Date.now() + 60_000;
  let seen = 'no turn';
  while (Date.now() < until) {
    const [member] = await redis.zrange(`${base}thread:${sessionKey}`, '0', '0');
    const turnId = member?.replace(/^\S+ /, '');
    if (turnId !== undefined) {
      const digest = createHash('sha256').update(turnId).digest('hex').slice(0, 32);
      const events = await redis.xrange(`${prefix}:job:t${digest}-0:events`, '-', '+');
      const started = events.some(([, fields]) => (fields[1] ?? '').includes('"started"'));
      const token = started ? await redis.get(`${base}lease:${sessionKey}`) : null;
      seen = `turn ${turnId}, cell started: ${String(started)}, lease: ${String(token)}`;
      for (const [name, child] of running) {
        if (token?.startsWith(`${name}-${String(child.pid)}:`) === true) return name;
      }
    }
    await sleep(20);
  }
  throw new Error(`no bot process found running the turn (${seen})`);
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
