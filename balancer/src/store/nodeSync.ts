import type { RedisClient } from "./redisClient.js";
import type { ConfigSource } from "../config/liveConfig.js";
import type { BalancerConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { keys } from "./keys.js";
import { registerNodes } from "./nodeRegistry.js";
import { LuaScript } from "./script.js";

// The config file gives a node's first state only (HSETNX): later changes made with the admin API stay.
// Health starts `unknown`, eligible until polls say otherwise; the pool then holds exactly the eligible nodes.
// The load multiplier is the config's (placement reads it from the record; each poll writes it again).
const syncNodeScript = new LuaScript(`
redis.call('HSETNX', KEYS[1], 'state', ARGV[2])
redis.call('HSET', KEYS[1], 'loadMultiplier', ARGV[3])
redis.call('HSETNX', KEYS[1], 'health', 'unknown')
local state = redis.call('HGET', KEYS[1], 'state')
local health = redis.call('HGET', KEYS[1], 'health')
if state == 'enabled' and health ~= 'unhealthy' then
  redis.call('ZADD', KEYS[2], 'NX', redis.call('HGET', KEYS[1], 'load') or 0, ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
`);

/**
 * Brings Redis in step with the config file at start: every configured node has a record and, when eligible,
 * a place in its cluster's pool; nodes no longer configured leave the pools so no meeting is placed on them.
 * The nodes are registered before their records exist, so the poller can retire every node Redis holds once no
 * config names it (`fleet/retire.ts`).
 */
export async function syncConfiguredNodes(redis: RedisClient, config: BalancerConfig): Promise<void> {
  await registerNodes(redis, config.nodes);
  for (const node of config.nodes) {
    await syncNodeScript.run(redis, [keys.node(node.cluster, node.id), keys.pool(node.cluster)], [node.id, node.state, node.loadMultiplier]);
  }
  for (const cluster of config.clusters) {
    const configured = new Set(config.nodes.filter((node) => node.cluster === cluster.name).map((node) => node.id));
    const pooled = await redis.zrange(keys.pool(cluster.name), "0", "-1");
    const stale = pooled.filter((id) => !configured.has(id));
    if (stale.length > 0) await redis.zrem(keys.pool(cluster.name), ...stale);
  }
}

/**
 * Syncs every config version taken into service, as at start: added nodes get records and pool places, removed
 * ones leave the pools. A Redis that cannot be reached then leaves it to the poller's cycles, which register the
 * configured nodes and retire the removed ones. The answer stops following.
 */
export function syncNodesOnReload(redis: RedisClient, source: ConfigSource, logger: Logger): () => void {
  return source.onChange((version) =>
    syncConfiguredNodes(redis, version.config).catch((error: unknown) =>
      logger.warn({ err: error, version: version.id }, "config reloaded, but Redis could not be brought in step with its nodes"),
    ),
  );
}
