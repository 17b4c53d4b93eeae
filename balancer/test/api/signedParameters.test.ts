import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { parseBalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { apiBase, computeSigned, field, get, nodeMeetings, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

// Metadata as bbb-web reads it: bigbluebutton-web/src/java/org/bigbluebutton/api/ParamsProcessorUtil.java,
// `META_VAR_PATTERN = "meta_[a-zA-Z][a-zA-Z0-9-]*$"` and `processMetaParam`, which lower-cases the name after
// `meta_` ("to maintain backward compatibility with 0.81"): meta_BLOCKED and meta_blocked are one parameter.

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({
    nodeIds: ["n1"],
    configure: (config): BalancerConfigInput => ({
      ...config,
      policies: { create: { meta_Blocked: { mode: "block" }, "meta_bbb-origin": { mode: "override", value: "mediaplane" } }, join: {} },
    }),
  });
});
let logStart = 0;
beforeEach(async () => {
  await resetFleet(fleet);
  logStart = fleet.simulator.node("n1").requests.length;
});
afterAll(async () => {
  await fleet.close();
});

const form = { "content-type": "application/x-www-form-urlencoded" };
/** What the node received during this test (its log holds 1,000 requests, more than this file sends). */
const received = () => fleet.simulator.node("n1").requests.slice(logStart);
const nodeRequests = (call: string) => received().filter((request) => request.call === call);

async function createMeeting(meetingId: string): Promise<void> {
  const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Signed", meetingID: meetingId }));
  expect(field(answer.body, "returncode")).toBe("SUCCESS");
}

describe("form fields the checksum does not cover", () => {
  it("refuse a create whose signed query comes with form fields, and nothing reaches a node", async () => {
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Signed", meetingID: "injected" });
    const answer = await get(url, { method: "POST", headers: form, body: "moderatorPW=stolen&welcome=%3Cscript%3E" });
    expect(field(answer.body, "messageKey")).toBe("checksumError");
    expect(field(answer.body, "message")).toBe("Form parameters are not covered by the checksum: send them in the query string, or sign a form-only request");
    expect(nodeMeetings(fleet)).toEqual({ n1: [] });
    expect(nodeRequests("create")).toEqual([]);
  });

  it("refuse a viewer's signed join POSTed with role=MODERATOR: the node never sees it", async () => {
    await createMeeting("class");
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "join", { meetingID: "class", fullName: "Eve", role: "VIEWER", redirect: "false" });
    const answer = await get(url, { method: "POST", headers: form, body: "role=MODERATOR" });
    expect(field(answer.body, "returncode")).toBe("FAILED");
    expect(nodeRequests("join").filter((request) => request.rawQuery.includes("MODERATOR"))).toEqual([]);
  });

  it("refuse a getMeetingInfo whose signed query comes with a form", async () => {
    await createMeeting("info");
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "info" });
    const answer = await get(url, { method: "POST", headers: form, body: "meetingID=other" });
    expect(field(answer.body, "messageKey")).toBe("checksumError");
  });

  it("are never read from a GET's body: a signed join redirects with the signed role only", async () => {
    await createMeeting("lecture");
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "join", { meetingID: "lecture", fullName: "Eve", role: "VIEWER" });
    const answer = await get(url, { headers: form, body: "role=MODERATOR" });
    expect(answer.status).toBe(302);
    expect(new URL(answer.location ?? "").searchParams.getAll("role")).toEqual(["VIEWER"]);
  });

  it("a form-only POST signed over its sorted fields creates with exactly those fields", async () => {
    const fields = new URLSearchParams({ name: "Form only", meetingID: "form-only", welcome: "Hello" });
    const sorted = new URLSearchParams([...fields].sort(([a], [b]) => (a < b ? -1 : 1))).toString();
    fields.append("checksum", computeChecksum("sha256", "create", sorted, tenants.acme.secret));
    const answer = await get(`${apiBase(fleet.balancers[0]!, "acme")}create`, { method: "POST", headers: form, body: fields.toString() });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(fleet.simulator.node("n1").meeting("acme~form-only")?.params["welcome"]).toBe("Hello");
  });

  it("a signed create POSTed with a <modules> document passes exactly that document to the node", async () => {
    const modules = '<?xml version="1.0"?><modules><module name="presentation"><document url="https://acme.example.org/a.pdf"/></module></modules>';
    const url = signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "Slides", meetingID: "slides" });
    const answer = await get(url, { method: "POST", headers: { "content-type": "text/xml" }, body: modules });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
    expect(nodeRequests("create").map((request) => request.body)).toEqual([modules]);
  });
});

