import { Counter, Histogram, type Registry } from 'prom-client';
import type { UsageTotals } from '../metering/usage-totals.ts';

/** What a handled message came to, for /metrics. */
export type TurnOutcome = 'answered' | 'failed' | 'refused' | 'stop';

/** The bot's own Prometheus metrics (prom-client): messages by surface and outcome, turn time. */
export class ConversationMetrics {
  private readonly messages: Counter<'platform' | 'kind' | 'outcome'>;
  private readonly turnSeconds: Histogram<'platform' | 'kind'>;
  private readonly tokens: Counter<'platform' | 'type'>;
  private readonly modelCalls: Counter<'platform'>;
  private readonly cells: Counter<'platform'>;
  private readonly cpuSeconds: Counter<'platform'>;
  private readonly memoryPeak: Histogram<'platform'>;
  private readonly bytes: Counter<'platform' | 'direction'>;
  private readonly cost: Counter<'platform' | 'currency'>;

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
    // Usage, by platform only: per-user or per-channel labels would grow without bound
    // (those totals are in the session store and `status`).
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.tokens = counter(
      'sandbot_model_tokens_total',
      'Model tokens as the API reported them, by type (prompt, completion)',
      ['platform', 'type'],
    );
    this.modelCalls = counter('sandbot_model_calls_total', 'Model requests made by turns', [
      'platform',
    ]);
    this.cells = counter('sandbot_cells_total', 'Cells run (code, not uploads or commands)', [
      'platform',
    ]);
    this.cpuSeconds = counter(
      'sandbot_sandbox_cpu_seconds_total',
      "Sandbox CPU time of cells, read from the containers' cgroups",
      ['platform'],
    );
    this.bytes = counter(
      'sandbot_transfer_bytes_total',
      'Attachments taken in (in) and files and images produced (out)',
      ['platform', 'direction'],
    );
    this.cost = counter(
      'sandbot_model_cost_total',
      'Cost of model tokens by MODEL_PRICES, in the currency label',
      ['platform', 'currency'],
    );
    this.memoryPeak = new Histogram({
      name: 'sandbot_turn_memory_peak_bytes',
      help: "The highest sandbox container memory peak seen by a turn's cells (cgroup, page cache included)",
      labelNames: ['platform'],
      buckets: [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192].map((mb) => mb * 1024 * 1024),
      registers: [registry],
    });
  }

  usage(platform: string, totals: UsageTotals, currency: string): void {
    this.tokens.inc({ platform, type: 'prompt' }, totals.promptTokens);
    this.tokens.inc({ platform, type: 'completion' }, totals.completionTokens);
    this.modelCalls.inc({ platform }, totals.modelCalls);
    this.cells.inc({ platform }, totals.cells);
    this.cpuSeconds.inc({ platform }, totals.cpuSeconds);
    this.bytes.inc({ platform, direction: 'in' }, totals.bytesIn);
    this.bytes.inc({ platform, direction: 'out' }, totals.bytesOut);
    if (totals.cost > 0) this.cost.inc({ platform, currency }, totals.cost);
    if (totals.memoryPeakBytes > 0) this.memoryPeak.observe({ platform }, totals.memoryPeakBytes);
  }

  message(platform: string, kind: string, outcome: TurnOutcome): void {
    this.messages.inc({ platform, kind, outcome });
  }

  turn(platform: string, kind: string, seconds: number): void {
    this.turnSeconds.observe({ platform, kind }, seconds);
  }
}
