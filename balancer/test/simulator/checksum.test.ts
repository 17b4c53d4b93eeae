import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";

const secret = "node-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb1", secret });
});
afterAll(async () => {
  await node.close();
});

describe("checksum", () => {
  it("answers the version document without a checksum", async () => {
    for (const url of [node.apiUrl, node.apiUrl.slice(0, -1)]) {
      const answer = await fetchAnswer(url);
      expect(answer.contentType).toBe("text/xml;charset=utf-8");
      expect(tag(answer.body, "returncode")).toBe("SUCCESS");
      expect(tag(answer.body, "apiVersion")).toBe("2.0");
    }
  });

  it("returns checksumError when the checksum is wrong", async () => {
    const answer = await callApi(node, "another-secret-0123456789", "getMeetings", "");
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe("text/xml;charset=utf-8");
    expect(tag(answer.body, "returncode")).toBe("FAILED");
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
  });

  it("returns checksumError when the checksum is missing", async () => {
    const answer = await fetchAnswer(`${node.apiUrl}getMeetings`);
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
    expect(tag(answer.body, "message")).toBe("You must provide the checksum");
  });

  it.each(["sha1", "sha256", "sha384", "sha512"] as const)("accepts a %s checksum", async (algorithm) => {
    const answer = await callApi(node, secret, "getMeetings", "", algorithm);
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("verifies the raw query, whether spaces came as %20 or +", async () => {
    const withPercent = await callApi(node, secret, "create", "name=Space%20Name&meetingID=space-percent");
    const withPlus = await callApi(node, secret, "create", "name=Space+Name&meetingID=space-plus");
    expect(tag(withPercent.body, "returncode")).toBe("SUCCESS");
    expect(tag(withPlus.body, "returncode")).toBe("SUCCESS");
    expect(node.meeting("space-percent")?.name).toBe("Space Name");
    expect(node.meeting("space-plus")?.name).toBe("Space Name");
  });

  it("refuses a query re-encoded after signing", async () => {
    const checksum = computeChecksum("sha1", "create", "name=Re+Encoded&meetingID=reencoded", secret);
    const answer = await fetchAnswer(`${node.apiUrl}create?name=Re%20Encoded&meetingID=reencoded&checksum=${checksum}`);
    expect(tag(answer.body, "messageKey")).toBe("checksumError");
  });

  it("accepts a form-body create signed over its parameters sorted by name", async () => {
    const params = { name: "Form posted!", meetingID: "form-1", attendeePW: "ap" };
    const sorted = "attendeePW=ap&meetingID=form-1&name=Form+posted%21";
    const body = new URLSearchParams({ ...params, checksum: computeChecksum("sha1", "create", sorted, secret) });
    const answer = await fetchAnswer(`${node.apiUrl}create`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(node.meeting("form-1")?.name).toBe("Form posted!");
  });

  it("answers unsupportedRequest for a call bbb-web does not have", async () => {
    const answer = await callApi(node, secret, "setConfigXML", "meetingID=x1");
    expect(tag(answer.body, "messageKey")).toBe("unsupportedRequest");
  });
});
