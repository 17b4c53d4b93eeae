import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";
import { renderBalancerConfigFile } from "../../src/config/schema.js";
import { deleteRecordings, setRecordingsPublished, updateRecordingsMetadata } from "../../src/recordings/changes.js";
import { abandonedUploadMs, importShare } from "../../src/recordings/importer.js";
import { getRecording, queryRecordings, recordingTenant } from "../../src/recordings/index.js";
import { parseMetadataXml } from "../../src/recordings/metadataXml.js";
import { findShareRecording, formatDirectory, moveFormat, replaceFile, stagingDirectory, tenantShareRecordings } from "../../src/recordings/share.js";
import { reindexRecording } from "../../src/recordings/indexing.js";
import { keys } from "../../src/store/keys.js";
import type { PublishedRecording } from "../../src/simulator/index.js";
import { capturingLogger, startRecordingFleet, treeOf, type RecordingFleet } from "./harness.js";

let rf: RecordingFleet;
/** The same meeting ID recorded by both tenants, and one more meeting of acme. */
let acmeWeekly: PublishedRecording;
let globexWeekly: PublishedRecording;
let acmeOther: PublishedRecording;

beforeAll(async () => {
  rf = await startRecordingFleet();
  acmeWeekly = (await rf.record("acme", "weekly"))!;
  globexWeekly = (await rf.record("globex", "weekly"))!;
  acmeOther = (await rf.record("acme", "other"))!;
}, 60_000);
afterAll(async () => {
  await rf.close();
});
/** Empties the recordings index only: the balancer's placement pools stay, so meetings can still be created. */
async function emptyIndex(): Promise<void> {
  const found = [...(await rf.redis.keys("mp:{r:*")), ...(await rf.redis.keys("mp:{recordings}*"))];
  if (found.length > 0) await rf.redis.del(...found);
}

beforeEach(async () => {
  await emptyIndex();
  await importShare(rf.context(), rf.importSettings);
});

/** Every key of the recordings index with its value, for comparing whole indexes. */
async function indexState(): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {};
  const found = [...(await rf.redis.keys("mp:{r:*")), ...(await rf.redis.keys("mp:{recordings}*"))].sort();
  for (const key of found) {
    const type = await rf.redis.type(key);
    if (type === "hash") state[key] = await rf.redis.hgetall(key);
    else if (type === "zset") state[key] = await rf.redis.zrange(key, "0", "-1", "WITHSCORES");
    else if (type === "set") state[key] = (await rf.redis.smembers(key)).sort();
    else state[key] = await rf.redis.get(key);
  }
  return state;
}

const metadataOnShare = async (tenant: string, state: "published" | "unpublished", recordId: string): Promise<ReturnType<typeof parseMetadataXml>> =>
  parseMetadataXml(await readFile(join(formatDirectory(rf.share, tenant, state, "presentation", recordId), "metadata.xml"), "utf8"));

