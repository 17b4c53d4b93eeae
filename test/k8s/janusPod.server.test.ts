import { createHmac, randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IStatefulSet } from "kubernetes-models/apps/v1";
import type { IContainer, IPersistentVolume, IPodSpec } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { runStack } from "../stacks/support/stackRun.js";
import { eventually, type StartedProcess } from "./support/processes.js";
import { runContainer, sandboxUnavailable, startContainer, type ContainerRun } from "./support/podSandbox.js";
import { isTenantSlug } from "../../balancer/src/recordings/share.js";

/*
 * Janus as the prod stack's pod runs it: the rendered Deployment's init container and container (command, user and
 * group, no capabilities, no-new-privileges, read-only root), the rendered janus-config Secret mounted at /etc/janus,
 * an emptyDir for the discovered address, and the recordings volume owned and moded as the recordings PV's mount
 * options say. Debian's janus binary (1.1.2) stands in for the image's. Only placement changes: the API ports are
 * free loopback ports and the instance metadata service is a fake on loopback answering as Azure does for a node
 * with a Standard-SKU public IP. No STUN or TURN server runs at all.
 *
 * Upstream rules this encodes (meetecho/janus-gateway v1.1.2, same in v1.3.3 which the image builds):
 * - src/janus.c, janus_main: `nat.stun_server` is tested at start through janus_ice_set_stun_server (src/ice.c);
 *   when it fails Janus logs "Invalid STUN address" and exits(1) unless ignore_unreachable_ice_server; when it
 *   answers, janus_add_public_ip() adds whatever address STUN reported next to nat_1_1_mapping.
 * - src/janus.c: nat_1_1_mapping addresses become the public IPs; keep_private_host false replaces the host
 *   candidate's address instead of adding one (janus_ice_enable_nat_1_1). /info reports "public-ip", and
 *   "public-ips" only when there is more than one.
 * - src/janus.c: `protected_folders` is read with janus_config_get(..., janus_config_type_array, ...): only an array.
 *   src/record.c janus_recorder_create_full refuses a path in a protected folder ("is in protected folder").
 * - src/plugins/janus_videoroom.c: a recorded room opens its publishers' .mjr files when the offer is answered.
 */

const publicAddress = "198.51.100.77";
const nodePrivateAddress = "10.224.0.5";
const roomAdminKey = randomBytes(18).toString("hex");
const secrets = { admin: randomBytes(18).toString("hex"), token: randomBytes(18).toString("hex"), roomKey: roomAdminKey };

let pod: IPodSpec;
let janusContainer: IContainer;
let initContainer: IContainer;
let recordingOwner: { uid: number; gid: number; mode: number };
let dir: string;
let volumes: Record<string, string>;
let imds: Server;
let imdsPort: number;
let apiPort: number;
let adminPort: number;
let wsPort: number;
let janus: StartedProcess | undefined;
let initRun: { code: number | null; output: string };
const unavailable = sandboxUnavailable();

/** What Azure's IMDS answers at /metadata/loadbalancer for a node with an instance-level (Standard SKU) public IP. */
function loadBalancerMetadata(publicIps: { frontendIpAddress: string; privateIpAddress: string }[]): string {
  return JSON.stringify({
    loadbalancer: {
      publicIpAddresses: publicIps,
      inboundRules: [],
      outboundRules: [{ frontendIpAddress: "20.0.0.9", privateIpAddress: nodePrivateAddress }],
    },
  });
}

let imdsAnswer = loadBalancerMetadata([{ frontendIpAddress: publicAddress, privateIpAddress: nodePrivateAddress }]);

function mountOption(options: readonly string[], name: string): string {
  const found = options.find((option) => option.startsWith(`${name}=`));
  if (found === undefined) throw new Error(`recordings PV: no ${name}= mount option`);
  return found.slice(name.length + 1);
}

/** Secrets are unknown until apply in an offline run: resolve them as the cluster would hold them. */
function resolveSecrets(text: string): string {
  const byPurpose: Record<string, string> = { "admin-secret": secrets.admin, "token-auth-secret": secrets.token, "videoroom-admin-key": secrets.roomKey };
  return text.replace(/<unknown until apply: random value of [a-z-]*?-(admin-secret|token-auth-secret|videoroom-admin-key)>/g, (marker, purpose: string) => {
    const value = byPurpose[purpose];
    if (value === undefined) throw new Error(`no value for ${marker}`);
    return value;
  });
}

