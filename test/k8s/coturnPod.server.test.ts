import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IContainer, IPodSpec } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { cidrBounds, deniedPeerRanges, turnRestCredentials } from "../../components/k8s/render/coturn.js";
import { runStack } from "../stacks/support/stackRun.js";
import { podmanUnavailable, startPodContainer, type RunningContainer } from "../support/podman.js";
import { relayedFamily, TurnClient, transports } from "../support/turnClient.js";
import { eventually } from "./support/processes.js";

/*
 * coturn as the prod stack's pod runs it, in podman: the rendered Deployment's command and args, user and group,
 * capabilities (ALL dropped but what the manifest adds), no-new-privileges and read-only root, the rendered
 * coturn-config Secret at /etc/coturn/turnserver.conf and the emptyDirs. Debian's turnserver stands in for the
 * image's binary, with the image's file capability put on it (`setcap cap_net_bind_service=+ep` on a copy), as
 * coturn's Docker image does (docker/coturn/debian/Dockerfile: `setcap CAP_NET_BIND_SERVICE=+ep /usr/bin/turnserver`).
 * Only placement changes: the listener is a free port on loopback (IPv4 and IPv6) instead of the pod's 3478.
 */
const execFileAsync = promisify(execFile);
const unavailable = podmanUnavailable();
const staticAuthSecret = randomBytes(24).toString("hex");

let pod: IPodSpec;
let container: IContainer;
let dir: string;
let port: number;
let turn: RunningContainer | undefined;
let binary: string;

function coturnRun(overrides: Partial<IContainer> = {}) {
  return {
    container: { ...container, ...overrides },
    podSecurity: pod.securityContext,
    volumes: { config: join(dir, "config"), state: join(dir, "state"), tmp: join(dir, "tmp") },
    imageFiles: { "/usr/bin/turnserver": binary },
  };
}

function credentials() {
  return turnRestCredentials(staticAuthSecret, "guest", 600, Date.now() / 1000);
}

beforeAll(async () => {
  if (unavailable !== undefined) return;
  const run = await runStack("prod");
  const deployment = run.inputsOf(run.get("kubernetes:apps/v1:Deployment", "mediaplane-turn-deployment")) as unknown as IDeployment;
  pod = deployment.spec?.template.spec as IPodSpec;
  container = pod.containers.find((candidate) => candidate.name === "coturn") as IContainer;
  const secret = run.inputsOf(run.get("kubernetes:core/v1:Secret", "mediaplane-turn-config")) as { stringData: Record<string, string> };
  const rendered = secret.stringData["turnserver.conf"] ?? "";

  dir = await mkdtemp(join(tmpdir(), "mediaplane-coturn-pod-"));
  for (const volume of ["config", "state", "tmp"]) await execFileAsync("mkdir", ["-m", "0777", join(dir, volume)]);
  port = await freePort();
  const config = rendered
    .replace(/<unknown until apply: random value of [a-z-]*turn-auth-secret>/, staticAuthSecret)
    .replace(/external-ip=<unknown until apply: [^>]*>/, "external-ip=192.0.2.10")
    .replace("listening-port=3478", `listening-port=${port}\nlistening-ip=127.0.0.1\nlistening-ip=::1`);
  await writeFile(join(dir, "config", "turnserver.conf"), config, { mode: 0o644 });
  binary = join(dir, "turnserver");
  await copyFile("/usr/bin/turnserver", binary);
  await execFileAsync("setcap", ["cap_net_bind_service=+ep", binary]);

  turn = await startPodContainer(coturnRun());
  const probe = TurnClient.udp("127.0.0.1", port);
  try {
    await eventually(() => probe.request(0x001, () => []), 15_000);
  } finally {
    probe.end();
  }
}, 120_000);

afterAll(async () => {
  await turn?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(unavailable !== undefined)("coturn as its pod runs it (podman, image file capability, ALL dropped but NET_BIND_SERVICE)", () => {
  it("runs the binary as nobody with no-new-privileges and a read-only root, read from the rendered config", () => {
    expect(container.command).toEqual(["turnserver"]);
    expect(container.securityContext?.capabilities).toEqual({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(turn?.output()).not.toMatch(/Bad configuration format|CONFIG ERROR/);
  });

  it("cannot even start when every capability is dropped (the kernel refuses the file capability)", async () => {
    const refused = await startPodContainer(coturnRun({ securityContext: { ...container.securityContext, capabilities: { drop: ["ALL"] } } }))
      .then(async (running) => {
        await running.exited;
        return running.output();
      })
      .catch((error: Error) => error.message);
    expect(refused).toMatch(/operation not permitted/i);
  }, 60_000);

  it("allocates a UDP relay for credentials signed the way the program signs them", async () => {
    const client = TurnClient.udp("127.0.0.1", port);
    try {
      const { username, password } = credentials();
      const answer = await client.allocate(username, password, { transport: transports.udp });
      expect(answer.errorCode).toBeUndefined();
      expect(answer.success).toBe(true);
      expect(relayedFamily(answer)).toBe(0x01);
      const granted = await client.createPermission("1.1.1.1");
      expect(granted.errorCode, turn?.output().split("\n").filter((line) => line.includes("denied")).join("\n")).toBeUndefined();
      expect(granted.success).toBe(true);
    } finally {
      client.end();
    }
  });

  it("refuses credentials signed with another secret", async () => {
    const client = TurnClient.udp("127.0.0.1", port);
    try {
      const forged = turnRestCredentials("not-the-secret", "guest", 600, Date.now() / 1000);
      const answer = await client.allocate(forged.username, forged.password, { transport: transports.udp });
      expect(answer.success).toBe(false);
      expect(answer.errorCode).toBe(401);
    } finally {
      client.end();
    }
  });

  it("refuses a TCP relay (RFC 6062) with 442 Unsupported Transport Protocol", async () => {
    const client = await TurnClient.tcp("127.0.0.1", port);
    try {
      const { username, password } = credentials();
      const answer = await client.allocate(username, password, { transport: transports.tcp });
      expect(answer.success).toBe(false);
      expect(answer.errorCode).toBe(442);
    } finally {
      client.end();
    }
  });

  it.each(deniedPeerRanges.filter((range) => !range.includes(":")))("refuses a permission to any address of %s", async (range) => {
    const client = TurnClient.udp("127.0.0.1", port);
    try {
      const { username, password } = credentials();
      expect((await client.allocate(username, password, { transport: transports.udp })).success).toBe(true);
      const { first, last } = cidrBounds(range);
      for (const peer of [first, last]) expect((await client.createPermission(peer)).errorCode, peer).toBe(403);
    } finally {
      client.end();
    }
  });

  it.each(deniedPeerRanges.filter((range) => range.includes(":")))("refuses a permission to any address of %s (IPv6 relay)", async (range) => {
    const client = TurnClient.udp("::1", port);
    try {
      const { username, password } = credentials();
      const allocated = await client.allocate(username, password, { transport: transports.udp, family: "ipv6" });
      expect(allocated.success).toBe(true);
      // Granted only on an IPv6 relay (an IPv4 one answers 443 Peer Address Family Mismatch): the refusals below
      // are about the ranges, not the family. (XOR-RELAYED-ADDRESS shows the IPv4 external-ip, so it cannot tell.)
      expect((await client.createPermission("2606:4700:4700::1111")).success).toBe(true);
      const { first, last } = cidrBounds(range);
      for (const peer of [first, last]) expect((await client.createPermission(peer)).errorCode, peer).toBe(403);
    } finally {
      client.end();
    }
  });
});
