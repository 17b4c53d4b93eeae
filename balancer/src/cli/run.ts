import { ConfigError, loadBalancerConfigFile } from "../config/schema.js";
import { NodeClients } from "../nodes/client.js";
import { connectRedis, type RedisClient } from "../store/redisClient.js";
import { buildDirectory } from "../tenancy/directory.js";
import { CommandFailed, runCommand, usage, UsageError } from "./commands.js";

/** The admin CLI: `mediaplane-admin <command>`; see `usage`. Exit codes: 0 done, 1 failed, 2 bad usage. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const json = argv.includes("--json");
  const args = argv.filter((arg) => arg !== "--json");
  if (args.length === 0 || args[0] === "help" || args[0] === "--help") return { code: 0, stdout: usage, stderr: "" };
  const configFile = env["CONFIG_FILE"];
  const redisUrl = env["REDIS_URL"];
  if (configFile === undefined || redisUrl === undefined) return { code: 2, stdout: "", stderr: "CONFIG_FILE and REDIS_URL must be set" };
  let redis: RedisClient | undefined;
  let clients: NodeClients | undefined;
  try {
    const config = await loadBalancerConfigFile(configFile);
    const directory = buildDirectory(config);
    // Fail fast: an operator should read "Redis unreachable", not wait on a retry loop.
    redis = connectRedis(redisUrl, { maxRetriesPerRequest: 1, connectTimeoutMs: 3_000, failFast: true });
    redis.on("error", () => undefined);
    clients = new NodeClients(directory.nodes.values(), { timeoutMs: config.poller.timeoutMs });
    const stdout = await runCommand({ redis, config, directory, clients, baseDomain: env["BASE_DOMAIN"], recordingsDir: env["RECORDINGS_DIR"], now: Date.now() }, args, json);
    return { code: 0, stdout, stderr: "" };
  } catch (error) {
    if (error instanceof UsageError) return { code: 2, stdout: "", stderr: `${error.message}\n\n${usage}` };
    if (error instanceof ConfigError || error instanceof CommandFailed) return { code: 1, stdout: "", stderr: error.message };
    return { code: 1, stdout: "", stderr: `failed: ${(error as Error).message}` };
  } finally {
    redis?.disconnect();
    await clients?.close();
  }
}
