import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { connect as connectTls } from "node:tls";
import { promisify } from "node:util";
import fc from "fast-check";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IContainer, IPodSpec, ISecret } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { cidrBounds, deniedPeerRanges, formatIpAddress, parseIpAddress } from "../../components/k8s/render/coturn.js";
import { containerPid, hostStandInImage, imageToolsMissing, podman, startContainer, type RunningContainer, type StandInImage } from "../images/support/podman.js";
import { podRun, projectSecretFiles, type PodRun } from "../images/support/podRun.js";
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
 * - src/apps/relay/mainrelay.c: SIGUSR2 runs reload_ssl_certs, which re-reads `cert` and `pkey` from the configured
 *   paths (openssl_load_certificates, set_ctx) and hands the new context to every listener's engine
 *   (src/apps/relay/netengine.c, update_ssl_ctx); set_ctx keeps the current context when the files do not load.
 *   Debian's 4.6.1 has the same handler and the same keep-on-error rule.
 * - docker/coturn/debian/Dockerfile: the runtime stage is debian:bookworm-slim (dash, coreutils, no procps), which is
 *   all the certificate reloader, run from the same image, uses.
 */
const execFileAsync = promisify(execFile);
const unavailable = await imageToolsMissing();
const staticAuthSecret = randomBytes(24).toString("hex");
const externalIp = "203.0.113.10";
const realm = "turn.mediaplane.example.org";

let pod: IPodSpec;
let container: IContainer;
let reloader: IContainer;
let tlsDir: string;
let secrets: ISecret[];
let port: number;
let tlsPort: number;
let certificate: string;
let binaryDir: string | undefined;
let standIn: StandInImage | undefined;
const runs: PodRun[] = [];
const containers: RunningContainer[] = [];

const coturnName = `mediaplane-coturn-${process.pid}`;

interface Placement {
  /** Whose PID namespace it shares; default its own. */
  processNamespace?: "first" | { join: string };
  /** Where turn-tls is laid out as the kubelet projects it; default the pod's. */
  certificates?: string;
}

