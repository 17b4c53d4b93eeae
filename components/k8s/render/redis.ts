export const redisPort = 6379;

export interface RedisConfigArgs {
  /** Memory ceiling for the data set in MiB; keep it well below the container's memory limit (AOF rewrite forks). */
  maxMemoryMb: number;
  /** Directory of the append-only file (the mounted volume). */
  dataDir: string;
  /** `everysec` loses at most one second of writes on a crash; `always` trades throughput for none. */
  appendFsync: "everysec" | "always";
  /** Where the pod mounts the Secret file `renderRedisPasswordFile` renders; included last. */
  passwordFile: string;
}

/**
 * `redis.conf` for the balancer's store. The password is not in this file, so it can live in a ConfigMap, and not on
 * the command line either (where `ps` and /proc/<pid>/cmdline show it to every user of the node): it comes from
 * an `include`d file mounted from a Secret.
 */
export function renderRedisConfig(args: RedisConfigArgs): string {
  if (!Number.isInteger(args.maxMemoryMb) || args.maxMemoryMb < 16) {
    throw new Error(`maxMemoryMb: must be an integer of at least 16, got ${args.maxMemoryMb}`);
  }
  return [
    `port ${redisPort}`,
    "bind 0.0.0.0",
    "protected-mode yes",
    `dir ${args.dataDir}`,
    `maxmemory ${args.maxMemoryMb}mb`,
    // Meeting-to-node mappings must never silently disappear: refuse writes when full instead of evicting.
    "maxmemory-policy noeviction",
    "appendonly yes",
    `appendfsync ${args.appendFsync}`,
    "aof-use-rdb-preamble yes",
    'save ""',
    "tcp-keepalive 60",
    "timeout 0",
    `include ${args.passwordFile}`,
    "",
  ].join("\n");
}

/** The Secret file `redis.conf` includes: the password, as a quoted config argument. */
export function renderRedisPasswordFile(password: string): string {
  return `requirepass "${password.replace(/[\\"]/g, (character) => `\\${character}`).replace(/\n/g, "\\n")}"\n`;
}
