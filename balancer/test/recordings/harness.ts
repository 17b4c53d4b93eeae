import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { trustedProxies } from "../../src/http/trustedProxies.js";
import { createLogger, type Logger } from "../../src/observability/logger.js";
import { playbackKey } from "../../src/playback/links.js";
import { startPlaybackServer, type RunningPlaybackServer } from "../../src/playback/server.js";
import type { RecordingsContext } from "../../src/recordings/indexing.js";
import type { ImportSettings } from "../../src/recordings/importer.js";
import { startUploadServer, type RunningUploadServer } from "../../src/recordings/uploadServer.js";
import type { PublishedRecording } from "../../src/simulator/index.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { baseDomain, callbackSecret, get, signedUrl, startFleet, tenants, type Fleet, type FleetOptions } from "../api/harness.js";

/** The post-publish hook as nodes run it. */
export const hookProgram = fileURLToPath(new URL("../../../components/bbb/recording/mediaplane-recording-upload", import.meta.url));

/** A logger whose lines a test can read (JSON objects, in order). */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name: "recordings", level: "info", destination }), lines };
}

export interface RecordingFleet {
  readonly fleet: Fleet;
  readonly share: string;
  /** Each simulated node's `/var/bigbluebutton` is `<nodesDir>/<nodeId>`. */
  readonly nodesDir: string;
  readonly upload: RunningUploadServer;
  readonly uploadUrl: string;
  readonly redis: Redis;
  context(logger?: Logger): RecordingsContext;
  readonly importSettings: ImportSettings;
  /**
   * Creates `meetingId` for the tenant through the balancer (record=true), has people join and record (and type
   * `captions`: locale, its name, a line), ends it.
   */
  record(
    tenant: keyof typeof tenants,
    meetingId: string,
    options?: { record?: boolean; startRecording?: boolean; params?: Record<string, string>; captions?: ReadonlyArray<readonly [string, string, string]> },
  ): Promise<PublishedRecording | undefined>;
  close(): Promise<void>;
}

/** The fleet's config with globex protecting its playback (tokens valid 10 minutes). */
export const globexProtectsPlayback: NonNullable<FleetOptions["configure"]> = (config) => ({
  ...config,
  tenants: config.tenants.map((tenant) => (tenant.slug === "globex" ? { ...tenant, protectedPlayback: { tokenSeconds: 600 } } : tenant)),
});

export async function startRecordingFleet(options: Pick<FleetOptions, "configure" | "port" | "publicUrl" | "callbackDeliveries"> = {}): Promise<RecordingFleet> {
  const root = await mkdtemp(join(tmpdir(), "mediaplane-recordings-"));
  const share = join(root, "share");
  const nodesDir = join(root, "nodes");
  const secrets = new Map<string, string>();
  const quiet = createLogger({ name: "upload", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
  const upload = await startUploadServer({
    shareRoot: share,
    callbackKey: callbackSecret,
    tenants: new Set(Object.keys(tenants)),
    maxFileBytes: 64 * 1024 * 1024,
    nodeSecret: (nodeId) => secrets.get(nodeId),
    host: "127.0.0.1",
    port: 0,
    logger: quiet,
    shutdownGraceMs: 1_000,
  });
  const uploadUrl = `http://127.0.0.1:${upload.port}`;
  const fleet = await startFleet({
    ...options,
    share,
    nodeIds: ["n1", "n2"],
    recordings: { directory: nodesDir, postPublishHook: { command: hookProgram, env: { MEDIAPLANE_UPLOAD_URL: uploadUrl, MEDIAPLANE_UPLOAD_CONFIG: "/nonexistent", MEDIAPLANE_UPLOAD_ATTEMPTS: "1" } } },
  });
  for (const node of fleet.config.nodes) secrets.set(node.id, node.secret);
  const redis = new Redis(fleet.redis.url);
  const balancer = fleet.balancers[0];
  if (balancer === undefined) throw new Error("no balancer");
  return {
    fleet,
    share,
    nodesDir,
    upload,
    uploadUrl,
    redis,
    context: (logger = quiet) => ({ redis, shareRoot: share, logger }),
    importSettings: { tenants: new Set(Object.keys(tenants)), retentionDays: () => undefined, now: () => Date.now() },
    async record(tenant, meetingId, options = {}) {
      const created = await get(signedUrl(balancer, tenants[tenant], "create", { meetingID: meetingId, name: `Meeting ${meetingId}`, record: String(options.record ?? true), ...options.params }));
      if (!created.body.includes("<returncode>SUCCESS</returncode>")) throw new Error(`create failed: ${created.body}`);
      const id = nodeMeetingId(tenant, meetingId);
      const node = [...fleet.simulator.nodes.values()].find((candidate) => candidate.meeting(id) !== undefined);
      if (node === undefined) throw new Error(`no node has ${id}`);
      node.addAttendees(id, 1, "MODERATOR");
      node.addAttendees(id, 2);
      if (options.startRecording ?? true) node.startRecording(id);
      for (const [locale, localeName, line] of options.captions ?? []) node.typeCaptions(id, locale, localeName, line);
      const before = node.recordings.length;
      await node.endMeeting(id);
      return node.recordings.slice(before).find((recording) => recording.meetingId === id);
    },
    async close() {
      redis.disconnect();
      await fleet.close();
      await upload.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The playback mode on the fleet's share, index and tenants, as its pod runs it (the player from `playerDir`, if any). */
export function startPlayback(rf: RecordingFleet, playerDir?: string): Promise<RunningPlaybackServer> {
  return startPlaybackServer({
    shareRoot: rf.share,
    playerDir,
    redis: rf.redis,
    directory: buildDirectory(rf.fleet.config),
    baseDomain,
    trustedProxies: trustedProxies([]),
    key: playbackKey(callbackSecret),
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({ name: "playback", level: "silent" }),
    shutdownGraceMs: 1_000,
  });
}

/** Every file under a directory with its content, paths relative to it: two trees compared whole. */
export async function treeOf(directory: string): Promise<Record<string, string>> {
  const tree: Record<string, string> = {};
  const walk = async (path: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else tree[relative(directory, child)] = (await readFile(child)).toString("base64");
    }
  };
  await walk(directory);
  return tree;
}
