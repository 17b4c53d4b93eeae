import type { RedisClient } from "./redisClient.js";
import { keys } from "./keys.js";
import { LuaScript } from "./script.js";

/** A node as Redis files it: its records live in its cluster's hash tag, so the cluster is part of its name. */
export interface NodeRef {
  id: string;
  cluster: string;
}

/** Cluster names and node IDs are DNS labels (config schema), so `/` cannot occur in either. */
export function registryMember(node: NodeRef): string {
  return `${node.cluster}/${node.id}`;
}

export function parseRegistryMember(member: string): NodeRef | undefined {
  const slash = member.indexOf("/");
  if (slash <= 0 || slash === member.length - 1) return undefined;
  return { cluster: member.slice(0, slash), id: member.slice(slash + 1) };
}

// Stamps the given nodes with the Redis server's time (hosts' clocks may disagree), then answers the nodes no
// config has named for more than ARGV[1] ms; a negative ARGV[1] only stamps.
const stampScript = new LuaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now, ARGV[i]) end
local unnamedFor = tonumber(ARGV[1])
if unnamedFor < 0 then return {} end
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - unnamedFor))
`);

// Drops a node from the registry unless a config named it again within the last ARGV[2] ms.
const forgetScript = new LuaScript(`
local stamp = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not stamp then return 0 end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if tonumber(stamp) >= now - tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`);

/** Records that a running process's config names these nodes (at every start, and at every poll cycle). */
export async function registerNodes(redis: RedisClient, nodes: readonly NodeRef[]): Promise<void> {
  await stampScript.run(redis, [keys.nodeRegistry()], [-1, ...nodes.map(registryMember)]);
}

/**
 * Registers `configured` and answers the registered nodes that no config has named for more than `unnamedForMs`:
 * with every process that still had them in its config gone for that long, nobody uses them any more.
 */
export async function registerAndFindUnnamed(redis: RedisClient, configured: readonly NodeRef[], unnamedForMs: number): Promise<NodeRef[]> {
  const members = (await stampScript.run(redis, [keys.nodeRegistry()], [unnamedForMs, ...configured.map(registryMember)])) as string[];
  return members.flatMap((member) => parseRegistryMember(member) ?? []);
}

/** Removes a retired node from the registry; `false` when a config named it again meanwhile (it stays). */
export async function forgetNode(redis: RedisClient, node: NodeRef, unnamedForMs: number): Promise<boolean> {
  return (await forgetScript.run(redis, [keys.nodeRegistry()], [registryMember(node), unnamedForMs])) === 1;
}
