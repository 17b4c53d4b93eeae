import { readFile } from "node:fs/promises";
import { join } from "node:path";
import bbb from "bigbluebutton-js";
import fc from "fast-check";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { importShare } from "../../src/recordings/importer.js";
import { formatDirectory } from "../../src/recordings/share.js";
import type { PublishedRecording } from "../../src/simulator/index.js";
import { get, signedUrl, tenants } from "../api/harness.js";
import { globexProtectsPlayback, startRecordingFleet, type RecordingFleet } from "./harness.js";

/**
 * The recording API through the balancer on real recordings: made by simulated nodes, uploaded to a share in a
 * temporary directory, indexed in a real Redis. bbb-web's answers are the reference: `RecMetaResponse.toXml`
 * (bbb-common-web/src/main/scala/org/bigbluebutton/api2/domain/Recording.scala) for the shape, `ApiController.groovy`
 * and `MeetingService.getRecordings2x` for the parameters and errors.
 */

interface RecordingClient {
  recording: {
    getRecordings(params?: Record<string, string>): string;
    publishRecordings(recordId: string, publish: boolean): string;
    deleteRecordings(recordId: string): string;
    updateRecordings(recordId: string, params: Record<string, string>): string;
  };
}
type Parsed = Record<string, unknown> & { returncode: string; recordings?: Array<Record<string, unknown>> };
const { api, http } = bbb as unknown as { api(host: string, secret: string): RecordingClient; http(url: string): Promise<Parsed> };

let rf: RecordingFleet;
let acmeWeekly: PublishedRecording;
let globexWeekly: PublishedRecording;
let acmeOther: PublishedRecording;
let clients: { acme: RecordingClient; globex: RecordingClient };

beforeAll(async () => {
  rf = await startRecordingFleet({ configure: globexProtectsPlayback });
  acmeWeekly = (await rf.record("acme", "weekly"))!;
  globexWeekly = (await rf.record("globex", "weekly"))!;
  acmeOther = (await rf.record("acme", "other"))!;
  const host = (tenant: string): string => `${rf.fleet.balancers[0]!.url}/t/${tenant}/bigbluebutton`;
  clients = { acme: api(host("acme"), tenants.acme.secret), globex: api(host("globex"), tenants.globex.secret) };
}, 60_000);
afterAll(async () => {
  await rf.close();
});
beforeEach(async () => {
  await importShare(rf.context(), rf.importSettings);
});

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", parseTagValue: false, isArray: (name) => ["recording", "format", "image"].includes(name) });
type Node = Record<string, unknown>;
const at = (node: unknown, ...path: string[]): unknown => path.reduce<unknown>((value, key) => (value as Node | undefined)?.[key], node);

async function call(tenant: keyof typeof tenants, name: string, params: Record<string, string> = {}): Promise<Node> {
  const answer = await get(signedUrl(rf.fleet.balancers[0]!, tenants[tenant], name, params));
  expect(answer.status).toBe(200);
  return parser.parse(answer.body) as Node;
}
const recordingsOf = (answer: Node): Node[] => (at(answer, "response", "recordings", "recording") as Node[] | undefined) ?? [];
const idsOf = (answer: Node): string[] => recordingsOf(answer).map((recording) => String(recording["recordID"]));

/** The node's own metadata.xml as published, read straight from the node's directory. */
async function nodeMetadata(recording: PublishedRecording): Promise<Node> {
  return (at(parser.parse(await readFile(join(recording.directory, "metadata.xml"), "utf8")), "recording") as Node[])[0] as Node;
}

