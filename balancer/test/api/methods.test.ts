import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { field, nodeMeetings, redisState, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

// bbb-web routes each API call by method (bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/UrlMappings.groovy:
// `action = [GET: 'create', POST: 'create']`, `[GET: 'join']`, `[POST: 'insertDocument']`, ...): a request with
// any other method runs nothing.

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1", "n2"] });
});
beforeEach(async () => {
  await resetFleet(fleet);
});
afterAll(async () => {
  await fleet.close();
});

type Method = "GET" | "POST" | "HEAD" | "PUT" | "DELETE" | "PATCH" | "OPTIONS";

async function send(method: Method, url: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  const answer = await request(url, { method });
  const contentType = answer.headers["content-type"];
  return { status: answer.statusCode, contentType: Array.isArray(contentType) ? contentType[0] : contentType, body: await answer.body.text() };
}

const createUrl = (meetingId: string): string => signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Methods", meetingID: meetingId });

describe("a method the call does not take", () => {
  for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"] as const) {
    it(`${method} of a signed create creates nothing and answers BBB's XML error naming the method`, async () => {
      const redisBefore = await redisState(fleet.balancers[0]!);
      const answer = await send(method, createUrl(`by-${method.toLowerCase()}`));
      expect(answer.status).toBe(200);
      expect(answer.contentType).toBe("text/xml;charset=utf-8");
      expect(field(answer.body, "returncode")).toBe("FAILED");
      expect(field(answer.body, "messageKey")).toBe("unsupportedRequest");
      expect(field(answer.body, "message")).toBe(`create does not accept ${method} requests; send it as GET or POST`);
      expect(nodeMeetings(fleet)).toEqual({ n1: [], n2: [] });
      expect(await redisState(fleet.balancers[0]!)).toEqual(redisBefore);
    });
  }

  it("HEAD of a signed create creates nothing (HTTP 200, BBB's content type, no body)", async () => {
    const redisBefore = await redisState(fleet.balancers[0]!);
    const answer = await send("HEAD", createUrl("by-head"));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml;charset=utf-8");
    expect(nodeMeetings(fleet)).toEqual({ n1: [], n2: [] });
    expect(await redisState(fleet.balancers[0]!)).toEqual(redisBefore);
  });

  for (const method of ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] as const) {
    it(`${method} of a signed end leaves the meeting running and mapped`, async () => {
      expect(field((await send("GET", createUrl("kept"))).body, "returncode")).toBe("SUCCESS");
      const redisBefore = await redisState(fleet.balancers[0]!);
      await send(method, signedUrl(fleet.balancers[0]!, tenants.acme, "end", { meetingID: "kept" }));
      expect(Object.values(nodeMeetings(fleet)).flat()).toEqual(["acme~kept"]);
      expect(await redisState(fleet.balancers[0]!)).toEqual(redisBefore);
    });
  }

  it("POST of a signed join is refused: join is GET only", async () => {
    await send("GET", createUrl("joined"));
    const answer = await send("POST", signedUrl(fleet.balancers[0]!, tenants.acme, "join", { meetingID: "joined", fullName: "A", role: "VIEWER", redirect: "false" }));
    expect(field(answer.body, "message")).toBe("join does not accept POST requests; send it as GET");
    expect(fleet.simulator.node("n1").requests.concat(fleet.simulator.node("n2").requests).filter((received) => received.call === "join")).toEqual([]);
  });

  it("GET of insertDocument is refused: it is POST only", async () => {
    const answer = await send("GET", signedUrl(fleet.balancers[0]!, tenants.acme, "insertDocument", { meetingID: "any" }));
    expect(field(answer.body, "message")).toBe("insertDocument does not accept GET requests; send it as POST");
  });

  it("GET and POST of a call that takes both still run it", async () => {
    expect(field((await send("POST", createUrl("posted"))).body, "returncode")).toBe("SUCCESS");
    expect(field((await send("POST", signedUrl(fleet.balancers[0]!, tenants.acme, "isMeetingRunning", { meetingID: "posted" }))).body, "running")).toBe("false");
    expect(field((await send("GET", signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "posted" }))).body, "returncode")).toBe("SUCCESS");
  });
});
