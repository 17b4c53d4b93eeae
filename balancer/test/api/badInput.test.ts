import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acmeCount, apiBase, field, get, getRaw, nodeMeetings, redisState, signedUrl, startFleet, tenants, type Fleet, type HttpAnswer } from "./harness.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet();
  await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Live", meetingID: "live" }));
});
afterAll(async () => {
  await fleet.close();
});

/** Sends a request and checks it got BBB's FAILED document with `messageKey`, and that nothing changed anywhere. */
async function expectRefused(send: () => Promise<HttpAnswer>, messageKey: string): Promise<void> {
  const redisBefore = await redisState(fleet.balancers[0]!);
  const nodesBefore = nodeMeetings(fleet);
  const answer = await send();
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe("text/xml;charset=utf-8");
  expect(field(answer.body, "returncode")).toBe("FAILED");
  expect(field(answer.body, "messageKey")).toBe(messageKey);
  expect(answer.body).not.toMatch(/at .*\.ts|Error:/);
  expect(await redisState(fleet.balancers[0]!)).toEqual(redisBefore);
  expect(nodeMeetings(fleet)).toEqual(nodesBefore);
}

const base = (): string => apiBase(fleet.balancers[0]!, "acme");

describe("bad input", () => {
  it("returns checksumError when the checksum is missing", async () => {
    await expectRefused(() => get(`${base()}create?name=X&meetingID=abc`), "checksumError");
  });

  it("returns checksumError when the checksum is wrong", async () => {
    await expectRefused(() => get(`${base()}create?name=X&meetingID=abc&checksum=${"0".repeat(64)}`), "checksumError");
  });

  it("returns checksumError when the checksum was made with another tenant's secret", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.globex, "create", { name: "X", meetingID: "abc" }).replace("/t/globex/", "/t/acme/");
    await expectRefused(() => get(url), "checksumError");
  });

  it("returns checksumError for an unknown tenant", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "abc" }).replace("/t/acme/", "/t/nobody/");
    await expectRefused(() => get(url), "checksumError");
  });

  it("returns missingParamMeetingID when create has no meetingID", async () => {
    await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X" })), "missingParamMeetingID");
  });

  it("returns validationError for a 1-character meetingID", async () => {
    await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "a" })), "validationError");
  });

  it("returns validationError for a meetingID with a comma", async () => {
    await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "a,b" })), "validationError");
  });

  it("returns validationError for a body over 2 MB", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "big" });
    const body = `<modules><module name="presentation"><document name="a.pdf">${"A".repeat(3 * 1024 * 1024)}</document></module></modules>`;
    await expectRefused(() => get(url, { method: "POST", headers: { "content-type": "text/xml" }, body }), "validationError");
  });

  it("returns validationError for an XML body that is not a <modules> document", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "bad-xml" });
    await expectRefused(() => get(url, { method: "POST", headers: { "content-type": "text/xml" }, body: "<modules><module" }), "validationError");
  });

  it("returns validationError for a body of an unsupported content type", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "X", meetingID: "bad-type" });
    await expectRefused(() => get(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), "validationError");
  });

  it("returns unsupportedRequest for an unknown call", async () => {
    await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "setConfigXML", { meetingID: "live" })), "unsupportedRequest");
  });

  // getMeetingInfo and isMeetingRunning answer as for an unknown meeting then (failingNodes.test.ts); an end cannot.
  it("returns serverUnavailable when the meeting's node is unreachable", async () => {
    for (const node of fleet.simulator.nodes.values()) node.setFailure("down");
    try {
      await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "end", { meetingID: "live" })), "serverUnavailable");
    } finally {
      for (const node of fleet.simulator.nodes.values()) node.setFailure("none");
    }
  });

  it("returns serverUnavailable when the meeting's node answers with something that is not BBB's XML", async () => {
    for (const node of fleet.simulator.nodes.values()) node.setFailure("garbage");
    try {
      await expectRefused(() => get(signedUrl(fleet.balancers[0]!, tenants.acme, "end", { meetingID: "live" })), "serverUnavailable");
    } finally {
      for (const node of fleet.simulator.nodes.values()) node.setFailure("none");
    }
  });

  it("answers the version document at the API root without a checksum", async () => {
    const answer = await get(`${fleet.balancers[0]!.url}/t/acme/bigbluebutton/api`);
    expect(answer.body).toBe("<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion/></response>");
  });
});

