/**
 * Package approvals through the core with real stores: an install refused for names off the
 * allowlist asks PACKAGE_APPROVERS in the thread and waits; a press handled by another bot
 * process decides it; a turn resumed after its process died finds its question instead of
 * asking again. The surface is the edge here (a recording ApprovalPrompts), and so is the
 * install job: its runner answers as the worker's `packages` event would (the real job is
 * covered end to end in test/e2e/package-approval-slack.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { ApprovalStore } from '../../src/conversation/approval-store.ts';
import {
  installWithApproval,
  type ApprovalTurn,
  type InstallOutcome,
} from '../../src/conversation/package-approval-install.ts';
import { PackageApprovals } from '../../src/conversation/package-approvals.ts';
import { RedisApprovalStore } from '../../src/conversation/redis-approval-store.ts';
import { SqliteApprovalStore } from '../../src/conversation/sqlite-approval-store.ts';
import type { ApprovalPrompts, ApprovalQuestion } from '../../src/core/package-approval.ts';
import type { ReplyAddress } from '../../src/core/reply.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { openDatabase, type DatabaseSync } from '../../src/sqlite/open-database.ts';
import { connectRedis, deleteKeys, uniquePrefix } from '../support/redis.ts';

const services = inject('services');
const logger = pino({ level: 'silent' });
const SESSION = 'slack:T1:C1:1716.000100';
const ADDRESS: ReplyAddress = { surface: 'slack', channel: 'C1', threadTs: '1716.000100' };
const APPROVERS = ['slack:U0BOSS', 'slack:group:S0OPS', 'discord:1234'];

interface Backend {
  /** Another bot process's store on the same Redis prefix or SQLite file. */
  open(): Promise<ApprovalStore>;
  dispose(): Promise<void>;
}