const relocate = (text: string): string =>
  text
    .replace(/\bport = 8088\b/, () => `port = ${apiPort}`)
    .replace(/\badmin_port = 7088\b/, () => `admin_port = ${adminPort}`)
    .replace(/:7088\//g, () => `:${adminPort}/`)
    .replace(/\bws_port = 8188\b/, () => `ws_port = ${wsPort}`)
    .replace("http://169.254.169.254/", () => `http://127.0.0.1:${imdsPort}/`);

function containerRun(container: IContainer, extraVolumes: Record<string, string> = {}): ContainerRun {
  return { pod, container, volumes: { ...volumes, ...extraVolumes }, rewrite: relocate };
}

function signedToken(): string {
  const data = [Math.floor(Date.now() / 1000) + 3600, "janus", "janus.plugin.videoroom"].join(",");
  return `${data}:${createHmac("sha1", secrets.token).update(data).digest("base64")}`;
}

async function janusPost(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${apiPort}/janus${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: randomBytes(6).toString("hex"), token: signedToken(), ...body }),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function openHandle(): Promise<{ session: number; handle: number }> {
  const created = await janusPost("", { janus: "create" });
  const session = (created["data"] as { id: number }).id;
  const attached = await janusPost(`/${session}`, { janus: "attach", plugin: "janus.plugin.videoroom" });
  return { session, handle: (attached["data"] as { id: number }).id };
}

async function createRecordedRoom(handle: { session: number; handle: number }, room: number, recDir: string): Promise<void> {
  const answer = await janusPost(`/${handle.session}/${handle.handle}`, {
    janus: "message",
    body: { request: "create", room, admin_key: roomAdminKey, publishers: 2, record: true, rec_dir: recDir },
  });
  expect((answer["plugindata"] as { data: { videoroom: string } }).data.videoroom).toBe("created");
}

/** An audio-only WebRTC offer as a browser sends it. */
function audioOffer(): string {
  const fingerprint = [...randomBytes(32)].map((byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join(":");
  return [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0",
    "a=msid-semantic: WMS stream",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    `a=ice-ufrag:${randomBytes(4).toString("hex")}`,
    `a=ice-pwd:${randomBytes(12).toString("hex")}`,
    `a=fingerprint:sha-256 ${fingerprint}`,
    "a=setup:actpass",
    "a=mid:0",
    "a=sendonly",
    "a=msid:stream audio0",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "a=ssrc:11111111 cname:publisher",
    "",
  ].join("\r\n");
}

interface JanusEvent {
  janus: string;
  jsep?: { sdp: string };
  candidate?: { candidate?: string; completed?: boolean };
}

/**
 * Joins `room` as a publisher with an offer; returns Janus's answer and the ICE candidates it offers, in the answer
 * or trickled afterwards (full_trickle) on the session's event stream, up to its end-of-candidates.
 */
async function publish(handle: { session: number; handle: number }, room: number): Promise<{ answer: string; candidates: string[] }> {
  const ack = await janusPost(`/${handle.session}/${handle.handle}`, {
    janus: "message",
    body: { request: "joinandconfigure", ptype: "publisher", room, display: "publisher" },
    jsep: { type: "offer", sdp: audioOffer() },
  });
  expect(ack["janus"]).toBe("ack");
  const events: JanusEvent[] = [];
  const gathered = () => events.some((event) => event.janus === "trickle" && event.candidate?.completed === true);
  const answered = () => events.some((event) => event.jsep !== undefined);
  const deadline = Date.now() + 20_000;
  while (!(gathered() && answered()) && Date.now() < deadline) {
    const response = await fetch(`http://127.0.0.1:${apiPort}/janus/${handle.session}?maxev=10&token=${encodeURIComponent(signedToken())}`);
    events.push(...([(await response.json()) as unknown].flat() as JanusEvent[]));
  }
  const answer = events.find((event) => event.jsep !== undefined)?.jsep?.sdp;
  if (answer === undefined || !gathered()) throw new Error(`no complete answer: ${JSON.stringify(events)}`);
  const inAnswer = answer.split("\r\n").filter((line) => line.startsWith("a=candidate:")).map((line) => line.slice(2));
  const trickled = events.flatMap((event) => (event.candidate?.candidate === undefined ? [] : [event.candidate.candidate]));
  return { answer, candidates: [...inAnswer, ...trickled] };
}

beforeAll(async () => {
  if (unavailable !== undefined) return;
  const run = await runStack("prod");
  const inputsOf = (type: string, predicate: (inputs: Record<string, unknown>) => boolean) => {
    const found = run.ofType(type).map((resource) => run.inputsOf(resource)).find(predicate);
    if (found === undefined) throw new Error(`prod: no ${type}`);
    return found;
  };
  const nameIs = (name: string) => (inputs: Record<string, unknown>) => (inputs["metadata"] as { name?: string }).name === name;
  const deployment = inputsOf("kubernetes:apps/v1:StatefulSet", nameIs("janus")) as unknown as IStatefulSet;
  pod = deployment.spec?.template.spec as IPodSpec;
  janusContainer = pod.containers[0] as IContainer;
  initContainer = pod.initContainers?.[0] as IContainer;
  const files = (inputsOf("kubernetes:core/v1:Secret", nameIs("janus-config"))["stringData"] ?? {}) as Record<string, string>;
  const volume = inputsOf("kubernetes:core/v1:PersistentVolume", () => true) as unknown as IPersistentVolume;
  const options = volume.spec?.mountOptions ?? [];
  recordingOwner = {
    uid: Number(mountOption(options, "uid")),
    gid: Number(mountOption(options, "gid")),
    mode: Number.parseInt(mountOption(options, "dir_mode"), 8),
  };

  [apiPort, adminPort, wsPort, imdsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  dir = await mkdtemp(join(tmpdir(), "mediaplane-janus-pod-"));
  await chmod(dir, 0o755);
  volumes = { config: join(dir, "config"), run: join(dir, "run"), recordings: join(dir, "recordings") };
  await mkdir(volumes["config"] as string);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, "config", name), relocate(resolveSecrets(text)));
  // An emptyDir as the kubelet creates it (mode 0777); the init container and Janus share it.
  await mkdir(volumes["run"] as string);
  await chmod(volumes["run"] as string, 0o777);
  // The share as the CSI driver mounts it: owner, group and directory mode from the PV's mount options.
  await mkdir(volumes["recordings"] as string);
  await chown(volumes["recordings"] as string, recordingOwner.uid, recordingOwner.gid);
  await chmod(volumes["recordings"] as string, recordingOwner.mode);

  imds = createServer((request, response) => {
    const answers = request.headers["metadata"] === "true" && request.url?.startsWith("/metadata/loadbalancer?") === true;
    response.writeHead(answers ? 200 : 400, { "content-type": "application/json" });
    response.end(answers ? imdsAnswer : '{"error":"Bad request"}');
  });
  await new Promise<void>((resolve) => imds.listen(imdsPort, "127.0.0.1", resolve));

  initRun = await runContainer(containerRun(initContainer));
  janus = await startContainer(containerRun(janusContainer));
  await eventually(async () => {
    if (janus?.process.exitCode !== null) throw new Error(`janus exited:\n${janus?.output()}`);
    const response = await fetch(`http://127.0.0.1:${apiPort}/janus/info`);
    if (!response.ok) throw new Error(`info: ${response.status}`);
  }, 20_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${janus?.output() ?? ""}`);
  });
}, 120_000);

afterAll(async () => {
  await janus?.stop();
  if (imds !== undefined) await new Promise((resolve) => imds.close(resolve));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.skipIf(unavailable !== undefined)("Janus started as its pod starts it", () => {
  it("learns the node's public IP from the instance metadata's load balancer view", () => {
    expect(initRun.code, initRun.output).toBe(0);
    expect(initRun.output).toContain(`public address: ${publicAddress}`);
  });

  it("starts with no STUN or TURN server up, advertising only the public address", async () => {
    const info = (await (await fetch(`http://127.0.0.1:${apiPort}/janus/info`)).json()) as Record<string, unknown>;
    expect(info["public-ip"]).toBe(publicAddress);
    expect(info["public-ips"]).toBeUndefined();
    expect(janus?.output()).not.toMatch(/STUN server to use|Invalid STUN address/);
  });

  it("puts only the public address in the candidates it answers a publisher with", async () => {
    const handle = await openHandle();
    await createRecordedRoom(handle, 5001, "/recordings");
    const { candidates } = await publish(handle, 5001);
    expect(candidates.length).toBeGreaterThan(0);
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
    for (const candidate of candidates) expect(candidate.split(" ")[4], candidate).toBe(publicAddress);
  });

  it("writes a room's recording as the media user into its folder of the share mounted with the PV's owner and mode", async () => {
    const handle = await openHandle();
    await createRecordedRoom(handle, 5002, "/recordings");
    await publish(handle, 5002);
    const mount = janusContainer.volumeMounts?.find((candidate) => candidate.name === "recordings");
    const folder = join(volumes["recordings"] as string, mount?.subPath ?? "");
    const recordings = await eventually(async () => {
      const names = (await readdir(folder)).filter((name) => name.startsWith("videoroom-5002-") && name.endsWith(".mjr"));
      if (names.length === 0) throw new Error(`no recording yet:\n${janus?.output() ?? ""}`);
      return names;
    });
    const file = await stat(join(folder, recordings[0] as string));
    expect(file.isFile()).toBe(true);
    expect([file.uid, file.gid]).toEqual([recordingOwner.uid, recordingOwner.gid]);
  });

  it("sees only its own folder of the share, never the tenants' recordings at its root", async () => {
    const mount = janusContainer.volumeMounts?.find((candidate) => candidate.name === "recordings");
    expect(mount?.subPath).toBeDefined();
    expect(isTenantSlug(mount?.subPath ?? "")).toBe(false);
    // Everything Janus wrote is in its folder: the root holds nothing else.
    expect(await readdir(volumes["recordings"] as string)).toEqual([mount?.subPath]);
  });

  it("refuses to record into a protected system folder even where the media user could write", async () => {
    const writable = join(dir, "var-lib");
    await mkdir(writable);
    await chown(writable, recordingOwner.uid, recordingOwner.gid);
    // A second Janus of the same pod, with a directory under /var that the media user owns.
    const mounted = { ...janusContainer, volumeMounts: [...(janusContainer.volumeMounts ?? []), { name: "var-lib", mountPath: "/var/lib/janus-recordings" }] };
    await janus?.stop();
    janus = await startContainer(containerRun(mounted, { "var-lib": writable }));
    await eventually(async () => {
      if ((await fetch(`http://127.0.0.1:${apiPort}/janus/info`)).ok === false) throw new Error("not up");
    }, 20_000);
    const handle = await openHandle();
    await createRecordedRoom(handle, 5003, "/var/lib/janus-recordings");
    await publish(handle, 5003);
    await eventually(async () => {
      if (!janus?.output().includes("Target recording path '/var/lib/janus-recordings/videoroom-5003-")) throw new Error("not refused yet");
    });
    expect(janus?.output()).toMatch(/Target recording path '\/var\/lib\/janus-recordings\/videoroom-5003-[^']*' is in protected folder/);
    expect(await readdir(writable)).toEqual([]);
  });

  it("holds its preStop hook while a session is open, and lets go once the last one ends", async () => {
    const handle = await openHandle();
    const preStop = janusContainer.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop.length).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(3600);
    const hook = await startContainer(containerRun({ ...janusContainer, name: "janus-prestop", command: preStop, args: [] }));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(hook.process.exitCode, hook.output()).toBeNull();
    await janusPost(`/${handle.session}`, { janus: "destroy" });
    // Every other test's session goes too: a drained Janus has none.
    const admin = await fetch(`http://127.0.0.1:${adminPort}/admin`, {
      method: "POST",
      body: JSON.stringify({ janus: "list_sessions", transaction: "t", admin_secret: secrets.admin }),
    });
    for (const session of ((await admin.json()) as { sessions: number[] }).sessions) await janusPost(`/${session}`, { janus: "destroy" });
    await eventually(async () => {
      if (hook.process.exitCode === null) throw new Error("hook still waiting");
    }, 15_000);
    expect(hook.process.exitCode, hook.output()).toBe(0);
    await hook.stop();
  });
});

describe.skipIf(unavailable !== undefined)("the public address discovery of the Janus pod", () => {
  it("fails with one clear line when the node has no public IP, instead of starting with a private one", async () => {
    imdsAnswer = loadBalancerMetadata([]);
    try {
      const result = await runContainer(containerRun(initContainer));
      expect(result.code).not.toBe(0);
      expect(result.output).toContain("lists no public IPv4 address for this node");
    } finally {
      imdsAnswer = loadBalancerMetadata([{ frontendIpAddress: publicAddress, privateIpAddress: nodePrivateAddress }]);
    }
  });
});
