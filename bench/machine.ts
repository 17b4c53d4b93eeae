import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { cpus, release, totalmem, type } from "node:os";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import type { Machine } from "./report.js";

const run = promisify(execFile);

export function describeMachine(): Machine {
  const [first] = cpus();
  return { cpuModel: first?.model.trim() ?? "unknown CPU", cores: cpus().length, memoryBytes: totalmem(), os: `${type().toLowerCase()} ${release()}` };
}

export async function redisServerVersion(): Promise<string> {
  const { stdout } = await run("redis-server", ["--version"]);
  const match = /v=(\S+)/.exec(stdout);
  if (match === null) throw new Error(`cannot read the version in "${stdout.trim()}"`);
  return match[1]!;
}

/** The installed version of a package as the balancer workspace resolves it (not the range its package.json asks for). */
async function installedVersion(packageName: string): Promise<string> {
  const require = createRequire(new URL("../balancer/package.json", import.meta.url));
  const entry = require.resolve(packageName);
  const root = entry.slice(0, entry.lastIndexOf(`node_modules/${packageName}/`) + `node_modules/${packageName}/`.length);
  const manifest = JSON.parse(await readFile(`${root}package.json`, "utf8")) as { version?: unknown };
  if (typeof manifest.version !== "string") throw new Error(`${packageName}: no version in its package.json`);
  return manifest.version;
}

/** Versions that move the figures: the runtime, Redis, and the packages on the measured paths. */
export async function collectVersions(): Promise<Record<string, string>> {
  const packages = ["koa", "ioredis", "undici", "autocannon"] as const;
  const versions: Record<string, string> = { node: process.versions.node, "redis-server": await redisServerVersion() };
  for (const name of packages) versions[name] = await installedVersion(name);
  return versions;
}
