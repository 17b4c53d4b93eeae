import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { keys } from "../../src/store/keys.js";
import { apiBase, field, get, resetFleet, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";
import { hooksCall, withWebhooks } from "./support.js";

/**
 * The tenant-facing bbb-webhooks API. Shapes, keys and messages as bbb-webhooks v3.4.0 answers them
 * (src/out/webhooks/api/api.js and src/out/webhooks/api/responses.js); checksums over `hooks/<call>` + query +
 * secret (src/out/webhooks/utils.js, checksumAPI with apiPath `/bigbluebutton/api`).
 */

let fleet: Fleet;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1"], configure: withWebhooks({ maxHooksPerTenant: 5 }) });
});
afterAll(async () => fleet.close());
beforeEach(async () => resetFleet(fleet));

const balancer = (): Fleet["balancers"][number] => fleet.balancers[0]!;

describe("hooks/create", () => {
  it("answers SUCCESS with a UUID hookID, permanentHook false and rawData false", async () => {
    const xml = await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a" });
    expect(xml).toMatch(/^<response><returncode>SUCCESS<\/returncode><hookID>[^<]+<\/hookID><permanentHook>false<\/permanentHook><rawData>false<\/rawData><\/response>$/);
    expect(field(xml, "hookID")).toMatch(uuid);
  });

  it("answers a second create of the same callbackURL with the first hook's ID and duplicateWarning", async () => {
    const first = field(await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a" }), "hookID");
    const again = await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a", meetingID: "m1" });
    expect(again).toBe(
      `<response><returncode>SUCCESS</returncode><hookID>${first}</hookID><messageKey>duplicateWarning</messageKey><message>There is already a hook for this callback URL.</message></response>`,
    );
  });

  it("refuses a create without callbackURL with missingParamCallbackURL", async () => {
    expect(await hooksCall(balancer(), tenants.acme, "create", { meetingID: "m1" })).toBe(
      "<response><returncode>FAILED</returncode><messageKey>missingParamCallbackURL</messageKey><message>You must specify a callbackURL in the parameters.</message></response>",
    );
  });

  it("refuses getRaw=true with createHookError, since only mapped events are relayed", async () => {
    const xml = await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/raw", getRaw: "true" });
    expect(field(xml, "messageKey")).toBe("createHookError");
    expect(field(xml, "message")).toMatch(/getRaw/);
  });

  it("refuses a tenant's hook beyond its limit with createHookError naming the limit", async () => {
    for (let i = 0; i < 5; i++) await hooksCall(balancer(), tenants.acme, "create", { callbackURL: `https://hooks.example.com/${i}` });
    const xml = await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/too-many" });
    expect(field(xml, "messageKey")).toBe("createHookError");
    expect(field(xml, "message")).toMatch(/5 hooks/);
  });

  it("answers a wrong checksum with bbb-webhooks' checksumError wording", async () => {
    const query = "callbackURL=https%3A%2F%2Fhooks.example.com%2Fa";
    const wrong = computeChecksum("sha1", "hooks/create", query, tenants.globex.secret);
    const answer = await get(`${apiBase(balancer(), "acme")}hooks/create?${query}&checksum=${wrong}`);
    expect(answer.body).toBe(
      "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>You did not pass the checksum security check.</message></response>",
    );
    expect(await balancer().redis.hlen(keys.hooks("acme"))).toBe(0);
  });

  it("refuses a checksum computed over another call name (create instead of hooks/create)", async () => {
    const query = "callbackURL=https%3A%2F%2Fhooks.example.com%2Fa";
    const answer = await get(`${apiBase(balancer(), "acme")}hooks/create?${query}&checksum=${computeChecksum("sha256", "create", query, tenants.acme.secret)}`);
    expect(field(answer.body, "messageKey")).toBe("checksumError");
  });

  it("accepts every checksum length bbb-webhooks supports (sha1 to sha512)", async () => {
    for (const algorithm of ["sha1", "sha256", "sha384", "sha512"] as const) {
      const answer = await get(signedUrl(balancer(), tenants.acme, "hooks/create", { callbackURL: `https://hooks.example.com/${algorithm}` }, algorithm));
      expect(field(answer.body, "returncode")).toBe("SUCCESS");
    }
  });
});

describe("hooks/list", () => {
  it("lists every hook of the tenant with bbb-webhooks' elements, meetingID only on meeting hooks", async () => {
    const global = field(await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/g" }), "hookID");
    const scoped = field(await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/m?x=1", meetingID: "room 1", eventID: "User-Joined,meeting-ended" }), "hookID");
    expect(await hooksCall(balancer(), tenants.acme, "list")).toBe(
      "<response><returncode>SUCCESS</returncode><hooks>" +
        `<hook><hookID>${global}</hookID><callbackURL><![CDATA[https://hooks.example.com/g]]></callbackURL><permanentHook>false</permanentHook><rawData>false</rawData></hook>` +
        `<hook><hookID>${scoped}</hookID><callbackURL><![CDATA[https://hooks.example.com/m?x=1]]></callbackURL><meetingID><![CDATA[room 1]]></meetingID><eventID>user-joined,meeting-ended</eventID><permanentHook>false</permanentHook><rawData>false</rawData></hook>` +
        "</hooks></response>",
    );
  });

  it("with a meetingID lists the global hooks and that meeting's, not other meetings'", async () => {
    await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/g" });
    await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/one", meetingID: "one" });
    await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/two", meetingID: "two" });
    const xml = await hooksCall(balancer(), tenants.acme, "list", { meetingID: "one" });
    expect(xml).toContain("https://hooks.example.com/g");
    expect(xml).toContain("https://hooks.example.com/one");
    expect(xml).not.toContain("https://hooks.example.com/two");
  });

  it("never shows one tenant another tenant's hooks", async () => {
    await hooksCall(balancer(), tenants.globex, "create", { callbackURL: "https://globex.example.com/hook" });
    expect(await hooksCall(balancer(), tenants.acme, "list")).toBe("<response><returncode>SUCCESS</returncode><hooks></hooks></response>");
  });
});

describe("hooks/destroy", () => {
  it("removes the hook and answers removed true", async () => {
    const hookID = field(await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a" }), "hookID") ?? "";
    expect(await hooksCall(balancer(), tenants.acme, "destroy", { hookID })).toBe("<response><returncode>SUCCESS</returncode><removed>true</removed></response>");
    expect(await hooksCall(balancer(), tenants.acme, "list")).not.toContain(hookID);
  });

  it("lets the callback URL be registered again once its hook is destroyed", async () => {
    const hookID = field(await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a" }), "hookID") ?? "";
    await hooksCall(balancer(), tenants.acme, "destroy", { hookID });
    const again = await hooksCall(balancer(), tenants.acme, "create", { callbackURL: "https://hooks.example.com/a" });
    expect(field(again, "messageKey")).toBeUndefined();
    expect(field(again, "hookID")).not.toBe(hookID);
  });

  it("refuses a destroy without hookID with missingParamHookID", async () => {
    expect(await hooksCall(balancer(), tenants.acme, "destroy")).toBe(
      "<response><returncode>FAILED</returncode><messageKey>missingParamHookID</messageKey><message>You must specify a hookID in the parameters.</message></response>",
    );
  });

  it("answers destroyMissingHook for another tenant's hook and leaves that hook in place", async () => {
    const hookID = field(await hooksCall(balancer(), tenants.globex, "create", { callbackURL: "https://globex.example.com/hook" }), "hookID") ?? "";
    expect(await hooksCall(balancer(), tenants.acme, "destroy", { hookID })).toBe(
      "<response><returncode>FAILED</returncode><messageKey>destroyMissingHook</messageKey><message>The hook informed was not found.</message></response>",
    );
    expect(await hooksCall(balancer(), tenants.globex, "list")).toContain(hookID);
  });
});

describe("callbackURL policy (SSRF)", () => {
  const refused = [
    "ftp://hooks.example.com/a",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "http://10.0.0.5/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/hook",
    "http://[::ffff:10.1.2.3]/hook",
    "http://192.168.1.1/",
    "http://0.0.0.0:6379/",
    "http://localhost:9090/admin",
    "http://user:pass@hooks.example.com/a",
    "https://hooks.example.com/a#fragment",
    `https://hooks.example.com/${"a".repeat(2_100)}`.slice(0, 2_100),
    "not a url",
    "",
  ];

  it.each(refused.map((url) => [url.length > 80 ? `${url.slice(0, 40)}... (${url.length} characters)` : url, url]))("refuses %s with createHookError and stores nothing", async (_, callbackURL) => {
    const xml = await hooksCall(balancer(), tenants.acme, "create", { callbackURL });
    expect(field(xml, "returncode")).toBe("FAILED");
    expect(field(xml, "messageKey")).toBe("createHookError");
    expect(await balancer().redis.hlen(keys.hooks("acme"))).toBe(0);
  });

  it("answers any callbackURL with a BBB XML document and stores only http(s) URLs to public addresses", async () => {
    const hostile = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.tuple(fc.constantFrom("http", "https", "ftp", "file", "data", "gopher", "ws"), fc.ipV4(), fc.string({ maxLength: 40 })).map(([scheme, ip, rest]) => `${scheme}://${ip}/${rest}`),
      fc.tuple(fc.constantFrom("http", "https"), fc.ipV6()).map(([scheme, ip]) => `${scheme}://[${ip}]/hook`),
      // Up to what Node's HTTP server takes in a request line (16 KiB of headers): longer never reaches the balancer.
      fc.integer({ min: 2_000, max: 5_000 }).map((length) => `https://hooks.example.com/${"x".repeat(length)}`),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (callbackURL) => {
        const answer = await get(signedUrl(balancer(), tenants.acme, "hooks/create", { callbackURL }, "sha1"));
        expect(answer.status).toBe(200);
        expect(answer.body).toMatch(/^<response><returncode>(SUCCESS|FAILED)<\/returncode>/);
        const stored = Object.values(await balancer().redis.hgetall(keys.hooks("acme"))).map((json) => (JSON.parse(json) as { callbackURL: string }).callbackURL);
        for (const url of stored) {
          const parsed = new URL(url);
          expect(["http:", "https:"]).toContain(parsed.protocol);
          expect(url.length).toBeLessThanOrEqual(2_048);
          expect(parsed.hostname).not.toMatch(/^(10\.|127\.|169\.254\.|192\.168\.|0\.|\[::1\]|\[fe80|localhost$)/);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("when webhooks are disabled", () => {
  it("answers hooks calls with unsupportedRequest", async () => {
    const plain = await startFleet({ nodeIds: ["n1"] });
    try {
      const xml = await hooksCall(plain.balancers[0]!, tenants.acme, "list");
      expect(field(xml, "messageKey")).toBe("unsupportedRequest");
    } finally {
      await plain.close();
    }
  });
});
