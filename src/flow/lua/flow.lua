--[[
  What the adaptive flows of several processes sharing one provider budget have learned
  together (src/flow/flow-share.ts): the rate and the calls in flight that all of them
  together may use, a pause, and who is there. Atomic: one script call.

  KEYS[1]  learned hash: rate (calls/s, all processes), concurrency (all processes),
           version (bumped by every cut), rateCutAt and concurrencyCutAt (server ms, the
           last cut of each), cutBy (process id), pausedUntil (server ms)
  KEYS[2]  peers: sorted set of process ids scored by their last heartbeat (server ms)
  ARGV[1]  op: 'read' | 'cut' | 'raise' | 'leave'
  ARGV[2]  process id (its heartbeat)
  ARGV[3]  proposed total rate, calls/s ('' = none)
  ARGV[4]  proposed total concurrency ('' = none)
  ARGV[5]  cut: pause everyone for this many ms; raise: the version the proposal grew from
  ARGV[6]  cut window ms: a cut within it of the last cut is the same event and cuts nothing more
  ARGV[7]  peer window ms: a process counts while its heartbeat is this recent
  ARGV[8]  ttl ms of the learned hash (renewed by every call)
  ARGV[9]  calls/s the server took from this process lately ('' = not known): kept per process
           (field taken:<id> of the learned hash, dropped with its heartbeat)
  ARGV[10] cut: the factor this process cut its own rate by, from what it took ('' = none)
  ARGV[11] the time to judge windows by, epoch ms ('' = Redis server time; tests on a fake clock)

  cut: lowers rate and concurrency to the proposal (never raises), bumps the version,
       unless another process cut that same limit within the window; the pause is kept
       either way (never shortened). The window is kept per limit: a start-up's first
       refusal cuts the calls in flight (slow start ends), and the rate cut that the next
       refusals show a moment later is another lesson, not that event's echo (one window for
       both kept the shared rate unlearned, and each process paced alone at what it saw:
       36/s together on a 25/s bucket, refusals for seconds). With a factor, the proposed total rate is that factor times what the
       server took from all the processes together (each one's latest report; one that has
       not reported counts as much as the cutter): processes seldom take equal shares, and
       the cutter's own take times the peer count put the total at a third of the server's
       rate when the cutter was the one a pause had held back (bench, no-headers, 3 processes).
  leave: this process is done: it no longer counts among the peers (the others take its
       share at their next read instead of 5 s later).
  raise: raises rate and concurrency to the proposal (never lowers) only when no cut came
       after the version the proposer grew from.

  Returns { rate, concurrency, version, pauseMs, peers, applied, cutBy } as strings ('' = not
  learned); applied is 1 when a cut or raise changed the hash.
]]
local now = tonumber(ARGV[11] or '')
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local op = ARGV[1]
local peerWindow = tonumber(ARGV[7])

if op == 'leave' then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HDEL', KEYS[1], 'taken:' .. ARGV[2])
else
  redis.call('ZADD', KEYS[2], now, ARGV[2])
end
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], 0, now - peerWindow)) do
  redis.call('HDEL', KEYS[1], 'taken:' .. gone)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, now - peerWindow)
redis.call('PEXPIRE', KEYS[2], peerWindow * 2)
local peers = redis.call('ZCARD', KEYS[2])
local taken = tonumber(ARGV[9] or '')
if taken ~= nil and op ~= 'leave' then redis.call('HSET', KEYS[1], 'taken:' .. ARGV[2], string.format('%.17g', taken)) end

local state = redis.call(
  'HMGET', KEYS[1], 'rate', 'concurrency', 'version', 'rateCutAt', 'concurrencyCutAt', 'pausedUntil', 'cutBy'
)
local rate = tonumber(state[1] or '')
local concurrency = tonumber(state[2] or '')
local version = tonumber(state[3] or '') or 0
local rateCutAt = tonumber(state[4] or '')
local concurrencyCutAt = tonumber(state[5] or '')
local pausedUntil = tonumber(state[6] or '') or 0
local cutBy = state[7] or ''
local proposedRate = tonumber(ARGV[3])
local proposedConcurrency = tonumber(ARGV[4])
local applied = 0

local factor = tonumber(ARGV[10] or '')
if op == 'cut' and factor ~= nil and taken ~= nil and taken > 0 then
  local total = 0
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    total = total + (tonumber(redis.call('HGET', KEYS[1], 'taken:' .. id) or '') or taken)
  end
  proposedRate = factor * total
end

if op == 'cut' then
  pausedUntil = math.max(pausedUntil, now + (tonumber(ARGV[5]) or 0))
  local window = tonumber(ARGV[6])
  if proposedRate ~= nil and (rateCutAt == nil or now >= rateCutAt + window) then
    rate = rate == nil and proposedRate or math.min(rate, proposedRate)
    rateCutAt = now
    applied = 1
  end
  if proposedConcurrency ~= nil and (concurrencyCutAt == nil or now >= concurrencyCutAt + window) then
    concurrency = concurrency == nil and proposedConcurrency or math.min(concurrency, proposedConcurrency)
    concurrencyCutAt = now
    applied = 1
  end
  if applied == 1 then
    version = version + 1
    cutBy = ARGV[2]
  end
elseif op == 'raise' then
  if tonumber(ARGV[5]) == version then
    if proposedRate ~= nil and rate ~= nil and proposedRate > rate then
      rate = proposedRate
      applied = 1
    end
    if proposedConcurrency ~= nil and concurrency ~= nil and proposedConcurrency > concurrency then
      concurrency = proposedConcurrency
      applied = 1
    end
  end
end

if op == 'cut' or op == 'raise' then
  local fields = { 'version', version, 'pausedUntil', string.format('%.17g', pausedUntil), 'cutBy', cutBy }
  if rate ~= nil then fields[#fields + 1] = 'rate'; fields[#fields + 1] = string.format('%.17g', rate) end
  if concurrency ~= nil then
    fields[#fields + 1] = 'concurrency'; fields[#fields + 1] = string.format('%.17g', concurrency)
  end
  for name, at in pairs({ rateCutAt = rateCutAt, concurrencyCutAt = concurrencyCutAt }) do
    fields[#fields + 1] = name; fields[#fields + 1] = string.format('%.17g', at)
  end
  redis.call('HSET', KEYS[1], unpack(fields))
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[8])) end

return {
  rate == nil and '' or string.format('%.6f', rate),
  concurrency == nil and '' or string.format('%.6f', concurrency),
  tostring(version),
  string.format('%.3f', math.max(0, pausedUntil - now)),
  tostring(peers),
  tostring(applied),
  cutBy,
}
