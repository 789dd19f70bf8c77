--[[
  Reserves the next slot for one call in a shared two-budget limiter (requests and
  tokens), or says how long to wait before asking again. Atomic: one script call.
  The algorithm is src/flow/bucket.ts's, on Redis server time so clients with skewed
  clocks agree: each budget is a token bucket kept as `tat`, the time (epoch ms) at
  which it is empty.

  KEYS[1]  requests tat        KEYS[2]  tokens tat        KEYS[3]  paused-until
  ARGV[1..3]  requests capacity, units per ms (0 = unlimited), cost
  ARGV[4..6]  tokens   capacity, units per ms (0 = unlimited), cost
  ARGV[7]     reserve-ahead horizon in ms

  Returns { 1, delayMs, grantAtMs } when a slot was reserved: the caller sends after
  delayMs. Returns { 0, retryInMs, nowMs } when the queue already reaches further than
  the horizon: nothing was reserved. Numbers come back as strings (Lua numbers would be
  truncated to integers).

  Reserving ahead (at most the horizon) keeps callers in arrival order across
  processes with one round trip per call, and a call costing more than the bucket
  holds is judged by the same test as a small one, so it cannot be starved.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local horizon = tonumber(ARGV[7])

local budgets = {}
for i, key in ipairs({ KEYS[1], KEYS[2] }) do
  local base = (i - 1) * 3
  local capacity = tonumber(ARGV[base + 1])
  local perMs = tonumber(ARGV[base + 2])
  local cost = tonumber(ARGV[base + 3])
  if perMs > 0 and cost > 0 then
    local full = now - capacity / perMs
    local tat = tonumber(redis.call('GET', key) or '') or full
    budgets[#budgets + 1] = { key = key, capacity = capacity, perMs = perMs, cost = cost, tat = math.max(tat, full) }
  end
end

-- The earliest moment the queue lets this call start: after any pause, after the
-- budgets' queues. Beyond the horizon, come back later without reserving.
local start = math.max(now, tonumber(redis.call('GET', KEYS[3]) or '') or 0)
for _, b in ipairs(budgets) do
  start = math.max(start, b.tat)
end
if start - now > horizon then
  return { 0, string.format('%.3f', start - now - horizon), string.format('%.3f', now) }
end

-- When the call may go: every budget holds its cost (a full bucket for larger costs).
local grantAt = math.max(now, start)
for _, b in ipairs(budgets) do
  grantAt = math.max(grantAt, b.tat + math.min(b.cost, b.capacity) / b.perMs)
end
for _, b in ipairs(budgets) do
  local tat = math.max(b.tat, grantAt - b.capacity / b.perMs) + b.cost / b.perMs
  -- Expire once the bucket would be full again: a missing key means a full bucket.
  local ttl = math.ceil(tat + b.capacity / b.perMs - now) + 1000
  redis.call('SET', b.key, string.format('%.17g', tat), 'PX', ttl)
end
return { 1, string.format('%.3f', grantAt - now), string.format('%.3f', grantAt) }
