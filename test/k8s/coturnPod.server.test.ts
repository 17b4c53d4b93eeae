import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { promisify } from "node:util";
import fc from "fast-check";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IContainer, IPodSpec, ISecret } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { cidrBounds, deniedPeerRanges, formatIpAddress, parseIpAddress } from "../../components/k8s/render/coturn.js";
import { containerPid, hostStandInImage, imageToolsMissing, startContainer, type RunningContainer, type StandInImage } from "../images/support/podman.js";
import { podRun, type PodRun } from "../images/support/podRun.js";
import { runStack } from "../stacks/support/stackRun.js";
import { relayedFamily, TurnClient, transports, turnMethods, turnRestCredentials } from "../support/turnClient.js";
import { eventually } from "./support/processes.js";

/*
 * coturn as the prod stack's pod runs it, in podman: the rendered Deployment's command and args, user and group,
 * capabilities (ALL dropped but what the manifest adds), no-new-privileges and read-only root, the rendered
 * coturn-config Secret at /etc/coturn/turnserver.conf (subPath), the turn-tls Secret cert-manager issues (here a
 * self-signed certificate for the TURN host) at /etc/coturn/tls, and the emptyDirs. Debian's turnserver (4.6.1)
 * stands in for the image's, with the image's file capability put on a copy of it. Only placement changes: the
 * listeners are free ports on loopback (IPv4 and IPv6) instead of the pod's 3478 and 5349.
 *
 * Upstream rules this encodes (coturn 4.6.3, the pinned image's release):
 * - docker/coturn/debian/Dockerfile: `setcap CAP_NET_BIND_SERVICE=+ep /usr/bin/turnserver`, `USER nobody:nogroup`.
 *   The kernel refuses to exec a binary whose file capabilities the bounding set lacks (EPERM), so dropping ALL
 *   without adding NET_BIND_SERVICE back stops the container before coturn runs.
 * - src/server/ns_turn_server.c: an Allocate with REQUESTED-TRANSPORT TCP (RFC 6062) is answered 442 when
 *   `no-tcp-relay` is set; CreatePermission and ChannelBind are answered 403 "Forbidden IP" for a peer that
 *   good_peer_addr refuses (denied-peer-ip ranges, loopback, multicast, all-zero); handle_turn_send relays a Send
 *   indication only to a peer with a permission, so a refused permission refuses Send too.
 * - src/apps/relay/userdb.c get_user_key: `use-auth-secret` credentials (see `turnRestCredentials`).
 */
const execFileAsync = promisify(execFile);
const unavailable = await imageToolsMissing();
const staticAuthSecret = randomBytes(24).toString("hex");
const externalIp = "203.0.113.10";
const realm = "turn.mediaplane.example.org";

let pod: IPodSpec;
let container: IContainer;
let secrets: ISecret[];
let port: number;
let tlsPort: number;
let certificate: string;
let binaryDir: string | undefined;
let standIn: StandInImage | undefined;
const runs: PodRun[] = [];
const containers: RunningContainer[] = [];

/** The coturn container (or a variant of it) started in podman as the kubelet would start it. */
async function startCoturn(name: string, variant: IContainer): Promise<RunningContainer> {
  const run = await podRun({
    pod,
    container: variant,
    secrets,
    unknownSecretValue: (_key, placeholder) => (placeholder.includes("turn-auth-secret") ? staticAuthSecret : externalIp),
  });
  runs.push(run);
  const started = await startContainer(`${name}-${process.pid}`, ["--network=host", ...run.optionsBeforeImage, ...(standIn?.imageArgs ?? []), ...run.argsAfterImage]);
  containers.push(started);
  return started;
}

