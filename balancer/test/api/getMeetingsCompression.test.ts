import { gunzipSync } from "node:zlib";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1", "n2"] });
  for (const meetingID of ["alpha", "beta", "gamma"]) {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: meetingID, meetingID }));
  }
});
afterAll(async () => {
  await fleet.close();
});

interface RawAnswer {
  contentEncoding: string | undefined;
  vary: string | undefined;
  contentType: string | undefined;
  /** The bytes as they came over the wire, not decoded. */
  bytes: Buffer;
}

/** getMeetings over real HTTP with the given request headers; undici's `request` leaves the body encoded. */
async function getMeetingsRaw(headers: Record<string, string>): Promise<RawAnswer> {
  const answer = await request(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetings", {}), { headers });
  const header = (name: string): string | undefined => {
    const value = answer.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const bytes = Buffer.from(await answer.body.arrayBuffer());
  return { contentEncoding: header("content-encoding"), vary: header("vary"), contentType: header("content-type"), bytes };
}

const meetingIds = (xml: string): string[] => [...xml.matchAll(/<meetingID>([^<]*)<\/meetingID>/g)].map((match) => match[1] ?? "").sort();

describe("getMeetings compression", () => {
  it("sends the identity answer to a client that does not ask for gzip", async () => {
    const answer = await getMeetingsRaw({});
    expect(answer.contentEncoding).toBeUndefined();
    expect(meetingIds(answer.bytes.toString("utf8"))).toEqual(["alpha", "beta", "gamma"]);
  });

  it("sends a gzip answer that decompresses to exactly the identity answer when the client accepts gzip", async () => {
    const identity = await getMeetingsRaw({});
    const compressed = await getMeetingsRaw({ "accept-encoding": "gzip, deflate" });
    expect(compressed.contentEncoding).toBe("gzip");
    expect(compressed.contentType).toBe(identity.contentType);
    expect(compressed.bytes.length).toBeLessThan(identity.bytes.length);
    expect(gunzipSync(compressed.bytes).equals(identity.bytes)).toBe(true);
  });

  it("tells caches that the answer varies with Accept-Encoding, in both encodings", async () => {
    expect((await getMeetingsRaw({})).vary).toMatch(/accept-encoding/i);
    expect((await getMeetingsRaw({ "accept-encoding": "gzip" })).vary).toMatch(/accept-encoding/i);
  });

  it("sends the identity answer when the client refuses gzip with q=0", async () => {
    const answer = await getMeetingsRaw({ "accept-encoding": "gzip;q=0, identity" });
    expect(answer.contentEncoding).toBeUndefined();
    expect(meetingIds(answer.bytes.toString("utf8"))).toEqual(["alpha", "beta", "gamma"]);
  });

  it("lists a meeting created after the answer was cached, in both encodings", async () => {
    await getMeetingsRaw({ "accept-encoding": "gzip" });
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "delta", meetingID: "delta" }));
    const identity = await getMeetingsRaw({});
    const compressed = await getMeetingsRaw({ "accept-encoding": "gzip" });
    expect(meetingIds(identity.bytes.toString("utf8"))).toEqual(["alpha", "beta", "delta", "gamma"]);
    expect(gunzipSync(compressed.bytes).equals(identity.bytes)).toBe(true);
  });

  it("answers noMeetings, compressed alike, for a tenant without meetings", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.globex, "getMeetings", {});
    const identity = Buffer.from(await (await request(url)).body.arrayBuffer());
    const compressed = await request(url, { headers: { "accept-encoding": "gzip" } });
    expect(identity.toString("utf8")).toContain("<messageKey>noMeetings</messageKey>");
    expect(compressed.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(Buffer.from(await compressed.body.arrayBuffer())).equals(identity)).toBe(true);
  });
});
