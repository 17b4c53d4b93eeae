import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderJanusConfig } from "../../components/k8s/render/janus.js";
import { janusOnLoopback, testJanusConfigArgs } from "./support/fixtures.js";
import { freePort } from "../../balancer/test/support/redis.js";
import { eventually, startProcess, type StartedProcess } from "./support/processes.js";

// The rendered .jcfg files on a real Janus (Debian's build), API and admin API on free loopback ports.
const tokenAuthSecret = "t".repeat(24);
const adminSecret = "a".repeat(24);
let server: StartedProcess;
let apiPort: number;
let adminPort: number;
let dir: string;

async function janusRequest(path: string, body: Record<string, unknown>, port = apiPort): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: "t1", ...body }),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** A Janus signed token: `expiry,janus,<plugins>:<base64 HMAC-SHA1 of the part before the colon>`. */
function signedToken(secret: string, plugins: string[]): string {
  const data = [Math.floor(Date.now() / 1000) + 3600, "janus", ...plugins].join(",");
  return `${data}:${createHmac("sha1", secret).update(data).digest("base64")}`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mediaplane-janus-"));
  await mkdir(join(dir, "recordings"));
  [apiPort, adminPort] = [await freePort(), await freePort()];
  const files = renderJanusConfig(testJanusConfigArgs({ adminSecret, tokenAuthSecret }));
  // Only placement changes: free loopback ports instead of the pod's, and temp directories.
  const relocate = (text: string) =>
    janusOnLoopback(text, { http: apiPort, admin: adminPort })
      .replace('"/recordings"', `"${join(dir, "recordings")}"`)
      .replace('configs_folder = "/etc/janus"', `configs_folder = "${dir}"`);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), relocate(text));
  server = startProcess("janus", [`--configs-folder=${dir}`]);
  await eventually(async () => {
    const response = await fetch(`http://127.0.0.1:${apiPort}/janus/info`);
    if (!response.ok) throw new Error(`info: ${response.status}`);
  });
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the rendered Janus configs on a real Janus", () => {
  it("are parsed without errors", () => {
    expect(server.output()).not.toMatch(/Error reading configuration file '(janus|janus\.transport\.http|janus\.plugin\.videoroom)\.jcfg'/);
    expect(server.output()).toContain("Using nat_1_1_mapping for public IP: 198.51.100.9");
    expect(server.output()).toContain("RTP port range: 20000 -- 20099");
  });

  it("reports token auth, full trickle, full ICE and the public address", async () => {
    const info = (await (await fetch(`http://127.0.0.1:${apiPort}/janus/info`)).json()) as Record<string, unknown>;
    expect(info).toMatchObject({ auth_token: true, "full-trickle": true, "ice-lite": false, "public-ip": "198.51.100.9" });
  });

  it("refuses a session without a token", async () => {
    const answer = await janusRequest("/janus", { janus: "create" });
    expect(answer["janus"]).toBe("error");
    expect((answer["error"] as { code: number }).code).toBe(403);
  });

  it("creates a session for a token signed with the token auth secret", async () => {
    const answer = await janusRequest("/janus", { janus: "create", token: signedToken(tokenAuthSecret, ["janus.plugin.videoroom"]) });
    expect(answer["janus"]).toBe("success");
  });

  it("answers the admin API on loopback only with the admin secret", async () => {
    expect((await janusRequest("/admin", { janus: "list_sessions" }, adminPort))["janus"]).toBe("error");
    expect((await janusRequest("/admin", { janus: "list_sessions", admin_secret: adminSecret }, adminPort))["janus"]).toBe("success");
  });
});
