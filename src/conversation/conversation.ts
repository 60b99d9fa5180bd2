import { randomUUID } from 'node:crypto';
import { isSandbotError } from '../core/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { parseSessionKey, type SessionKey } from '../core/session-key.ts';
import type { AccessDecision, ConversationPort } from '../core/chat-adapter.ts';
import type {
  ApprovalPress,
  ApprovalPressAnswer,
  ApprovalPrompts,
} from '../core/package-approval.ts';
import type { AccessPolicy } from './access-policy.ts';
import type { ConversationMetrics } from './conversation-metrics.ts';
import type { InboundMessage } from '../core/inbound-message.ts';
import { MemoryRunningTurns } from '../core/memory-running-turns.ts';
import type { RunningTurns, TurnRegistration } from '../core/running-turns.ts';
import { parseMessage, type ParsedMessage } from './parse-message.ts';
import { textReply, type ThreadReply } from '../core/reply.ts';
import { runTurn } from './run-turn.ts';
import { meteredDay } from '../metering/metered-day.ts';
import { usageLine } from './usage-text.ts';
import { openTurn, type TurnContext, type TurnServices } from './turn-context.ts';
import { TurnQueue } from './turn-queue.ts';
import { DurableTurns, type DurableTurnInfo, type DurableTurnsOptions } from './durable-turns.ts';

export interface ConversationOptions extends TurnServices {
  readonly policy: AccessPolicy;
  readonly logger: Logger;
  /** Counts messages and times turns for /metrics; none in one-shot commands. */
  readonly metrics?: ConversationMetrics;
  /** Where `stop` finds the running turn: shared by every bot process with Redis. Default:
   *  this process's memory. The caller closes it. */
  readonly runningTurns?: RunningTurns;
  /**
   * Durable turns (`sandbot start`): messages whose reply can be rebuilt in another process
   * are stored and answered by a turn runner in any bot process. Without it (the terminal,
   * tests of the core), turns run in this process, in arrival order.
   */
  readonly durable?: Omit<DurableTurnsOptions, 'answer'>;
}

/**
 * Where a message becomes work, the same for every surface: access policy, then `stop` at
 * once, and every other message as a turn, one at a time per thread, in order (the turn
 * itself: src/conversation/run-turn.ts).
 */
export class Conversation implements ConversationPort {
  private readonly options: ConversationOptions;
  private readonly turns = new TurnQueue();
  /** The running turn of each thread, so `stop` can reach it without queueing, in
   *  whichever process it runs. */
  private readonly running: RunningTurns;
  private readonly durable: DurableTurns | undefined;

  constructor(options: ConversationOptions) {
    this.options = options;
    this.running = options.runningTurns ?? new MemoryRunningTurns();
    this.durable =
      options.durable === undefined
        ? undefined
        : new DurableTurns({
            ...options.durable,
            answer: (message, thread, info) => this.answer(message, thread, info),
          });
  }

  /** Starts answering durable turns (after the adapters are up, so replies can be rebuilt). */
  startTurns(): void {
    this.durable?.start();
  }

  /** Stops taking durable turns; running ones get `graceMs`, then are left to be resumed. */
  async stopTurns(graceMs: number): Promise<void> {
    await this.durable?.stop(graceMs);
  }

  /** Whether the bot has a session in this thread: adapters answer such threads without a
   *  mention. */
  async hasSession(sessionKey: string): Promise<boolean> {
    // A first turn still running has not saved its session yet, but the thread is live.
    if (this.turns.pending(sessionKey) > 0) return true;
    if (this.durable !== undefined && (await this.durable.pending(sessionKey)) > 0) return true;
    return (await this.options.sessions.load(sessionKey)) !== undefined;
  }

  /**
   * Whether the allowlists let this person use the bot in this place, counting nothing: for
   * adapters that must decide before creating something (Discord opens a thread for a
   * mention). `handle` checks again, the rate limit included.
   */
  admits(
    platform: string,
    place: { readonly channel: string; readonly workspace: string },
    userId: string,
    groups?: readonly string[],
  ): AccessDecision {
    return this.options.policy.allowlisted(platform, userId, place, groups);
  }

  async handle(message: InboundMessage, thread: ThreadReply): Promise<void> {
    const key = parseSessionKey(message.sessionKey);
    if (key === undefined) throw new Error(`malformed session key: ${message.sessionKey}`);
    const { id, groups } = message.author;
    const decision = await this.options.policy.check(key.platform, id, key, groups);
    if (!decision.allowed) {
      this.options.metrics?.message(key.platform, 'refused', 'refused');
      await thread.reply(textReply(decision.reply));
      return;
    }
    const parsed = parseMessage(message.text);
    if (parsed.kind === 'command' && parsed.name === 'stop') {
      await this.stop(key, message, thread);
      return;
    }
    if (this.durable?.canStore(thread) === true) {
      await this.durable.submit(message, thread);
      return;
    }
    await this.turns.run(message.sessionKey, () => this.turn(key, message, parsed, thread));
  }

