import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyReadTimeoutMs, maxFormBytes, maxModulesBytes } from "../../src/http/body.js";
import { apiBase, computeSigned, field, nodeMeetings, redisState, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";
import { sendRaw, type RawAnswer } from "./rawRequest.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1"] });
});
afterAll(async () => {
  await fleet.close();
});

const twoMegabytes = String(2 * 1024 * 1024);
const modulesStart = Buffer.from('<?xml version="1.0"?><modules><module name="presentation">'.padEnd(1024, " "));
const xmlHead = { "Content-Type": "text/xml", "Content-Length": twoMegabytes };

function expectRefusedAndClosed(answer: RawAnswer, messageKey: string): void {
  expect(answer.status).toBe(200);
  expect(answer.headers["content-type"]).toBe("text/xml;charset=utf-8");
  expect(field(answer.body, "returncode")).toBe("FAILED");
  expect(field(answer.body, "messageKey")).toBe(messageKey);
  expect(answer.headers["connection"]).toBe("close");
  expect(answer.closed).toBe(true);
}

describe("a request refused before its body is read", () => {
  const refusals: Array<{ what: string; url: () => string; messageKey: string }> = [
    { what: "a wrong checksum", url: () => `${apiBase(fleet.balancers[0]!, "acme")}create?name=x&meetingID=big&checksum=${"0".repeat(64)}`, messageKey: "checksumError" },
    { what: "no checksum", url: () => `${apiBase(fleet.balancers[0]!, "acme")}create?name=x&meetingID=big`, messageKey: "checksumError" },
    { what: "an unknown tenant", url: () => `${apiBase(fleet.balancers[0]!, "initech")}create?${computeSigned(tenants.acme, "create", "meetingID=big")}`, messageKey: "checksumError" },
    { what: "an unknown call", url: () => `${apiBase(fleet.balancers[0]!, "acme")}setConfigXML?${computeSigned(tenants.acme, "setConfigXML", "meetingID=big")}`, messageKey: "unsupportedRequest" },
  ];
  for (const { what, url, messageKey } of refusals) {
    it(`answers ${what} at once, without waiting for the 2 MB body, and closes the connection`, async () => {
      const redisBefore = await redisState(fleet.balancers[0]!);
      expectRefusedAndClosed(await sendRaw(url(), { method: "POST", headers: xmlHead, body: modulesStart }), messageKey);
      expect(nodeMeetings(fleet)).toEqual({ n1: [] });
      expect(await redisState(fleet.balancers[0]!)).toEqual(redisBefore);
    });
  }

  it("answers a method the call does not take at once (a signed join as PUT with a 2 MB body)", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "join", { meetingID: "big", fullName: "A", role: "VIEWER" });
    expectRefusedAndClosed(await sendRaw(url, { method: "PUT", headers: xmlHead, body: modulesStart }), "unsupportedRequest");
  });

  it("refuses a form-only POST announcing more than a form's limit without reading it", async () => {
    const url = `${apiBase(fleet.balancers[0]!, "acme")}create`;
    const headers = { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(maxFormBytes + 1) };
    const answer = await sendRaw(url, { method: "POST", headers, body: Buffer.from("name=x&meetingID=y&") });
    expectRefusedAndClosed(answer, "validationError");
    expect(field(answer.body, "message")).toBe("The request body is larger than 64 KiB");
  });

  it("refuses a signed create whose <modules> document is announced larger than 2 MiB without reading it", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "x", meetingID: "huge" });
    const headers = { "Content-Type": "text/xml", "Content-Length": String(maxModulesBytes + 1) };
    const answer = await sendRaw(url, { method: "POST", headers, body: modulesStart });
    expectRefusedAndClosed(answer, "validationError");
    expect(field(answer.body, "message")).toBe("The request body is larger than 2 MiB");
    expect(nodeMeetings(fleet)).toEqual({ n1: [] });
  });

  it("stops reading a chunked form-only POST at the form's limit", async () => {
    const url = `${apiBase(fleet.balancers[0]!, "acme")}getMeetings`;
    const chunk = "a".repeat(maxFormBytes + 1);
    const bodyStart = Buffer.from(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const headers = { "Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked" };
    expectRefusedAndClosed(await sendRaw(url, { method: "POST", headers, body: bodyStart }), "validationError");
  });
});

describe("a body that stops arriving", () => {
  it(
    `is refused after ${bodyReadTimeoutMs / 1000} s with BBB's XML error, the connection closed and nothing created`,
    async () => {
      const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "slow", meetingID: "slow" });
      const started = performance.now();
      const answer = await sendRaw(url, { method: "POST", headers: xmlHead, body: modulesStart }, bodyReadTimeoutMs + 5_000);
      expect(performance.now() - started).toBeGreaterThanOrEqual(bodyReadTimeoutMs - 100);
      expectRefusedAndClosed(answer, "validationError");
      expect(field(answer.body, "message")).toBe(`The request body did not arrive within ${bodyReadTimeoutMs / 1000} s`);
      expect(nodeMeetings(fleet)).toEqual({ n1: [] });
    },
    bodyReadTimeoutMs + 10_000,
  );
});
