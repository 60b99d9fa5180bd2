import type { ModelUsage } from '../agent/agent-turn.ts';
import type { AuditFile, AuditRecord } from '../audit/audit-record.ts';
import { sha256Hex } from '../audit/audit-record.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { BlobRef, BlobStore } from '../core/blob-store.ts';
import { cellImages, type CellResult } from '../core/cell-result.ts';
import type { SessionKey } from '../core/session-key.ts';
import type { UsageSettings } from '../core/usage-settings.ts';
import { budgetRefusal } from '../metering/budgets.ts';
import { meteredDay } from '../metering/metered-day.ts';
import {
  meterScopes,
  turnEntries,
  type MeterScopes,
  type MeterStore,
} from '../metering/meter-store.ts';
import { modelCost } from '../metering/model-cost.ts';
import { addUsage, NO_USAGE, type UsageTotals } from '../metering/usage-totals.ts';

/** What meters, prices and audits turns; every part optional. */
export interface UsageServices {
  readonly settings: UsageSettings;
  /** Where totals are kept; none: turns are only counted in /metrics. */
  readonly meters?: MeterStore;
  readonly audit?: AuditLog;
  /** For tests: the clock that decides the metered day. */
  readonly now?: () => Date;
}

/**
 * One turn's usage as it happens: tokens from the model's reports, each cell's CPU and
 * memory from the worker's `done`, bytes in and out. Each cell also leaves an audit line.
 * Nothing here is awaited on the reply's path: audit lines are written in the background and
 * the totals are stored after the reply (`store`).
 */
export class TurnMeter {
  /** Who wrote the cells from now on: `model` once the agent runs. */
  source: 'direct' | 'model' = 'direct';
  private usage: UsageTotals = { ...NO_USAGE, turns: 1 };
  private readonly key: SessionKey;
  private readonly userId: string;
  private readonly services: UsageServices | undefined;
  private readonly blobs: Pick<BlobStore, 'get'>;
  private readonly modelName: string | undefined;
  readonly scopes: MeterScopes;

  constructor(options: {
    readonly key: SessionKey;
    readonly userId: string;
    readonly services: UsageServices | undefined;
    readonly blobs: Pick<BlobStore, 'get'>;
    readonly modelName: string | undefined;
  }) {
    this.key = options.key;
    this.userId = options.userId;
    this.services = options.services;
    this.blobs = options.blobs;
    this.modelName = options.modelName;
    this.scopes = meterScopes(options.key, options.userId);
  }

  get totals(): UsageTotals {
    return this.usage;
  }

  /** The day the turn counts toward, in USAGE_TIME_ZONE. */
  get day(): string {
    const now = this.services?.now?.() ?? new Date();
    return meteredDay(now, this.services?.settings.timeZone ?? 'UTC');
  }

  /** This message's attachments, taken in. */
  attachments(files: readonly BlobRef[]): void {
    this.usage = addUsage(this.usage, { bytesIn: sum(files.map((f) => f.sizeBytes)) });
  }

  /** One model reply's worth (a whole agent turn's). */
  model(usage: ModelUsage): void {
    const cost =
      this.modelName === undefined
        ? 0
        : modelCost(this.services?.settings.prices ?? {}, this.modelName, usage);
    this.usage = addUsage(this.usage, { ...usage, cost });
  }

  /** One job of this turn: counted (a cell when it ran code), and audited. */
  cell(code: string, uploads: readonly BlobRef[], result: CellResult): void {
    const produced = [...result.files.map((f) => f.blob), ...cellImages(result)];
    this.usage = addUsage(this.usage, {
      cells: code === '' ? 0 : 1,
      cpuSeconds: result.usage?.cpuSeconds ?? 0,
      memoryPeakBytes: result.usage?.memoryPeakBytes ?? 0,
      bytesOut: sum(produced.map((b) => b.sizeBytes)),
    });
    this.services?.audit?.write(this.auditRecord(code, uploads, result));
  }

  /**
   * Why the next turn or cell may not run (a daily BUDGET_* limit reached, counting what this
   * turn used so far), or undefined. No meter store: no budgets.
   */
  async refusal(): Promise<string | undefined> {
    const meters = this.services?.meters;
    const settings = this.services?.settings;
    if (meters === undefined || settings === undefined) return undefined;
    return budgetRefusal({
      settings,
      meters,
      scopes: this.scopes,
      platform: this.key.platform,
      userId: this.userId,
      day: this.day,
      now: this.services?.now?.() ?? new Date(),
      pending: { ...this.usage, turns: 0 },
    });
  }

  /** Adds the turn's totals to the thread's, the person's, the channel's and the workspace's. */
  async store(): Promise<void> {
    await this.services?.meters?.add(turnEntries(this.scopes, this.day), this.usage);
  }

  private async auditRecord(
    code: string,
    uploads: readonly BlobRef[],
    result: CellResult,
  ): Promise<AuditRecord> {
    const source = code === '' ? 'upload' : this.source;
    return {
      time: new Date().toISOString(),
      platform: this.key.platform,
      workspace: this.key.workspace,
      channel: this.key.channel,
      thread: this.key.thread,
      user: this.userId,
      source,
      ...(source === 'model' && this.modelName !== undefined ? { model: this.modelName } : {}),
      codeSha256: sha256Hex(code),
      codeBytes: Buffer.byteLength(code),
      status: result.status,
      durationMs: result.durationMs,
      ...(result.usage === undefined
        ? {}
        : {
            cpuSeconds: Math.round(result.usage.cpuSeconds * 1000) / 1000,
            ...(result.usage.memoryPeakBytes === undefined
              ? {}
              : { memoryPeakBytes: result.usage.memoryPeakBytes }),
          }),
      filesIn: await Promise.all(uploads.map((b) => this.auditFile(b, b.name))),
      filesOut: await Promise.all(result.files.map((f) => this.auditFile(f.blob, f.path))),
    };
  }

  /** A file's name, size and hash (read back from the blob store, off the reply's path). */
  private async auditFile(blob: BlobRef, name: string): Promise<AuditFile> {
    const stored = await this.blobs.get(blob.id).catch(() => undefined);
    return {
      name,
      sizeBytes: blob.sizeBytes,
      sha256: stored === undefined ? undefined : sha256Hex(stored.content),
    };
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