describe("getRecordings", () => {
  it("answers each field as bbb-web derives it from the node's metadata.xml, with the tenant's meeting ID", async () => {
    const node = await nodeMetadata(acmeWeekly);
    const [recording] = recordingsOf(await call("acme", "getRecordings", { recordID: acmeWeekly.recordId }));
    const playback = at(node, "playback") as Node;
    const images = at(playback, "extensions", "preview", "images", "image") as Node[];
    expect(Object.keys(recording ?? {})).toEqual([
      "recordID", "meetingID", "internalMeetingID", "name", "isBreakout", "published", "state", "startTime", "endTime",
      "participants", "rawSize", "metadata", "size", "playback", "data",
    ]);
    expect(recording).toMatchObject({
      recordID: at(node, "id"),
      meetingID: "weekly",
      internalMeetingID: at(node, "meeting", "id"),
      name: at(node, "meeting", "name"),
      isBreakout: at(node, "meeting", "breakout"),
      published: "true",
      state: "published",
      startTime: at(node, "start_time"),
      endTime: at(node, "end_time"),
      participants: at(node, "participants"),
      rawSize: at(node, "raw_size"),
      size: at(playback, "size"),
    });
    const [format] = at(recording, "playback", "format") as Node[];
    expect(format).toMatchObject({
      type: "presentation",
      url: `https://acme.bbb.test/playback/presentation/2.3/${acmeWeekly.recordId}`,
      processingTime: at(playback, "processing_time"),
      length: String(Math.floor(Number(at(playback, "duration")) / 60_000)),
      size: at(playback, "size"),
    });
    const previews = at(format, "preview", "images", "image") as Node[];
    expect(previews).toEqual(
      images.map((image) => ({ ...image, "#text": `https://acme.bbb.test${new URL(String(image["#text"])).pathname}` })),
    );
  });

  it("shows the tenant's metadata and none of the balancer's", async () => {
    const [recording] = recordingsOf(await call("acme", "getRecordings", { recordID: acmeWeekly.recordId }));
    expect(at(recording, "metadata")).toEqual({ isBreakout: "false", meetingId: "weekly", meetingName: "Meeting weekly" });
    const raw = (await get(signedUrl(rf.fleet.balancers[0]!, tenants.acme, "getRecordings", {}))).body;
    expect(raw).not.toMatch(/mediaplane|acme~|_mediaplane|globex|n1-node|n2-node/);
  });

  it("keeps two tenants' recordings of the same meeting ID apart", async () => {
    expect(idsOf(await call("acme", "getRecordings", { meetingID: "weekly" }))).toEqual([acmeWeekly.recordId]);
    expect(idsOf(await call("globex", "getRecordings", { meetingID: "weekly" }))).toEqual([globexWeekly.recordId]);
    expect(idsOf(await call("globex", "getRecordings", { recordID: acmeWeekly.recordId }))).toEqual([]);
    expect(idsOf(await call("acme", "getRecordings")).sort()).toEqual([acmeWeekly.recordId, acmeOther.recordId].sort());
  });

  it("answers noRecordings for another tenant's record ID, as for one that does not exist", async () => {
    const answer = await call("globex", "getRecordings", { recordID: acmeWeekly.recordId });
    expect(at(answer, "response", "messageKey")).toBe("noRecordings");
    expect(at(answer, "response", "returncode")).toBe("SUCCESS");
  });

  it("finds recordings by a record ID prefix and by a list of meeting IDs", async () => {
    expect(idsOf(await call("acme", "getRecordings", { recordID: acmeOther.recordId.slice(0, 12) }))).toEqual([acmeOther.recordId]);
    expect(idsOf(await call("acme", "getRecordings", { meetingID: "weekly,other" })).sort()).toEqual([acmeWeekly.recordId, acmeOther.recordId].sort());
  });

  it("filters by meta_ parameters, their names lower-cased as bbb-web stores them", async () => {
    await call("acme", "updateRecordings", { recordID: acmeOther.recordId, "meta_Term": "spring" });
    expect(idsOf(await call("acme", "getRecordings", { "meta_TERM": "spring" }))).toEqual([acmeOther.recordId]);
    expect(idsOf(await call("acme", "getRecordings", { meta_term: "autumn" }))).toEqual([]);
    // bbb-web lower-cases the filter's name, so its own camel-case names never match a filter.
    expect(idsOf(await call("acme", "getRecordings", { meta_meetingName: "Meeting other" }))).toEqual([]);
  });

  it("pages with offset and limit and tells the total, limit clamped to 1..100 as bbb-web does", async () => {
    const all = idsOf(await call("acme", "getRecordings"));
    const first = await call("acme", "getRecordings", { offset: "0", limit: "1" });
    const second = await call("acme", "getRecordings", { offset: "1", limit: "1" });
    expect([...idsOf(first), ...idsOf(second)]).toEqual(all);
    expect(at(first, "response", "totalElements")).toBe("2");
    expect(idsOf(await call("acme", "getRecordings", { offset: "-5", limit: "0" }))).toEqual(all.slice(0, 1));
    const unpaged = await call("acme", "getRecordings", { offset: "1", limit: "many" });
    expect(idsOf(unpaged)).toEqual(all);
    expect(at(unpaged, "response", "totalElements")).toBeUndefined();
  });

  it("is read by bigbluebutton-js as a BBB answer", async () => {
    const answer = await http(clients.acme.recording.getRecordings({ meetingID: "weekly" }));
    expect(answer.returncode).toBe("SUCCESS");
    expect(answer.recordings?.map((recording) => recording["recordID"])).toEqual([acmeWeekly.recordId]);
    const format = at(answer.recordings?.[0], "playback", "format") as Node;
    expect(format["type"]).toBe("presentation");
  });

  it("gives a protecting tenant playback and preview URLs that carry a token", async () => {
    const [recording] = recordingsOf(await call("globex", "getRecordings", { recordID: globexWeekly.recordId }));
    const [format] = at(recording, "playback", "format") as Node[];
    const url = new URL(String(at(format, "url")));
    expect(url.origin + url.pathname).toBe(`https://globex.bbb.test/playback/presentation/2.3/${globexWeekly.recordId}`);
    expect(url.searchParams.get("token")).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    for (const image of at(format, "preview", "images", "image") as Node[]) expect(new URL(String(image["#text"])).searchParams.has("token")).toBe(true);
  });
});

