import * as pulumi from "@pulumi/pulumi";
import * as redis from "@pulumi/azure-native/redis/index.js";

export interface ManagedRedisArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Globally unique cache name (its DNS label). */
  readonly cacheName: pulumi.Input<string>;
  /** Basic has no replica: use Standard or Premium for production. */
  readonly sku: "Basic" | "Standard" | "Premium";
  /** C (Basic/Standard) or P (Premium). */
  readonly family: "C" | "P";
  /** Size within the family, 0..6. */
  readonly capacity: number;
  /** Zones for Premium caches; empty: no zone pinning. */
  readonly zones: readonly string[];
  /** Premium only: shards of a clustered cache; absent: not clustered. */
  readonly shardCount?: number | undefined;
  /** The only addresses the cache's firewall lets in: the cluster's egress address. */
  readonly allowedAddresses: readonly pulumi.Input<string>[];
}

/**
 * The TLS ports of a clustered Azure cache's shards: after asking the host's TLS port which shard holds which
 * slots, a cluster client connects to each shard on a port of this range (15000 + the shard's node number).
 */
export const azureShardTlsPorts = { first: 15_000, last: 15_999 } as const;

/** How the balancer reaches its Redis, whichever kind it is. */
export interface RedisConnection {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly tls: boolean;
  /** A Redis Cluster: the client follows the shards it learns of, on `shardPorts`. */
  readonly cluster: boolean;
  readonly shardPorts: { readonly first: number; readonly last: number } | undefined;
  /** Secret. */
  readonly password: pulumi.Output<string>;
  /** `rediss://:<password>@host:port` (`rediss+cluster://` when clustered), secret: what the balancer's `REDIS_URL` takes. */
  readonly url: pulumi.Output<string>;
}

/**
 * Azure Cache for Redis for the balancer: TLS only, a firewall admitting only the cluster, no eviction (meeting
 * mappings must never vanish), and protected against deletion.
 */
export class ManagedRedis extends pulumi.ComponentResource {
  readonly connection: RedisConnection;

  constructor(name: string, args: ManagedRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:ManagedRedis", name, {}, opts);

    const cache = new redis.Redis(
      name,
      {
        name: args.cacheName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: args.sku, family: args.family, capacity: args.capacity },
        enableNonSslPort: false,
        minimumTlsVersion: "1.2",
        redisVersion: "6",
        redisConfiguration: { maxmemoryPolicy: "noeviction" },
        ...(args.sku === "Premium" && args.zones.length > 0 ? { zones: [...args.zones] } : {}),
        ...(args.shardCount === undefined ? {} : { shardCount: args.shardCount }),
        // Reachable on its public endpoint, but its firewall admits only the rules below.
        publicNetworkAccess: "Enabled",
      },
      { parent: this, protect: true },
    );
    args.allowedAddresses.forEach(
      (address, index) =>
        new redis.FirewallRule(
          `${name}-allow-${index}`,
          { cacheName: cache.name, resourceGroupName: args.resourceGroupName, ruleName: `allow${index}`, startIP: address, endIP: address },
          { parent: this },
        ),
    );
    const password = pulumi.secret(
      redis.listRedisKeysOutput({ name: cache.name, resourceGroupName: args.resourceGroupName }, { parent: this }).primaryKey,
    );

    const cluster = args.shardCount !== undefined;
    const scheme = cluster ? "rediss+cluster" : "rediss";
    this.connection = {
      host: cache.hostName,
      port: cache.sslPort,
      tls: true,
      cluster,
      shardPorts: cluster ? azureShardTlsPorts : undefined,
      password,
      url: pulumi.secret(pulumi.interpolate`${scheme}://:${password.apply(encodeURIComponent)}@${cache.hostName}:${cache.sslPort}`),
    };
    this.registerOutputs({ host: this.connection.host, port: this.connection.port });
  }
}
