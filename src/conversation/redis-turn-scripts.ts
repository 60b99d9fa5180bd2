/**
 * The Lua scripts of the Redis turn store: each check and the write it guards are one atomic
 * step on the server. Key layout (under `<prefix>:turns:`):
 *
 * - `ready`           ZSET session key -> when the thread last became ready to run (its
 *                     first turn's enqueue, or its last completion): claims look at the
 *                     longest-waiting thread first, so a busy thread cannot starve the rest.
 * - `thread:<key>`    ZSET of `<sortKey> <turnId>` members, all scored 0, so Redis orders
 *                     them by bytes: the sort key's byte order is the platform's order.
 * - `turn:<turnId>`   HASH: session, order, member, message (JSON), enqueuedAt, claims (how
 *                     many times taken), token (the latest claim's), `p:<field>` (progress).
 * - `lease:<key>`     STRING token with a PX TTL: the thread is held while it exists.
 * - `seen:<turnId>`   STRING with a PX TTL: the dedupe window, kept after completion.
 * - `seq`             INCR on every enqueue and completion, PUBLISHed on `wake`.
 *
 * Scripts that reach keys named by data (claim walks `ready`) build them from ARGV[1], the
 * `<prefix>:turns:` base; the store does not support Redis Cluster.
 */

/**
 * A runner holds a turn while the turn's latest claim is its own and no other claim holds
 * the thread. A lease that ran out with nobody taking the thread is still its own: a runner
 * paused longer than its lease carries on unless someone else took over.
 * KEYS[1] lease, KEYS[2] turn; ARGV[1] token.
 */
const HOLDS = `
local function holds()
  if redis.call('HGET', KEYS[2], 'token') ~= ARGV[1] then return false end
  local current = redis.call('GET', KEYS[1])
  return current == false or current == ARGV[1]
end
`;

/**
 * KEYS: seen, turn, thread, ready, seq. ARGV: dedupeMs, sessionKey, order, member, message,
 * enqueuedAt, wake channel. Returns 1 when added, 0 for a redelivery.
 */
export const ENQUEUE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'session', ARGV[2], 'order', ARGV[3], 'member', ARGV[4],
  'message', ARGV[5], 'enqueuedAt', ARGV[6], 'claims', '0')
redis.call('ZADD', KEYS[3], 0, ARGV[4])
redis.call('ZADD', KEYS[4], 'NX', ARGV[6], ARGV[2])
redis.call('PUBLISH', ARGV[7], redis.call('INCR', KEYS[5]))
return 1`;

/**
 * KEYS: ready, seq. ARGV: base, token, leaseMs. Leases the first turn of the longest-waiting
 * thread nobody holds. Returns { seq, session, HGETALL of the turn } or { seq }. Members whose
 * turn hash is gone (deleted by hand) are dropped on the way, and so are empty threads.
 *
 * Across a Redis restart: a lease's TTL runs on while Redis is down (it is stored as a
 * deadline), so a turn that was taken before and has no lease now is only taken over once this
 * Redis has been up for a lease length: every live runner gets that long to renew the lease
 * of the turn it is still running. And a claim that ioredis sends again after a reconnect
 * (the first one ran, its reply was lost) finds the lease it took and returns the same turn.
 */
export const CLAIM = `
local base = ARGV[1]
local token = ARGV[2]
local seq = redis.call('GET', KEYS[2]) or '0'
local function head(session)
  local thread = base .. 'thread:' .. session
  while true do
    local first = redis.call('ZRANGE', thread, 0, 0)[1]
    if not first then return nil end
    local turnKey = base .. 'turn:' .. string.sub(first, string.find(first, ' ', 1, true) + 1)
    if redis.call('EXISTS', turnKey) == 1 then return turnKey end
    redis.call('ZREM', thread, first)
  end
end
local function ownedBy(session)
  for _, member in ipairs(redis.call('ZRANGE', base .. 'thread:' .. session, 0, -1)) do
    local turnKey = base .. 'turn:' .. string.sub(member, string.find(member, ' ', 1, true) + 1)
    if redis.call('HGET', turnKey, 'token') == token then return turnKey end
  end
  return nil
end
local upMs
local function justStarted()
  if not upMs then
    local up = string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')
    upMs = up and 1000 * tonumber(up) or math.huge
  end
  -- INFO rounds its uptime: a second more, to be sure.
  return upMs < tonumber(ARGV[3]) + 1000
end
for _, session in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local lease = base .. 'lease:' .. session
  local holder = redis.call('GET', lease)
  if holder == token then
    local turnKey = ownedBy(session)
    if turnKey then return { seq, session, redis.call('HGETALL', turnKey) } end
  elseif not holder then
    local turnKey = head(session)
    if not turnKey then
      redis.call('ZREM', KEYS[1], session)
    elseif redis.call('HGET', turnKey, 'claims') == '0' or not justStarted() then
      redis.call('HINCRBY', turnKey, 'claims', 1)
      redis.call('HSET', turnKey, 'token', token)
      redis.call('SET', lease, token, 'PX', ARGV[3])
      return { seq, session, redis.call('HGETALL', turnKey) }
    end
  end
end
return { seq }`;

/** KEYS: lease, turn. ARGV: token, leaseMs. */
export const RENEW = `${HOLDS}
if not holds() then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS: lease, turn. ARGV: token, then field/value pairs to merge. */
export const RECORD = `${HOLDS}
if not holds() then return 0 end
if #ARGV > 1 then redis.call('HSET', KEYS[2], unpack(ARGV, 2)) end
return 1`;

/**
 * KEYS: lease, turn, thread, ready, seq. ARGV: token, sessionKey, now, wake channel. The
 * thread goes to the back of `ready` when it has more turns, so others get their go.
 */
export const COMPLETE = `${HOLDS}
if not holds() then return 0 end
local member = redis.call('HGET', KEYS[2], 'member')
redis.call('DEL', KEYS[2])
if member then redis.call('ZREM', KEYS[3], member) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('ZCARD', KEYS[3]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[2])
else
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
end
redis.call('PUBLISH', ARGV[4], redis.call('INCR', KEYS[5]))
return 1`;
