--[[
  Pauses a shared limiter for everyone until now + pauseMs (a 429's Retry-After, or a
  budget the provider reports as used up), and empties both buckets at that moment so
  calls restart paced, not in a burst. Never shortens an existing pause.

  KEYS[1]  requests tat        KEYS[2]  tokens tat        KEYS[3]  paused-until
  ARGV[1]  pauseMs
  ARGV[2..3]  requests capacity, units per ms (0 = unlimited)
  ARGV[4..5]  tokens   capacity, units per ms (0 = unlimited)

  Returns the paused-until time (epoch ms, server clock) as a string.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local untilMs = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[3]) or '') or 0)
redis.call('SET', KEYS[3], string.format('%.17g', untilMs), 'PX', math.ceil(untilMs - now) + 1000)

for i, key in ipairs({ KEYS[1], KEYS[2] }) do
  local capacity = tonumber(ARGV[2 * i])
  local perMs = tonumber(ARGV[2 * i + 1])
  if perMs > 0 then
    local tat = math.max(tonumber(redis.call('GET', key) or '') or 0, untilMs)
    redis.call('SET', key, string.format('%.17g', tat), 'PX', math.ceil(tat + capacity / perMs - now) + 1000)
  end
end
return string.format('%.3f', untilMs)