describe("checksum", () => {
  const vectorQuery = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444";
  for (const algorithm of ["sha1", "sha256", "sha384", "sha512"] as const) {
    it(`accepts a request signed with ${algorithm}`, async () => {
      const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "isMeetingRunning", vectorQuery, algorithm));
      expect(field(answer.body, "returncode")).toBe("SUCCESS");
    });
  }

  it("accepts the raw query exactly as encoded by the client (%20 and unescaped !'()*)", async () => {
    // WHATWG URL parsing would re-encode the quote: send the path byte for byte.
    const answer = await getRaw(signedUrl(fleet.balancers[0]!, tenants.acme, "isMeetingRunning", "meetingID=it's%20(fun)!*"));
    expect(field(answer, "returncode")).toBe("SUCCESS");
  });
});

describe("checksum allow-list", () => {
  let strict: Fleet;
  beforeAll(async () => {
    strict = await startFleet({ nodeIds: ["n1"], configure: (config) => ({ ...config, checksum: { allowed: ["sha256", "sha512"] } }) });
  });
  afterAll(async () => {
    await strict.close();
  });

  it("refuses a SHA-1 request when the allow-list excludes SHA-1", async () => {
    const answer = await get(signedUrl(strict.balancers[0]!, tenants.acme, "isMeetingRunning", { meetingID: "abc" }, "sha1"));
    expect(field(answer.body, "messageKey")).toBe("checksumError");
  });

  it("accepts an allowed algorithm", async () => {
    const answer = await get(signedUrl(strict.balancers[0]!, tenants.acme, "isMeetingRunning", { meetingID: "abc" }, "sha512"));
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
  });
});

describe("request metrics", () => {
  const requests = (call: string, result: string): Promise<number> => acmeCount("mediaplane_api_requests_total", { call, result });

  it("counts each answered request by call and result, the error's messageKey being the result", async () => {
    const [okBefore, failedBefore] = [await requests("isMeetingRunning", "success"), await requests("isMeetingRunning", "checksumError")];
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "isMeetingRunning", { meetingID: "live" }));
    await get(`${base()}isMeetingRunning?meetingID=live&checksum=${"0".repeat(64)}`);
    expect(await requests("isMeetingRunning", "success")).toBe(okBefore + 1);
    expect(await requests("isMeetingRunning", "checksumError")).toBe(failedBefore + 1);
  });

  it("counts unknown calls under one label, so scanners cannot grow the label set", async () => {
    const before = await requests("unsupported", "unsupportedRequest");
    await get(`${base()}doesNotExist${Math.random()}`);
    expect(await requests("unsupported", "unsupportedRequest")).toBe(before + 1);
  });
});

describe("known-answer checksum vectors (docs/bbb-api.md)", () => {
  const vectorSecret = "639259d4-9dd8-4b25-bf01-95f9567eaf4b";
  const vectorQuery = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444";
  let vectors: Fleet;
  beforeAll(async () => {
    vectors = await startFleet({ nodeIds: ["n1"], configure: (config) => ({ ...config, tenants: [{ slug: "vector", secrets: [vectorSecret] }] }) });
  });
  afterAll(async () => {
    await vectors.close();
  });

  for (const [algorithm, checksum] of [
    ["SHA-1", "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"],
    ["SHA-256", "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e"],
  ] as const) {
    it(`accepts the ${algorithm} vector as a create`, async () => {
      const answer = await get(`${apiBase(vectors.balancers[0]!, "vector")}create?${vectorQuery}&checksum=${checksum}`);
      expect(field(answer.body, "returncode")).toBe("SUCCESS");
      expect(field(answer.body, "meetingID")).toBe("abc123");
    });
  }

  it("accepts the checksum in upper case, as bbb-web compares", async () => {
    const answer = await get(`${apiBase(vectors.balancers[0]!, "vector")}create?${vectorQuery}&checksum=${"da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e".toUpperCase()}`);
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
  });
});
