import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import { makeLocalhostCertificates, type LocalhostCertificates } from "../support/certificates.js";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";

/**
 * A managed cache's shape: a Redis Cluster over TLS with a password, whose certificate names a host while its
 * nodes announce IP addresses. The admin CLI runs as its own process, trusting the test CA
 * (NODE_EXTRA_CA_CERTS is read only when a process starts).
 */
let certificates: LocalhostCertificates;
let cluster: RedisCluster;
let dir: string;
let configFile: string;

beforeAll(async () => {
  certificates = await makeLocalhostCertificates();
  cluster = await startRedisCluster({ tls: certificates, password: "managed-cache-password" });
  dir = await mkdtemp(join(tmpdir(), "mediaplane-tls-cli-"));
  configFile = join(dir, "balancer.yaml");
  // Two clusters of the balancer: their nodes' records live in different slots of the Redis Cluster.
  const node = (id: string, cluster: string) => ({ id, cluster, url: `http://127.0.0.1:9/${id}/bigbluebutton/api/`, secret: `${id}-node-secret-0123456789` });
  await writeFile(
    configFile,
    renderBalancerConfigFile({
      clusters: [{ name: "alpha" }, { name: "beta" }],
      tenants: [{ slug: "acme", secrets: ["acme-secret-0123456789"], clusters: ["alpha", "beta"] }],
      nodes: [node("a1", "alpha"), node("b1", "beta")],
    }),
  );
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  await certificates?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], redisUrl = cluster.url): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "balancer/src/cli/main.ts", ...args], {
    env: { ...process.env, CONFIG_FILE: configFile, REDIS_URL: redisUrl, NODE_EXTRA_CA_CERTS: certificates.ca },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("the admin CLI on a TLS Redis Cluster with a password", () => {
  it("reaches it by the certificate's host name, writes through a script and reads across slots", async () => {
    const cordoned = await cli(["cordon", "a1"]);
    expect(cordoned.stderr).toBe("");
    expect(cordoned.code).toBe(0);
    const listed = await cli(["--json", "nodes"]);
    expect(listed.code).toBe(0);
    const nodes = JSON.parse(listed.stdout) as Array<{ id: string; state: string }>;
    expect(nodes.map((node) => [node.id, node.state])).toEqual([
      ["a1", "cordoned"],
      ["b1", "enabled"],
    ]);
  }, 30_000);

  it("refuses a server whose certificate does not name the host the URL gives", async () => {
    const { code, stderr } = await cli(["nodes"], cluster.url.replace("@localhost:", "@127.0.0.1:"));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^failed: /);
  }, 30_000);
});
