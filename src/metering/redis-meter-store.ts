import type { Redis } from '../redis/connection.ts';
import { ttlOf, type MeterEntry, type MeterStore } from './meter-store.ts';
import { PEAK_FIELD, USAGE_FIELDS, usageFrom, type UsageTotals } from './usage-totals.ts';

/**
 * Adds to every hash in KEYS: ARGV holds field/value pairs, then one TTL (ms) per key. The peak
 * field keeps the larger value; the others add up. One script, so all entries move together.
 */
const ADD = `
local pairs_end = #ARGV - #KEYS
for k, key in ipairs(KEYS) do
  for i = 1, pairs_end, 2 do
    local field, value = ARGV[i], ARGV[i + 1]
    if field == '${PEAK_FIELD}' then
      local current = tonumber(redis.call('HGET', key, field) or '0')
      if tonumber(value) > current then redis.call('HSET', key, field, value) end
    else
      redis.call('HINCRBYFLOAT', key, field, value)
    end
  end
  redis.call('PEXPIRE', key, ARGV[pairs_end + k])
end
return 1
`;

/** Usage totals as one Redis hash per scope and period (`<prefix>:meter:<scope>:<period>`). */
export class RedisMeterStore implements MeterStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private keyOf(entry: MeterEntry): string {
    return `${this.prefix}:meter:${entry.scope}:${entry.period}`;
  }

  async add(entries: readonly MeterEntry[], usage: UsageTotals): Promise<void> {
    if (entries.length === 0) return;
    const pairs = USAGE_FIELDS.filter((f) => usage[f] !== 0).flatMap((f) => [f, String(usage[f])]);
    if (pairs.length === 0) return;
    await this.redis.eval(
      ADD,
      entries.length,
      ...entries.map((e) => this.keyOf(e)),
      ...pairs,
      ...entries.map((e) => String(ttlOf(e))),
    );
  }

  async read(entry: MeterEntry): Promise<UsageTotals> {
    return usageFrom(await this.redis.hgetall(this.keyOf(entry)));
  }
}