beforeAll(async () => {
  if (unavailable !== undefined) return;
  const stack = await runStack("prod");
  const deployment = stack.inputsOf(stack.get("kubernetes:apps/v1:Deployment", "mediaplane-turn-deployment")) as unknown as IDeployment;
  pod = deployment.spec?.template.spec as IPodSpec;
  container = pod.containers.find((candidate) => candidate.name === "coturn") as IContainer;
  const rendered = stack.inputsOf(stack.get("kubernetes:core/v1:Secret", "mediaplane-turn-config")) as unknown as ISecret;
  [port, tlsPort] = [await freePort(), await freePort()];
  const config = rendered.stringData?.["turnserver.conf"] ?? "";
  for (const line of ["listening-port=3478\n", "tls-listening-port=5349\n"]) {
    if (!config.includes(line)) throw new Error(`the rendered config no longer has ${line.trim()}: update the placement below`);
  }
  const placed = config
    .replace("listening-port=3478\n", `listening-port=${port}\nlistening-ip=127.0.0.1\nlistening-ip=::1\n`)
    .replace("tls-listening-port=5349\n", `tls-listening-port=${tlsPort}\n`);

  binaryDir = await mkdtemp(join(tmpdir(), "mediaplane-turnserver-"));
  const [certFile, keyFile] = [join(binaryDir, "tls.crt"), join(binaryDir, "tls.key")];
  await execFileAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${realm}`, "-addext", `subjectAltName=DNS:${realm}`, "-keyout", keyFile, "-out", certFile]);
  certificate = await readFile(certFile, "utf8");
  const issued: ISecret = { apiVersion: "v1", kind: "Secret", metadata: { name: "turn-tls" }, type: "kubernetes.io/tls", stringData: { "tls.crt": certificate, "tls.key": await readFile(keyFile, "utf8") } };
  secrets = [{ ...rendered, stringData: { "turnserver.conf": placed } }, issued];

  const binary = join(binaryDir, "turnserver");
  await copyFile("/usr/bin/turnserver", binary);
  await execFileAsync("setcap", ["cap_net_bind_service=+ep", binary]);
  standIn = await hostStandInImage({ "/usr/bin/turnserver": binary });

  const turn = await startCoturn("mediaplane-coturn", container);
  await eventually(async () => {
    if (turn.exited()) throw new Error(`coturn exited:\n${turn.output()}`);
    const probe = TurnClient.udp("127.0.0.1", port);
    try {
      await probe.request(turnMethods.binding, () => []);
    } finally {
      probe.end();
    }
  }, 20_000);
}, 120_000);

afterAll(async () => {
  for (const running of containers) await running.stop();
  for (const run of runs) await run.cleanup();
  await standIn?.remove();
  if (binaryDir !== undefined) await rm(binaryDir, { recursive: true, force: true });
});

function credentials(ttlSeconds = 600): { username: string; password: string } {
  return turnRestCredentials(staticAuthSecret, "guest", ttlSeconds);
}

/** A fresh allocation: UDP over IPv4 or, for IPv6 peers, an IPv6 relay over ::1. */
async function allocatedClient(family: "ipv4" | "ipv6"): Promise<TurnClient> {
  const client = TurnClient.udp(family === "ipv4" ? "127.0.0.1" : "::1", port);
  const { username, password } = credentials();
  const answer = await client.allocate(username, password, { transport: transports.udp, family });
  if (!answer.success) {
    client.end();
    throw new Error(`allocation refused: ${answer.errorCode ?? "no error code"}`);
  }
  return client;
}

const familyOf = (range: string): "ipv4" | "ipv6" => (range.includes(":") ? "ipv6" : "ipv4");

/** Whether `value` lies in any denied range of its family. */
function denied(value: bigint, bits: 32 | 128): boolean {
  return deniedPeerRanges.some((range) => {
    const { first, last } = cidrBounds(range);
    const [low, high] = [parseIpAddress(first), parseIpAddress(last)];
    return low.bits === bits && low.value <= value && value <= high.value;
  });
}

describe.skipIf(unavailable !== undefined)("coturn as its pod runs it (podman, the image's file capability, ALL dropped but NET_BIND_SERVICE)", () => {
  it("runs the binary itself as nobody, no-new-privileges, read-only root, NET_BIND_SERVICE its only capability", () => {
    expect(container.command).toEqual(["turnserver"]);
    expect(pod.securityContext?.runAsUser).toBe(65534);
    expect(container.securityContext?.capabilities).toEqual({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(containers[0]?.output()).not.toMatch(/Bad configuration format|CONFIG ERROR|Wrong address format/);
  });

  it("holds NET_BIND_SERVICE (bit 10) and no other capability while it runs", async () => {
    const status = await readFile(`/proc/${await containerPid(`mediaplane-coturn-${process.pid}`)}/status`, "utf8");
    const capabilities = Object.fromEntries([...status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map(([, set = "", mask = ""]) => [set, BigInt(`0x${mask}`)]));
    const netBindService = 1n << 10n;
    expect(capabilities).toMatchObject({ CapEff: netBindService, CapPrm: netBindService, CapBnd: netBindService, CapAmb: 0n });
  });

  it("cannot even start when every capability is dropped: the kernel refuses the image's file capability", async () => {
    const withoutAny = { ...container, securityContext: { ...container.securityContext, capabilities: { drop: ["ALL"] } } };
    const refused = await startCoturn("mediaplane-coturn-no-caps", withoutAny);
    await eventually(async () => {
      if (!refused.exited()) throw new Error("still running");
    }, 30_000);
    expect(refused.output()).toMatch(/exec \/usr\/bin\/turnserver: operation not permitted/);
  }, 60_000);

  it("allocates a UDP relay for time-limited credentials signed with the stack's static auth secret", async () => {
    const client = TurnClient.udp("127.0.0.1", port);
    try {
      const { username, password } = credentials();
      const answer = await client.allocate(username, password, { transport: transports.udp });
      expect(answer.errorCode).toBeUndefined();
      expect(relayedFamily(answer)).toBe(0x01);
      expect((await client.createPermission("1.1.1.1")).success).toBe(true);
    } finally {
      client.end();
    }
  });

  it("accepts TLS on the TURNS listener with the certificate issued into turn-tls, read as nobody", async () => {
    const socket = connectTls({ host: "127.0.0.1", port: tlsPort, servername: realm, ca: certificate });
    try {
      await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
      expect(socket.authorized).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it("refuses credentials signed with another secret, and expired ones", async () => {
    for (const { username, password } of [turnRestCredentials("not-the-secret", "guest", 600), credentials(-60)]) {
      const client = TurnClient.udp("127.0.0.1", port);
      try {
        const answer = await client.allocate(username, password, { transport: transports.udp });
        expect(answer.success).toBe(false);
        expect(answer.errorCode).toBe(401);
      } finally {
        client.end();
      }
    }
  });

  it("refuses a TCP relay (RFC 6062 Allocate with REQUESTED-TRANSPORT TCP) with 442", async () => {
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

  it.each(deniedPeerRanges)("refuses permissions and channels to every address of %s", async (range) => {
    const client = await allocatedClient(familyOf(range));
    try {
      const { first, last } = cidrBounds(range);
      const [low, high] = [parseIpAddress(first), parseIpAddress(last)];
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: low.value, max: high.value }), async (value) => {
          const peer = formatIpAddress(value, low.bits);
          expect((await client.createPermission(peer)).errorCode, peer).toBe(403);
        }),
        { numRuns: 25, examples: [[low.value], [high.value]] },
      );
      expect((await client.channelBind(last, 0x4000)).errorCode).toBe(403);
    } finally {
      client.end();
    }
  });

  it.each(["ipv4", "ipv6"] as const)("grants permissions to public %s addresses", async (family) => {
    const client = await allocatedClient(family);
    try {
      const bits = family === "ipv4" ? 32 : 128;
      // IPv6 global unicast is 2000::/3.
      const [min, max] = bits === 32 ? [0n, (1n << 32n) - 1n] : [1n << 125n, (1n << 126n) - 1n];
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min, max }).filter((value) => !denied(value, bits)), async (value) => {
          const peer = formatIpAddress(value, bits);
          expect((await client.createPermission(peer)).success, peer).toBe(true);
        }),
        { numRuns: 40 },
      );
    } finally {
      client.end();
    }
  });
});