/** A container of the coturn pod (or a variant of it) started in podman as the kubelet would start it. */
async function startPodContainer(name: string, variant: IContainer, { processNamespace = "first", certificates = tlsDir }: Placement = {}): Promise<RunningContainer> {
  const run = await podRun({
    pod,
    container: variant,
    secrets,
    secretVolumeDirs: { tls: certificates },
    processNamespace,
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
  reloader = pod.containers.find((candidate) => candidate.name === "certificate-reloader") as IContainer;
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
  const issued = await issueCertificate(binaryDir, "first");
  certificate = issued["tls.crt"];
  tlsDir = join(binaryDir, "turn-tls");
  await projectSecretFiles(tlsDir, issued);
  const issuedSecret: ISecret = { apiVersion: "v1", kind: "Secret", metadata: { name: "turn-tls" }, type: "kubernetes.io/tls", stringData: issued };
  secrets = [{ ...rendered, stringData: { "turnserver.conf": placed } }, issuedSecret];

  const binary = join(binaryDir, "turnserver");
  await copyFile("/usr/bin/turnserver", binary);
  await execFileAsync("setcap", ["cap_net_bind_service=+ep", binary]);
  const emptyDirMounts = pod.containers.flatMap((each) => each.volumeMounts ?? []).filter((mount) => pod.volumes?.find((volume) => volume.name === mount.name)?.emptyDir !== undefined);
  standIn = await hostStandInImage({ "/usr/bin/turnserver": binary }, emptyDirMounts.map((mount) => mount.mountPath));

  const turn = await startPodContainer("mediaplane-coturn", container);
  await eventually(async () => {
    if (turn.exited()) throw new Error(`coturn exited:\n${turn.output()}`);
    const probe = TurnClient.udp("127.0.0.1", port);
    try {
      await probe.request(turnMethods.binding, () => []);
    } finally {
      probe.end();
    }
  }, 20_000);
  // Joins coturn's PID namespace, so only once coturn runs (the kubelet's pause container holds it in a real pod).
  const watcher = await startPodContainer("mediaplane-coturn-reloader", reloader, { processNamespace: { join: coturnName } });
  await eventually(async () => {
    if (watcher.exited() || !watcher.output().includes("watching")) throw new Error(`the certificate reloader is not watching:\n${watcher.output()}`);
  }, 20_000);
}, 120_000);

afterAll(async () => {
  for (const running of containers) await running.stop();
  for (const run of runs) await run.cleanup();
  await standIn?.remove();
  if (binaryDir !== undefined) await rm(binaryDir, { recursive: true, force: true });
});

/** A self-signed certificate and key for the TURN host, as cert-manager would put them into turn-tls. */
async function issueCertificate(dir: string, label: string): Promise<{ "tls.crt": string; "tls.key": string }> {
  const [certFile, keyFile] = [join(dir, `${label}.crt`), join(dir, `${label}.key`)];
  await execFileAsync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${realm}`, "-addext", `subjectAltName=DNS:${realm}`, "-keyout", keyFile, "-out", certFile]);
  return { "tls.crt": await readFile(certFile, "utf8"), "tls.key": await readFile(keyFile, "utf8") };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the TURNS listener is served. */
async function servedFingerprint(): Promise<string> {
  const socket = connectTls({ host: "127.0.0.1", port: tlsPort, servername: realm, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}

const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256;

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
    const status = await readFile(`/proc/${await containerPid(coturnName)}/status`, "utf8");
    const capabilities = Object.fromEntries([...status.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map(([, set = "", mask = ""]) => [set, BigInt(`0x${mask}`)]));
    const netBindService = 1n << 10n;
    expect(capabilities).toMatchObject({ CapEff: netBindService, CapPrm: netBindService, CapBnd: netBindService, CapAmb: 0n });
  });

  it("cannot even start when every capability is dropped: the kernel refuses the image's file capability", async () => {
    const withoutAny = { ...container, securityContext: { ...container.securityContext, capabilities: { drop: ["ALL"] } } };
    const refused = await startPodContainer("mediaplane-coturn-no-caps", withoutAny);
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

/*
 * Runs after the tests above: it renews turn-tls under the running pod, as cert-manager and the kubelet would. The
 * reloader polls every 10 s, so each renewal is waited for up to a few rounds.
 */
describe.skipIf(unavailable !== undefined)("a renewed turn-tls certificate reaches the running coturn (reloader sidecar, one PID namespace)", () => {
  const reloadWait = 45_000;
  const reloaderOutput = (): string => containers.find((running) => running.name === `mediaplane-coturn-reloader-${process.pid}`)?.output() ?? "";
  const signalsSent = (): number => reloaderOutput().match(/sent SIGUSR2 to turnserver/g)?.length ?? 0;
  let renewed: { "tls.crt": string; "tls.key": string };

  it("runs the coturn image as nobody with no capability at all, read-only root, turn-tls mounted read-only", async () => {
    expect(reloader.image).toBe(container.image);
    expect(pod.shareProcessNamespace).toBe(true);
    expect(reloader.securityContext).toMatchObject({ capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(reloader.securityContext?.capabilities?.add).toBeUndefined();
    expect(reloader.volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/coturn/tls", readOnly: true });
    const status = await readFile(`/proc/${await containerPid(`mediaplane-coturn-reloader-${process.pid}`)}/status`, "utf8");
    expect(status).toMatch(/^Uid:\s+65534\s/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
  });

  it("answers its readiness and liveness probes while its loop runs", async () => {
    for (const probe of [reloader.readinessProbe, reloader.livenessProbe]) {
      await expect(podman(["exec", `mediaplane-coturn-reloader-${process.pid}`, ...(probe?.exec?.command ?? ["false"])])).resolves.toBeDefined();
    }
  });

  it("serves the renewed certificate on new TLS connections without restarting coturn, and an earlier allocation keeps working", async () => {
    const pidBefore = await containerPid(coturnName);
    const client = await allocatedClient("ipv4");
    try {
      expect(await servedFingerprint()).toBe(fingerprintOf(certificate));
      renewed = await issueCertificate(binaryDir ?? "", "renewed");
      await projectSecretFiles(tlsDir, renewed);
      await eventually(async () => expect(await servedFingerprint()).toBe(fingerprintOf(renewed["tls.crt"])), reloadWait);
      expect(await containerPid(coturnName)).toBe(pidBefore);
      expect(reloaderOutput()).toMatch(/sent SIGUSR2 to turnserver \(pid \d+\)/);
      expect(containers[0]?.output()).toContain("Reloading TLS certificates and keys");
      expect((await client.createPermission("1.1.1.1")).success).toBe(true);
    } finally {
      client.end();
    }
  }, 60_000);

  it("keeps serving the certificate it has when the renewed files do not load", async () => {
    const pidBefore = await containerPid(coturnName);
    const sentBefore = signalsSent();
    await projectSecretFiles(tlsDir, { "tls.crt": "not a certificate\n", "tls.key": renewed["tls.key"] });
    await eventually(async () => expect(signalsSent()).toBe(sentBefore + 1), reloadWait);
    await eventually(async () => expect(containers[0]?.output()).toContain("ERROR: no certificate found"), 5_000);
    expect(await servedFingerprint()).toBe(fingerprintOf(renewed["tls.crt"]));
    expect(await containerPid(coturnName)).toBe(pidBefore);
  }, 60_000);

  it("says so when it sees no turnserver to signal, and keeps running", async () => {
    const lonelyDir = join(binaryDir ?? "", "lonely-tls");
    await projectSecretFiles(lonelyDir, await issueCertificate(binaryDir ?? "", "lonely"));
    const lonely = await startPodContainer("mediaplane-coturn-lonely-reloader", reloader, { certificates: lonelyDir });
    await eventually(async () => expect(lonely.output()).toContain("watching"), 10_000);
    await projectSecretFiles(lonelyDir, await issueCertificate(binaryDir ?? "", "lonely-renewed"));
    await eventually(async () => expect(lonely.output().match(/no turnserver process is visible/g)?.length ?? 0).toBeGreaterThanOrEqual(2), reloadWait);
    expect(lonely.exited()).toBe(false);
  }, 60_000);
});
