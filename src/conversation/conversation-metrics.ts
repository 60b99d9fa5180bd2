import { Counter, Histogram, type Registry } from 'prom-client';

/** What a handled message came to, for /metrics. */
export type TurnOutcome = 'answered' | 'failed' | 'refused' | 'stop';

/** The bot's own Prometheus metrics (prom-client): messages by surface and outcome, turn time. */
export class ConversationMetrics {
  private readonly messages: Counter<'platform' | 'kind' | 'outcome'>;
  private readonly turnSeconds: Histogram<'platform' | 'kind'>;

  constructor(registry: Registry) {
    this.messages = new Counter({
      name: 'sandbot_messages_total',
      help: 'Messages handled, by platform, kind (chat, code, command) and outcome',
      labelNames: ['platform', 'kind', 'outcome'],
      registers: [registry],
    });
    this.turnSeconds = new Histogram({
      name: 'sandbot_turn_duration_seconds',
      help: 'Time from a turn starting (after any queue) to its answer being posted',
      labelNames: ['platform', 'kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    });
  }

  message(platform: string, kind: string, outcome: TurnOutcome): void {
    this.messages.inc({ platform, kind, outcome });
  }

  turn(platform: string, kind: string, seconds: number): void {
    this.turnSeconds.observe({ platform, kind }, seconds);
  }
}