  /** A durable turn's answer, in whichever process its runner took it. */
  private async answer(
    message: InboundMessage,
    thread: ThreadReply,
    info: DurableTurnInfo,
  ): Promise<void> {
    const key = parseSessionKey(message.sessionKey);
    if (key === undefined) throw new Error(`malformed session key: ${message.sessionKey}`);
    await this.turn(key, message, parseMessage(message.text), thread, info);
  }

  /** Approve or Deny pressed on a package question, in whichever process it landed. */
  pressApproval(press: ApprovalPress): Promise<ApprovalPressAnswer> {
    const approvals = this.options.approvals;
    if (approvals === undefined) return Promise.resolve({ reply: 'Package approvals are off.' });
    return approvals.press(press);
  }

  offerApprovalPrompts(surface: string, prompts: ApprovalPrompts): void {
    this.options.approvals?.offer(surface, prompts);
  }

  async usageToday(platform: string, userId: string): Promise<string | undefined> {
    const usage = this.options.usage;
    if (usage?.meters === undefined) return undefined;
    const { currency, timeZone } = usage.settings;
    const day = meteredDay(new Date(), timeZone);
    const totals = await usage.meters.read({ scope: `user:${platform}:${userId}`, period: day });
    return usageLine(`You today (${day}, ${timeZone})`, totals, currency);
  }

  /** After the reply: the turn's usage into /metrics and the shared meters, not awaited. */
  private storeUsage(context: TurnContext): void {
    const { totals } = context.meter;
    const platform = parseSessionKey(context.message.sessionKey)?.platform ?? 'unknown';
    this.options.metrics?.usage(platform, totals, this.options.usage?.settings.currency ?? 'USD');
    context.meter.store().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not store the usage of a turn');
    });
  }

  /** Not queued: it must reach the turn that is running now. */
  private async stop(key: SessionKey, message: InboundMessage, thread: ThreadReply) {
    this.options.metrics?.message(key.platform, 'stop', 'stop');
    const stopped = await this.running.stop(message.sessionKey);
    await thread.reply(textReply(stopped ? 'Stopping the running cell.' : 'Nothing is running.'));
  }

  /** One turn, answered exactly once: with its reply, or with a reference to the logs. */
  private async turn(
    key: SessionKey,
    message: InboundMessage,
    parsed: ParsedMessage,
    thread: ThreadReply,
    durable?: DurableTurnInfo,
  ): Promise<void> {
    const metrics = this.options.metrics;
    const kind = parsed.kind === 'command' ? parsed.name : parsed.kind;
    const controller = new AbortController();
    let registration: TurnRegistration | undefined;
    const startedAt = performance.now();
    try {
      registration = await this.running.started(message.sessionKey);
      registration.onStop(() => controller.abort());
      durable?.leaseLost.addEventListener('abort', () => controller.abort(), { once: true });
      const context = await openTurn(this.options, message, thread, controller.signal, durable);
      // Code and questions count toward the daily budgets; commands (status, help…) do not.
      const refusal =
        parsed.kind === 'chat' || parsed.kind === 'code'
          ? await context.meter.refusal()
          : undefined;
      if (refusal !== undefined) {
        metrics?.message(key.platform, kind, 'refused');
        await thread.reply(textReply(refusal, context.refusals));
        return;
      }
      await thread.reply(await runTurn(context, parsed));
      metrics?.message(key.platform, kind, 'answered');
      metrics?.turn(key.platform, kind, (performance.now() - startedAt) / 1000);
      this.storeUsage(context);
    } catch (error) {
      // A durable turn cut off by this process's shutdown is resumed elsewhere, and one taken
      // over by another runner is answered there: neither is apologised for here.
      if (durable?.stopping.aborted === true || durable?.leaseLost.aborted === true) throw error;
      metrics?.message(key.platform, kind, 'failed');
      const reference = randomUUID().slice(0, 8);
      this.options.logger.error(
        { err: error, reference, session: message.sessionKey },
        'turn failed',
      );
      const detail = isSandbotError(error) ? ` (${error.message})` : '';
      await thread.reply(
        textReply(`Something went wrong on my side${detail}. Reference: ${reference}.`),
      );
    } finally {
      await registration?.end();
    }
  }
}