describe("importing the share", () => {
  it("indexes each recording once however many importers race over the share", async () => {
    await emptyIndex();
    const importers = Array.from({ length: 4 }, () => capturingLogger());
    const reports = await Promise.all(importers.map(({ logger }) => importShare(rf.context(logger), rf.importSettings)));
    const indexed = reports.flatMap((report) => report.indexed).sort();
    expect(indexed).toEqual([`acme/${acmeWeekly.recordId}`, `acme/${acmeOther.recordId}`, `globex/${globexWeekly.recordId}`].sort());
    const logged = importers.flatMap(({ lines }) => lines.filter((line) => line["msg"] === "recording indexed"));
    expect(logged).toHaveLength(3);
  });

  it("claims none of the recordings whose files are the ones they were indexed from", async () => {
    const onShare = (await tenantShareRecordings(rf.share, "acme")).length + (await tenantShareRecordings(rf.share, "globex")).length;
    // Another importer holds every claim: a pass that went to read any recording would count it as held.
    const claims = await Promise.all([acmeWeekly, acmeOther, globexWeekly].map(async (recording, i) => {
      const tenant = i === 2 ? "globex" : "acme";
      await rf.redis.set(keys.recordingImport(tenant, recording.recordId), "another-importer", "PX", 10_000);
      return keys.recordingImport(tenant, recording.recordId);
    }));
    try {
      expect(await importShare(rf.context(), rf.importSettings)).toMatchObject({ indexed: [], failed: [], skipped: 0, unchangedFiles: onShare });
    } finally {
      await rf.redis.del(...claims);
    }
  });

  it("reads a recording again once its metadata.xml was replaced, even by one of the same length", async () => {
    const id = acmeOther.recordId;
    const file = join(formatDirectory(rf.share, "acme", "published", "presentation", id), "metadata.xml");
    const xml = await readFile(file, "utf8");
    expect(xml).toContain("Meeting other");
    await replaceFile(file, xml.replace("Meeting other", "Meeting OTHER"));
    const report = await importShare(rf.context(), rf.importSettings);
    expect(report.indexed).toEqual([`acme/${id}`]);
    expect((await getRecording(rf.redis, "acme", id))?.name).toBe("Meeting OTHER");
    await replaceFile(file, xml);
  });

  it("indexes a recording from where it is now when it moved after the walk found it", async () => {
    const id = acmeOther.recordId;
    const walked = await findShareRecording(rf.share, "acme", id);
    await moveFormat(rf.share, "acme", id, "presentation", "published", "unpublished");
    try {
      expect(await reindexRecording(rf.context(), "acme", id, walked)).toBe("indexed");
      expect((await getRecording(rf.redis, "acme", id))?.state).toBe("unpublished");
    } finally {
      await moveFormat(rf.share, "acme", id, "presentation", "unpublished", "published");
    }
  });

  it("keeps the same meeting ID of two tenants apart, each under its own meeting ID", async () => {
    const acme = await queryRecordings(rf.redis, "acme", { meetingIds: ["weekly"] });
    const globex = await queryRecordings(rf.redis, "globex", { meetingIds: ["weekly"] });
    expect(acme.recordings.map((r) => r.recordId)).toEqual([acmeWeekly.recordId]);
    expect(globex.recordings.map((r) => r.recordId)).toEqual([globexWeekly.recordId]);
    expect(acme.recordings[0]?.meetingId).toBe("weekly");
    expect(acme.recordings[0]?.metadata["meetingId"]).toBe("weekly");
    expect(await getRecording(rf.redis, "globex", acmeWeekly.recordId)).toBeUndefined();
    expect(await recordingTenant(rf.redis, globexWeekly.recordId)).toBe("globex");
  });

  it("shows the tenant none of the balancer's metadata", async () => {
    const recording = (await getRecording(rf.redis, "acme", acmeWeekly.recordId))!;
    expect(Object.keys(recording.metadata).filter((name) => name.startsWith("mediaplane-") || name === "endcallbackurl")).toEqual([]);
    expect(recording.playback.map((format) => format.type)).toEqual(["presentation"]);
    expect(recording.playback[0]?.path).toBe(`/playback/presentation/2.3/${acmeWeekly.recordId}`);
    expect(recording.playback[0]?.previewImages[0]?.path).toMatch(new RegExp(`^/presentation/${acmeWeekly.recordId}/presentation/.+/thumbnails/thumb-1\\.png$`));
    expect(recording.participants).toBe(3);
  });

  it("finds recordings by record ID prefix within the tenant only", async () => {
    const prefix = acmeWeekly.recordId.slice(0, 12);
    expect((await queryRecordings(rf.redis, "acme", { recordIds: [prefix] })).recordings.map((r) => r.recordId)).toEqual([acmeWeekly.recordId]);
    expect((await queryRecordings(rf.redis, "globex", { recordIds: [prefix] })).recordings).toEqual([]);
  });

  it("pages a tenant's recordings by start time and counts them all", async () => {
    const first = await queryRecordings(rf.redis, "acme", { offset: 0, limit: 1 });
    const second = await queryRecordings(rf.redis, "acme", { offset: 1, limit: 1 });
    expect(first.total).toBe(2);
    expect([...first.recordings, ...second.recordings].map((r) => r.recordId)).toEqual([acmeWeekly.recordId, acmeOther.recordId]);
  });
});

describe("changing recordings changes the share and the index together", () => {
  it("unpublishes and publishes again: directory, metadata.xml and index agree each time", async () => {
    const id = acmeOther.recordId;
    expect(await setRecordingsPublished(rf.context(), "acme", [id, "no-such-recording"], false)).toEqual([id]);
    expect((await metadataOnShare("acme", "unpublished", id)).state).toBe("unpublished");
    expect(await treeOf(formatDirectory(rf.share, "acme", "published", "presentation", id))).toEqual({});
    expect((await getRecording(rf.redis, "acme", id))?.state).toBe("unpublished");
    expect((await queryRecordings(rf.redis, "acme", { states: ["published"] })).recordings.map((r) => r.recordId)).toEqual([acmeWeekly.recordId]);
    expect(await setRecordingsPublished(rf.context(), "acme", [id], true)).toEqual([id]);
    expect((await metadataOnShare("acme", "published", id)).published).toBe(true);
    expect((await getRecording(rf.redis, "acme", id))?.state).toBe("published");
  });

  it("finds nothing to change in another tenant's recording", async () => {
    expect(await setRecordingsPublished(rf.context(), "globex", [acmeWeekly.recordId], false)).toEqual([]);
    expect(await deleteRecordings(rf.context(), "globex", [acmeWeekly.recordId])).toEqual([]);
    expect((await getRecording(rf.redis, "acme", acmeWeekly.recordId))?.state).toBe("published");
  });

  it("updates metadata in metadata.xml and the index, an empty value removing a name, the balancer's names untouched", async () => {
    const id = globexWeekly.recordId;
    await updateRecordingsMetadata(rf.context(), "globex", [id], { course: "Physics 101", "mediaplane-tenant": "acme" });
    expect((await getRecording(rf.redis, "globex", id))?.metadata["course"]).toBe("Physics 101");
    const onShare = new Map((await metadataOnShare("globex", "published", id)).meta);
    expect(onShare.get("course")).toBe("Physics 101");
    expect(onShare.get("mediaplane-tenant")).toBe("globex");
    expect((await queryRecordings(rf.redis, "globex", { meta: { course: "Physics 101" } })).recordings.map((r) => r.recordId)).toEqual([id]);
    await updateRecordingsMetadata(rf.context(), "globex", [id], { course: "" });
    expect((await getRecording(rf.redis, "globex", id))?.metadata["course"]).toBeUndefined();
    expect(new Map((await metadataOnShare("globex", "published", id)).meta).has("course")).toBe(false);
  });

  it("deletes from the share and the index", async () => {
    const extra = (await rf.record("acme", "to-delete"))!;
    await importShare(rf.context(), rf.importSettings);
    expect(await deleteRecordings(rf.context(), "acme", [extra.recordId])).toEqual([extra.recordId]);
    expect(await treeOf(join(rf.share, "acme", "published", "presentation", extra.recordId))).toEqual({});
    expect(await getRecording(rf.redis, "acme", extra.recordId)).toBeUndefined();
    expect(await recordingTenant(rf.redis, extra.recordId)).toBeUndefined();
    expect((await queryRecordings(rf.redis, "acme", { meetingIds: ["to-delete"] })).recordings).toEqual([]);
  });
});