function redisBackend(testName: string): Backend {
  const prefix = uniquePrefix(testName);
  const opened: Redis[] = [];
  return {
    async open() {
      const redis = await connectRedis(services.redisUrl ?? '');
      opened.push(redis);
      return new RedisApprovalStore(redis, prefix);
    },
    async dispose() {
      const first = opened[0];
      if (first !== undefined) await deleteKeys(first, prefix);
      for (const redis of opened) await redis.quit();
    },
  };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbot-approval-flow-'));
  const databases: DatabaseSync[] = [];
  return {
    open() {
      const db = openDatabase(dir);
      databases.push(db);
      return Promise.resolve(new SqliteApprovalStore(db));
    },
    async dispose() {
      for (const db of databases) db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The thread as a surface shows it: questions asked, and what replaced their buttons. */
class RecordedThread implements ApprovalPrompts {
  readonly asked: { readonly question: ApprovalQuestion; readonly messageId: string }[] = [];
  readonly settled: { readonly messageId: string; readonly outcome: string }[] = [];

  ask(_address: ReplyAddress, question: ApprovalQuestion): Promise<string> {
    const messageId = `m${this.asked.length + 1}`;
    this.asked.push({ question, messageId });
    return Promise.resolve(messageId);
  }

  settle(_address: ReplyAddress, messageId: string, text: { outcome: string }): Promise<void> {
    this.settled.push({ messageId, outcome: text.outcome });
    return Promise.resolve();
  }
}

const OFF_LIST: InstallOutcome = {
  installed: [],
  refused: [
    { name: 'sbtiny', version: '1.0', reason: 'not on the package list', offAllowlist: true },
    { name: 'sbdep', version: '0.3', reason: 'not on the package list', offAllowlist: true },
  ],
};
const INSTALLED: InstallOutcome = {
  installed: [
    { name: 'sbtiny', version: '1.0' },
    { name: 'sbdep', version: '0.3' },
  ],
  refused: [],
};

/** An install job as the worker answers it: off the list unless approved. */
function installJob() {
  const calls: (readonly string[] | undefined)[] = [];
  const run = (approved?: readonly string[]) => {
    calls.push(approved);
    return Promise.resolve(approved === undefined ? OFF_LIST : INSTALLED);
  };
  return { calls, run };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const backends = [
  {
    name: 'redis',
    available: services.redisUrl !== undefined,
    make: (testName: string) => Promise.resolve(redisBackend(testName)),
  },
  { name: 'sqlite', available: true, make: () => sqliteBackend() },
];

describe.each(backends)('package approvals across processes: $name', ({ available, make }) => {
  const test = it.skipIf(!available);
  let backend: Backend;
  let thread: RecordedThread;

  /** One bot process: its own store connection, the settings, and the Slack surface's
   *  buttons offered as its adapter offers them (`buttons` false: a surface without them). */
  async function process(timeoutMs = 60_000, buttons = true) {
    const approvals = new PackageApprovals({
      store: await backend.open(),
      settings: { approvers: APPROVERS, timeoutMs },
      logger,
      pollMs: 20,
    });
    if (buttons) approvals.offer('slack', thread);
    return approvals;
  }

  function turn(approvals: PackageApprovals, signal = new AbortController().signal): ApprovalTurn {
    return {
      services: { approvals },
      message: {
        sessionKey: SESSION,
        author: { id: 'U0ANA', name: 'ana' },
        text: 'install sbtiny',
        attachments: [],
        messageId: 'C1:1716.000200',
      },
      thread: { address: ADDRESS, progress: () => undefined, reply: () => Promise.resolve() },
      signal,
    };
  }

  beforeEach(async (context) => {
    if (!available) return;
    backend = await make(context.task.name);
    thread = new RecordedThread();
  });

  afterEach(async () => {
    if (available) await backend.dispose();
  });

  test("asks in the thread; a non-approver's press is refused, an approver's installs", async () => {
    const job = installJob();
    const installing = installWithApproval(turn(await process()), ['sbtiny'], job.run);
    await until(() => thread.asked.length === 1, 'the question');
    const question = thread.asked[0]?.question;
    expect(question?.text).toBe(
      "<@U0ANA> wants to install sbtiny 1.0 (and its dependency sbdep 0.3), which is not on this workspace's package list.",
    );
    const elsewhere = await process();
    const press = (id: string, groups: string[], approve = true) =>
      elsewhere.press({
        approvalId: question?.id ?? '',
        approve,
        platform: 'slack',
        user: { id, name: id, groups },
      });
    expect(await press('U0ANA', [])).toEqual({
      reply: 'Only <@U0BOSS>, <!subteam^S0OPS> can approve or deny package installs here.',
    });
    expect(await press('U0GRACE', ['group:S0OPS'])).toEqual({});
    expect(await press('U0BOSS', [], false)).toEqual({
      reply: 'This request was already answered: approved by <@U0GRACE>.',
    });
    const outcome = await installing;
    expect(job.calls).toEqual([undefined, ['sbtiny', 'sbdep']]);
    expect(outcome).toEqual({
      ...INSTALLED,
      approval: { outcome: 'approved', text: 'approved by @U0GRACE' },
    });
    expect(thread.settled.map((s) => s.outcome)).toEqual([
      'Approved by <@U0GRACE>: installing…',
      'Approved by <@U0GRACE>: installed sbtiny 1.0, sbdep 0.3.',
    ]);
  });

  test('a dependency off the list, found once its parent is approved, is asked about next', async () => {
    const calls: (readonly string[] | undefined)[] = [];
    const refusedFor = (name: string) => ({
      installed: [],
      refused: [{ name, reason: 'not on the package list', offAllowlist: true }],
    });
    const run = (approved?: readonly string[]) => {
      calls.push(approved);
      if (approved === undefined) return Promise.resolve(refusedFor('sbtiny'));
      return Promise.resolve(approved.includes('sbdep') ? INSTALLED : refusedFor('sbdep'));
    };
    const installing = installWithApproval(turn(await process()), ['sbtiny'], run);
    const elsewhere = await process();
    const user = { id: 'U0BOSS', name: 'boss' };
    for (const asked of [1, 2]) {
      await until(() => thread.asked.length === asked, `question ${asked}`);
      const approvalId = thread.asked[asked - 1]?.question.id ?? '';
      await elsewhere.press({ approvalId, approve: true, platform: 'slack', user });
    }
    expect(thread.asked.map((a) => a.question.text)).toEqual([
      "<@U0ANA> wants to install sbtiny, which is not on this workspace's package list.",
      "<@U0ANA> wants to install sbdep, which is not on this workspace's package list.",
    ]);
    expect((await installing).installed).toEqual(INSTALLED.installed);
    expect(calls).toEqual([undefined, ['sbtiny'], ['sbtiny', 'sbdep']]);
  });

  test('a denial refuses the install, naming who denied it', async () => {
    const job = installJob();
    const installing = installWithApproval(turn(await process()), ['sbtiny'], job.run);
    await until(() => thread.asked.length === 1, 'the question');
    const elsewhere = await process();
    const approvalId = thread.asked[0]?.question.id ?? '';
    const user = { id: 'U0BOSS', name: 'boss' };
    expect(await elsewhere.press({ approvalId, approve: false, platform: 'slack', user })).toEqual(
      {},
    );
    const outcome = await installing;
    expect(job.calls).toEqual([undefined]);
    expect(outcome.installed).toEqual([]);
    expect(outcome.refused.map((r) => [r.name, r.reason])).toEqual([
      ['sbtiny', 'denied by @boss'],
      ['sbdep', 'denied by @boss'],
    ]);
    expect(thread.settled.at(-1)?.outcome).toBe('Not installed: denied by <@U0BOSS>.');
  });

  test('Stop while the question waits ends it, and a press afterwards is told so', async () => {
    const stop = new AbortController();
    const approvals = await process();
    const installing = installWithApproval(
      turn(approvals, stop.signal),
      ['sbtiny'],
      installJob().run,
    );
    await until(() => thread.asked.length === 1, 'the question');
    stop.abort();
    const outcome = await installing;
    expect(outcome.approval?.outcome).toBe('cancelled');
    expect(thread.settled.at(-1)?.outcome).toBe(
      'Not installed: the request was stopped before anyone answered.',
    );
    const late = await approvals.press({
      approvalId: thread.asked[0]?.question.id ?? '',
      approve: true,
      platform: 'slack',
      user: { id: 'U0BOSS', name: 'boss' },
    });
    expect(late.reply).toBe(
      'This request was already answered: the request was stopped before anyone answered.',
    );
  });

  test('nobody answering in time refuses it, and a late press is told so', async () => {
    const job = installJob();
    const approvals = await process(1500);
    const outcome = await installWithApproval(turn(approvals), ['sbtiny'], job.run);
    expect(outcome.refused[0]?.reason).toBe('no answer within 2 seconds');
    expect(outcome.approval?.outcome).toBe('expired');
    expect(thread.settled.at(-1)?.outcome).toBe('Not installed: no answer within 2 seconds.');
    const late = await approvals.press({
      approvalId: thread.asked[0]?.question.id ?? '',
      approve: true,
      platform: 'slack',
      user: { id: 'U0BOSS', name: 'boss' },
    });
    expect(late.reply).toMatch(/already answered: no answer within/);
  });

  test('a turn resumed in another process finds its question instead of asking again', async () => {
    const stopped = new AbortController();
    // The first process dies while waiting: its turn is cut off, the record stays pending.
    const first = installWithApproval(
      turn(await process(), stopped.signal),
      ['sbtiny'],
      installJob().run,
    );
    await until(() => thread.asked.length === 1, 'the question');
    const resumedJob = installJob();
    const resumed = installWithApproval(turn(await process()), ['sbtiny'], resumedJob.run);
    const approvalId = thread.asked[0]?.question.id ?? '';
    const boss = { id: 'U0BOSS', name: 'boss' };
    await (await process()).press({ approvalId, approve: true, platform: 'slack', user: boss });
    expect((await resumed).approval?.outcome).toBe('approved');
    expect(resumedJob.calls).toEqual([undefined, ['sbtiny', 'sbdep']]);
    expect(thread.asked).toHaveLength(1);
    stopped.abort();
    expect((await first).approval?.outcome).toBe('approved');
  });

  test('nobody is asked when something else refused it, or where there are no buttons', async () => {
    const tooBig: InstallOutcome = {
      installed: [],
      refused: [
        { name: 'sbtiny', reason: 'not on the package list', offAllowlist: true },
        { name: 'sbhuge', reason: 'wheel over 50 MB', offAllowlist: false },
      ],
    };
    const refused = await installWithApproval(turn(await process()), ['sbtiny'], () =>
      Promise.resolve(tooBig),
    );
    expect(refused).toEqual(tooBig);
    const playground = await process(60_000, false);
    const noButtons = await installWithApproval(turn(playground), ['sbtiny'], installJob().run);
    expect(noButtons.refused[0]?.reason).toBe(
      'not on the package list; approvals need Slack or Discord',
    );
    expect(thread.asked).toEqual([]);
  });
});
