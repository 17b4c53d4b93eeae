import { participantsLua } from "../store/meetings.js";
import { LuaScript } from "../store/script.js";

/**
 * The Lua scripts that change a node's record. Each touches only keys of one cluster's hash tag (node hash,
 * pool, the node's meeting set), so the admin state, health and pool membership change together, atomically,
 * also on a clustered Redis. Tenant mappings live in other slots: they are released afterwards, one meeting at a
 * time (`releaseMeeting`: the tenant mapping first, then the node's set member).
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
 * ARGV: nodeId, configured state, '1' when the poll failed and the node is unhealthy, meetings the node reported
 *       (-1: poll failed), JSON object of hash fields to write.
 * A draining node with no meetings becomes disabled. Returns [state, members to release...]: every member of
 * an unhealthy node whose poll failed, or of a node in panic (this also catches a create that raced the
 * release); the caller releases them one by one, each leaving the set only once its tenant mapping is gone, so
 * a crash half-way leaves the rest for the next poll.
 */
export const applyPollScript = new LuaScript(`${placePoolLua}
local node, pool, meetings = KEYS[1], KEYS[2], KEYS[3]
local nodeId, configuredState, failedWhileUnhealthy = ARGV[1], ARGV[2], ARGV[3]
local reportedMeetings = tonumber(ARGV[4])
redis.call('HSETNX', node, 'state', configuredState)
local fields = cjson.decode(ARGV[5])
for field, value in pairs(fields) do
  redis.call('HSET', node, field, value)
end
local state = redis.call('HGET', node, 'state')
if state == 'draining' and reportedMeetings == 0 and redis.call('SCARD', meetings) == 0 then
  state = 'disabled'
  redis.call('HSET', node, 'state', state, 'stateChangedAt', fields.lastPollAt)
end
placeInPool(node, pool, nodeId)
local reply = { state }
if failedWhileUnhealthy == '1' or state == 'panic' then
  for _, member in ipairs(redis.call('SMEMBERS', meetings)) do reply[#reply + 1] = member end
end
return reply
`);

/**
 * Sets a node's admin state. KEYS: node hash, pool, node meetings. ARGV: nodeId, state, now (ms).
 * Returns [previous state, members to release...]: on panic every meeting of the node (released by the caller,
 * as for a poll).
 */
export const setStateScript = new LuaScript(`${placePoolLua}
local node, pool, meetings = KEYS[1], KEYS[2], KEYS[3]
local nodeId, state = ARGV[1], ARGV[2]
local previous = redis.call('HGET', node, 'state') or ''
redis.call('HSET', node, 'state', state, 'stateChangedAt', ARGV[3])
placeInPool(node, pool, nodeId)
local reply = { previous }
if state == 'panic' then
  for _, member in ipairs(redis.call('SMEMBERS', meetings)) do reply[#reply + 1] = member end
end
return reply
`);

/**
 * Refreshes a tenant's summaries from one node's poll. KEYS: meetings, summaries, revision, attendees.
 * ARGV: nodeId, JSON object meetingID -> the tenant's view of its `<meeting>`.
 * Writes only where the mapping still points at this node, and moves the revision only when a summary changed.
 * Each meeting's attendees are set to the node's count: the joins counted since the last poll are in it now.
 */
export const refreshSummariesScript = new LuaScript(`${participantsLua}
local meetings, summaries, revision, attendees = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local nodeId = ARGV[1]
local changed = 0
for meetingId, summary in pairs(cjson.decode(ARGV[2])) do
  if redis.call('HGET', meetings, meetingId) == nodeId then
    redis.call('HSET', attendees, meetingId, participantsOf(summary))
    if redis.call('HGET', summaries, meetingId) ~= summary then
      redis.call('HSET', summaries, meetingId, summary)
      changed = changed + 1
    end
  end
end
if changed > 0 then redis.call('INCR', revision) end
return changed
`);
