import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum, signQuery } from "../../src/bbb/checksum.js";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";

const secret = "bad-input-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-bad", secret });
});
afterAll(async () => {
  await node.close();
});

describe("bad input", () => {
  it("answers a query with broken percent-encoding with a BBB error, not a crash", async () => {
    const answer = await callApi(node, secret, "create", "name=100%&meetingID=%E0%A4%A");
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml;charset=utf-8");
    expect(tag(answer.body, "returncode")).toBeDefined();
  });

  it("answers a checksum of an unknown length with checksumError", async () => {
    const answer = await fetchAnswer(`${node.apiUrl}getMeetings?checksum=abc123`);
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
  });

  it("records nothing for a create body that is not a modules document", async () => {
    const query = signQuery("create", "name=Junk&meetingID=junk-1", secret, "sha1");
    const answer = await fetchAnswer(`${node.apiUrl}create?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: "<<<not xml" });
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(node.meeting("junk-1")?.presentations).toEqual([]);
  });

  it("answers insertDocument without documents with a validation error", async () => {
    await callApi(node, secret, "create", "name=Docs&meetingID=docs-1");
    const query = signQuery("insertDocument", "meetingID=docs-1", secret, "sha1");
    const answer = await fetchAnswer(`${node.apiUrl}insertDocument?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: "" });
    expect(tag(answer.body, "returncode")).toBe("FAILED");
  });

  it("answers a form POST signed with a wrong checksum with checksumError", async () => {
    const body = new URLSearchParams({ name: "Form", meetingID: "form-bad", checksum: computeChecksum("sha1", "create", "meetingID=other", secret) });
    const answer = await fetchAnswer(`${node.apiUrl}create`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: body.toString() });
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
  });

  it("refuses a body over the size limit and keeps serving", async () => {
    const query = signQuery("create", "name=Huge&meetingID=huge-1", secret, "sha1");
    const huge = "x".repeat(5 * 1024 * 1024);
    const answer = await fetchAnswer(`${node.apiUrl}create?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: huge }).catch(() => undefined);
    expect(answer === undefined || answer.status === 413).toBe(true);
    expect(node.meeting("huge-1")).toBeUndefined();
    const after = await fetchAnswer(node.apiUrl);
    expect(tag(after.body, "returncode")).toBe("SUCCESS");
  });

  it("answers 404 for a path outside the API", async () => {
    const answer = await fetchAnswer(node.apiUrl.replace("bigbluebutton/api/", "no/such/path"));
    expect(answer.status).toBe(404);
  });
});
