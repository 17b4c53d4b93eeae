import { LuaScript } from "../store/script.js";

/**
 * The Lua scripts that change a node's record. Each touches only keys of one cluster's hash tag (node hash,
 * pool, the node's meeting set), so the admin state, health and pool membership change together, atomically,
 * also on a clustered Redis. Tenant mappings live in other slots and are released in a second step.
 */

/** The pool holds exactly the nodes that take new meetings: enabled and not unhealthy (see `takesNewMeetings`). */
const placePoolLua = `
local function placeInPool(node, pool, nodeId)
  local state = redis.call('HGET', node, 'state')
  local health = redis.call('HGET', node, 'health')
  if state == 'enabled' and health ~= 'unhealthy' then
    redis.call('ZADD', pool, tonumber(redis.call('HGET', node, 'load')) or 0, nodeId)
  else
    redis.call('ZREM', pool, nodeId)
  end
end
`;

/**
 * Applies one poll. KEYS: node hash, pool, node meetings.
 * ARGV: nodeId, configured state, becameUnhealthy ('1'|'0'), meetings the node reported (-1: poll failed),
 *       JSON object of hash fields to write, JSON array of meeting entries to drop.
 * A node that just turned unhealthy gives up all its meetings; a draining node with none left becomes disabled.
 * Returns [state, dropped entries...].
 */
export const applyPollScript = new LuaScript(`${placePoolLua}
local node, pool, meetings = KEYS[1], KEYS[2], KEYS[3]
local nodeId, configuredState, becameUnhealthy = ARGV[1], ARGV[2], ARGV[3]
local reportedMeetings = tonumber(ARGV[4])
redis.call('HSETNX', node, 'state', configuredState)
local fields = cjson.decode(ARGV[5])
for field, value in pairs(fields) do
  redis.call('HSET', node, field, value)
end
local dropped
if becameUnhealthy == '1' then
  dropped = redis.call('SMEMBERS', meetings)
  redis.call('DEL', meetings)
else
  dropped = cjson.decode(ARGV[6])
  for _, entry in ipairs(dropped) do redis.call('SREM', meetings, entry) end
end
local state = redis.call('HGET', node, 'state')
if state == 'draining' and reportedMeetings == 0 and redis.call('SCARD', meetings) == 0 then
  state = 'disabled'
  redis.call('HSET', node, 'state', state, 'stateChangedAt', fields.lastPollAt)
end
placeInPool(node, pool, nodeId)
local reply = { state }
for _, entry in ipairs(dropped) do reply[#reply + 1] = entry end
return reply
`);

/**
 * Sets a node's admin state. KEYS: node hash, pool, node meetings. ARGV: nodeId, state, now (ms).
 * Panic takes every meeting entry of the node with it. Returns [previous state, dropped entries...].
 */
export const setStateScript = new LuaScript(`${placePoolLua}
local node, pool, meetings = KEYS[1], KEYS[2], KEYS[3]
local nodeId, state = ARGV[1], ARGV[2]
local previous = redis.call('HGET', node, 'state') or ''
redis.call('HSET', node, 'state', state, 'stateChangedAt', ARGV[3])
local dropped = {}
if state == 'panic' then
  dropped = redis.call('SMEMBERS', meetings)
  redis.call('DEL', meetings)
end
placeInPool(node, pool, nodeId)
local reply = { previous }
for _, entry in ipairs(dropped) do reply[#reply + 1] = entry end
return reply
`);

/**
 * Refreshes a tenant's summaries from one node's poll. KEYS: meetings, summaries, revision.
 * ARGV: nodeId, JSON object meetingID -> the tenant's view of its `<meeting>`.
 * Writes only where the mapping still points at this node, and moves the revision only when a summary changed.
 */
export const refreshSummariesScript = new LuaScript(`
local meetings, summaries, revision = KEYS[1], KEYS[2], KEYS[3]
local nodeId = ARGV[1]
local changed = 0
for meetingId, summary in pairs(cjson.decode(ARGV[2])) do
  if redis.call('HGET', meetings, meetingId) == nodeId and redis.call('HGET', summaries, meetingId) ~= summary then
    redis.call('HSET', summaries, meetingId, summary)
    changed = changed + 1
  end
end
if changed > 0 then redis.call('INCR', revision) end
return changed
`);