describe("rebuilding the index from the share", () => {
  it("the recordings-rebuild command reproduces the index exactly in an empty Redis", async () => {
    await setRecordingsPublished(rf.context(), "acme", [acmeOther.recordId], false);
    await updateRecordingsMetadata(rf.context(), "globex", [globexWeekly.recordId], { term: "autumn" });
    const before = await indexState();
    await emptyIndex();
    expect(await indexState()).toEqual({});
    const configFile = join(rf.share, "..", "balancer.yaml");
    await writeFile(configFile, renderBalancerConfigFile(rf.fleet.config));
    const result = await runCli(["recordings-rebuild"], { CONFIG_FILE: configFile, REDIS_URL: rf.fleet.redis.url, RECORDINGS_DIR: rf.share });
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: "indexed 3, dropped from the index 0, not indexed 0, held by an importer 0" });
    expect(await indexState()).toEqual(before);
    await setRecordingsPublished(rf.context(), "acme", [acmeOther.recordId], true);
  });
});

describe("retention", () => {
  const dayMs = 86_400_000;

  it("deletes only the recordings of a tenant with retention that ended longer ago than it keeps them, and logs each", async () => {
    const weekly = (await getRecording(rf.redis, "acme", acmeWeekly.recordId))!;
    const other = (await getRecording(rf.redis, "acme", acmeOther.recordId))!;
    // Two days after the first acme recording ended, one millisecond before the second one is due.
    const now = other.endTime + 2 * dayMs - 1;
    expect(weekly.endTime + 2 * dayMs).toBeLessThan(now);
    const { logger, lines } = capturingLogger();
    const report = await importShare(rf.context(logger), { ...rf.importSettings, retentionDays: (tenant) => (tenant === "acme" ? 2 : undefined), now: () => now });
    expect(report.expired).toEqual([`acme/${acmeWeekly.recordId}`]);
    expect(lines.filter((line) => line["msg"] === "recording deleted: past the tenant's retention").map((line) => line["recordId"])).toEqual([acmeWeekly.recordId]);
    expect(await getRecording(rf.redis, "acme", acmeWeekly.recordId)).toBeUndefined();
    expect(await treeOf(formatDirectory(rf.share, "acme", "published", "presentation", acmeWeekly.recordId))).toEqual({});
    expect(await getRecording(rf.redis, "acme", acmeOther.recordId)).toBeDefined();
    expect(await getRecording(rf.redis, "globex", globexWeekly.recordId)).toBeDefined();
  });
});

describe("abandoned uploads", () => {
  it("removes a staged upload nobody added to for a day, and keeps one in progress", async () => {
    const staged = (recordId: string): string => join(rf.share, stagingDirectory, "n1", "presentation", recordId);
    for (const recordId of ["abandoned-1", "in-progress-1"]) {
      await mkdir(staged(recordId), { recursive: true });
      await writeFile(join(staged(recordId), "shapes.svg"), "<svg/>");
    }
    const now = Date.now();
    const longAgo = new Date(now - abandonedUploadMs - 60_000);
    await utimes(staged("abandoned-1"), longAgo, longAgo);
    const report = await importShare(rf.context(), { ...rf.importSettings, now: () => now });
    expect(report.abandonedUploads).toBe(1);
    expect(await treeOf(staged("abandoned-1"))).toEqual({});
    expect(Object.keys(await treeOf(staged("in-progress-1")))).toEqual(["shapes.svg"]);
  });
});
