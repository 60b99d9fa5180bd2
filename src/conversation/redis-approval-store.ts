import type { Redis } from '../redis/connection.ts';
import {
  APPROVAL_KEEP_MS,
  parseApproval,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalStore,
  type NewApproval,
} from './approval-store.ts';

/*
 * One hash per approval, <prefix>:package-approval:<id>, expiring APPROVAL_KEEP_MS after the
 * approval does: `request` (JSON, written once), `message` (the question's id), `decision`
 * (JSON, written once: HSETNX makes the first press win across processes).
 */

/** KEYS[1]: the hash. ARGV: field, value, 'nx' or 'set'. Writes only into a live hash (an
 *  expired one is not brought back without its TTL). */
const WRITE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[3] == 'nx' then return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** Approvals in Redis, shared by every bot process on one prefix. */
export class RedisApprovalStore implements ApprovalStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  /** `redis` stays the caller's to close. */
  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  async open(approval: NewApproval): Promise<ApprovalRecord> {
    const key = this.key(approval.id);
    const created = await this.redis.hsetnx(key, 'request', JSON.stringify(approval));
    if (created === 1) await this.redis.pexpireat(key, approval.expiresAt + APPROVAL_KEEP_MS);
    return (await this.get(approval.id)) ?? approval;
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    const fields = await this.redis.hgetall(this.key(id));
    if (fields.request === undefined) return undefined;
    return parseApproval(fields.request, fields.message, fields.decision);
  }

  async posted(id: string, messageId: string): Promise<void> {
    await this.redis.eval(WRITE, 1, this.key(id), 'message', messageId, 'set');
  }

  async decide(id: string, decision: ApprovalDecision): Promise<ApprovalRecord | undefined> {
    await this.redis.eval(WRITE, 1, this.key(id), 'decision', JSON.stringify(decision), 'nx');
    return this.get(id);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private key(id: string): string {
    return `${this.prefix}:package-approval:${id}`;
  }
}