describe("metadata policies, by the name the node reads", () => {
  const metadataOf = (meetingId: string) => Object.fromEntries(fleet.simulator.node("n1").meeting(`acme~${meetingId}`)?.metadata ?? []);

  for (const [spelling, query] of [
    ["meta_BLOCKED", "meta_BLOCKED=x"],
    ["meta_blocked", "meta_blocked=x"],
    ["meta%5FBLOCKED (encoded)", "meta%5FBLOCKED=x"],
    ["meta_Blocke%64 (encoded)", "meta_Blocke%64=x"],
  ] as const) {
    it(`block ${spelling} when the config blocks meta_Blocked`, async () => {
      const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", `name=Meta&meetingID=meta&${query}`));
      expect(field(answer.body, "returncode")).toBe("SUCCESS");
      expect(metadataOf("meta")).not.toHaveProperty("blocked");
      expect(nodeRequests("create")[0]?.rawQuery.toLowerCase()).not.toMatch(/blocke/);
    });
  }

  it("override metadata the client spells in upper case with the policy's value, once", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", "name=Meta&meetingID=origin&meta_BBB-ORIGIN=evil"));
    expect(metadataOf("origin")["bbb-origin"]).toBe("mediaplane");
    expect(new URLSearchParams(nodeRequests("create")[0]?.rawQuery).getAll("meta_bbb-origin")).toEqual(["mediaplane"]);
  });

  it("refuse two policies in one config that name the same metadata, naming both", () => {
    const config = parseBalancerConfig({
      tenants: [{ slug: "acme", secrets: [tenants.acme.secret], policies: { create: { meta_Room: { mode: "block" }, meta_room: { mode: "setIfAbsent", value: "a" } }, join: {} } }],
      nodes: [{ id: "n1", url: "http://127.0.0.1:9/bigbluebutton/api/", secret: "n1-node-secret-0123456789" }],
    });
    expect(() => buildDirectory(config)).toThrow("tenant acme: policies.create.meta_room: names the same parameter as meta_Room");
  });
});

describe("a parameter given twice", () => {
  const refusals: Array<[string, string, string, string]> = [
    ["the same name", "create", "name=Twice&meetingID=a&meetingID=b", "meetingID"],
    ["an encoded spelling of the same name", "create", "name=Twice&meetingID=a&meeting%49D=b", "meetingID"],
    ["metadata in two cases", "create", "name=Twice&meetingID=m&meta_Room=a&meta_ROOM=b", "meta_room"],
    ["a join's redirect, once encoded", "join", "meetingID=m&fullName=A&redirec%74=false&redirect=true", "redirect"],
    ["a checksum-covered name spelled with +", "getMeetingInfo", "meetingID=m&full+name=a&full%20name=b", "full name"],
  ];
  for (const [what, call, query, name] of refusals) {
    it(`refuses ${what} (${call}) with validationError naming ${name}`, async () => {
      const answer = await get(`${apiBase(fleet.balancers[0]!, "acme")}${call}?${computeSigned(tenants.acme, call, query)}`);
      expect(answer.status).toBe(200);
      expect(field(answer.body, "messageKey")).toBe("validationError");
      expect(field(answer.body, "message")).toBe(`The parameter ${name} is given more than once; give each parameter once`);
      expect(received()).toEqual([]);
    });
  }

  it("refuses a repeated field of a form-only POST too", async () => {
    const fields = "meetingID=a&meetingID=b&name=Twice";
    const body = `${fields}&checksum=${computeChecksum("sha256", "create", fields, tenants.acme.secret)}`;
    const answer = await get(`${apiBase(fleet.balancers[0]!, "acme")}create`, { method: "POST", headers: form, body });
    expect(field(answer.body, "message")).toBe("The parameter meetingID is given more than once; give each parameter once");
    expect(nodeMeetings(fleet)).toEqual({ n1: [] });
  });
});