describe("publishRecordings, updateRecordings, deleteRecordings", () => {
  const onShare = (recording: PublishedRecording, tenant: string, state: "published" | "unpublished"): string =>
    join(formatDirectory(rf.share, tenant, state, "presentation", recording.recordId), "metadata.xml");

  it("unpublishes and publishes again on the share and in getRecordings", async () => {
    expect(at(await call("acme", "publishRecordings", { recordID: acmeOther.recordId, publish: "false" }), "response")).toEqual({ returncode: "SUCCESS", published: "false" });
    await expect(readFile(onShare(acmeOther, "acme", "unpublished"), "utf8")).resolves.toContain("<published>false</published>");
    expect(idsOf(await call("acme", "getRecordings", { state: "unpublished" }))).toEqual([acmeOther.recordId]);
    expect(idsOf(await call("acme", "getRecordings", { state: "published" }))).toEqual([acmeWeekly.recordId]);
    expect(at(await http(clients.acme.recording.publishRecordings(acmeOther.recordId, true)), "published")).toBe(true);
    expect(idsOf(await call("acme", "getRecordings", { state: "published" })).sort()).toEqual([acmeWeekly.recordId, acmeOther.recordId].sort());
  });

  it("updates metadata on the share and in getRecordings, an empty value removing the name", async () => {
    expect(at(await call("acme", "updateRecordings", { recordID: acmeWeekly.recordId, "meta_Course": "Physics" }), "response", "updated")).toBe("true");
    const [updated] = recordingsOf(await call("acme", "getRecordings", { recordID: acmeWeekly.recordId }));
    expect(at(updated, "metadata", "course")).toBe("Physics");
    await expect(readFile(onShare(acmeWeekly, "acme", "published"), "utf8")).resolves.toContain("<course>Physics</course>");
    await call("acme", "updateRecordings", { recordID: acmeWeekly.recordId, meta_course: "" });
    const [cleared] = recordingsOf(await call("acme", "getRecordings", { recordID: acmeWeekly.recordId }));
    expect(at(cleared, "metadata", "course")).toBeUndefined();
  });

  it("refuses another tenant's record ID with notFound and changes nothing of it", async () => {
    const before = await readFile(onShare(acmeWeekly, "acme", "published"), "utf8");
    for (const [name, params] of [
      ["publishRecordings", { publish: "false" }],
      ["updateRecordings", { meta_course: "stolen" }],
      ["deleteRecordings", {}],
    ] as const) {
      const answer = await call("globex", name, { recordID: acmeWeekly.recordId, ...params });
      expect(at(answer, "response")).toEqual({ returncode: "FAILED", messageKey: "notFound", message: "We could not find recordings" });
    }
    await expect(readFile(onShare(acmeWeekly, "acme", "published"), "utf8")).resolves.toBe(before);
  });

  it("answers bbb-web's errors for a missing record ID or publish value", async () => {
    expect(at(await call("acme", "deleteRecordings"), "response", "messageKey")).toBe("missingParamRecordID");
    expect(at(await call("acme", "publishRecordings", { recordID: acmeWeekly.recordId }), "response", "messageKey")).toBe("missingParamPublish");
    expect(at(await call("acme", "publishRecordings", { recordID: acmeWeekly.recordId, publish: "yes" }), "response", "messageKey")).toBe("missingParamPublish");
  });

  it("never finds a recording for hostile record IDs, and answers each with BBB's XML", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.constantFrom("..", "../acme", `../../acme/published/presentation/${acmeWeekly.recordId}`, "%2e%2e", ".staging", "*")), async (recordId) => {
        fc.pre(recordId !== "" && !recordId.includes(","));
        const answer = await call("globex", "deleteRecordings", { recordID: recordId });
        expect(at(answer, "response", "returncode")).toBe("FAILED");
      }),
      { numRuns: 40 },
    );
    await expect(readFile(onShare(acmeWeekly, "acme", "published"), "utf8")).resolves.toContain("<recording>");
  });

  it("deletes from the share and from getRecordings", async () => {
    expect(at(await http(clients.acme.recording.deleteRecordings(acmeOther.recordId)), "deleted")).toBe(true);
    await expect(readFile(onShare(acmeOther, "acme", "published"), "utf8")).rejects.toThrow(/ENOENT/);
    expect(idsOf(await call("acme", "getRecordings"))).toEqual([acmeWeekly.recordId]);
  });
});
