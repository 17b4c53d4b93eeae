import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestHost, route, splitRequestTarget } from "../../src/http/route.js";
import { trustedProxies } from "../../src/http/trustedProxies.js";
import { baseDomain, computeSigned, field, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

describe("route", () => {
  it("reads the tenant from the host name", () => {
    expect(route("acme.bbb.test", "/bigbluebutton/api/create", "bbb.test")).toEqual({ kind: "api", tenant: "acme", call: "create" });
  });

  it("reads the tenant from the path on any host", () => {
    expect(route("127.0.0.1", "/t/acme/bigbluebutton/api/join", "bbb.test")).toEqual({ kind: "api", tenant: "acme", call: "join" });
  });

  it("answers the version document at the API root, with or without a trailing slash", () => {
    expect(route("acme.bbb.test", "/bigbluebutton/api", "bbb.test")).toEqual({ kind: "version", tenant: "acme" });
    expect(route("acme.bbb.test", "/bigbluebutton/api/", "bbb.test")).toEqual({ kind: "version", tenant: "acme" });
  });

  it("keeps a slash in the call name (hooks/create)", () => {
    expect(route("acme.bbb.test", "/bigbluebutton/api/hooks/create", "bbb.test")).toEqual({ kind: "api", tenant: "acme", call: "hooks/create" });
  });

  it("finds nothing outside the API or on a foreign or nested host", () => {
    expect(route("acme.bbb.test", "/admin", "bbb.test").kind).toBe("notFound");
    expect(route("acme.other.test", "/bigbluebutton/api/create", "bbb.test").kind).toBe("notFound");
    expect(route("a.b.bbb.test", "/bigbluebutton/api/create", "bbb.test").kind).toBe("notFound");
  });
});

describe("splitRequestTarget", () => {
  it("keeps the query raw, as the client encoded it", () => {
    expect(splitRequestTarget("/bigbluebutton/api/join?fullName=A%20B+C&checksum=ab")).toEqual({ path: "/bigbluebutton/api/join", rawQuery: "fullName=A%20B+C&checksum=ab" });
  });

  it("gives an empty query when there is none", () => {
    expect(splitRequestTarget("/bigbluebutton/api")).toEqual({ path: "/bigbluebutton/api", rawQuery: "" });
  });

  it("takes the path of an absolute-form target, as a proxy may send it", () => {
    expect(splitRequestTarget("http://acme.bbb.example.org/bigbluebutton/api/create?name=x")).toEqual({ path: "/bigbluebutton/api/create", rawQuery: "name=x" });
    expect(splitRequestTarget("http://acme.bbb.example.org")).toEqual({ path: "/", rawQuery: "" });
  });
});

describe("requestHost", () => {
  it("ignores X-Forwarded-Host from a peer that is not a trusted proxy", () => {
    expect(requestHost("acme.bbb.test", "globex.bbb.test", false)).toBe("acme.bbb.test");
  });

  it("uses the first X-Forwarded-Host from a trusted proxy, without its port", () => {
    expect(requestHost("internal:8080", "Globex.bbb.test:443, other", true)).toBe("globex.bbb.test");
  });
});

describe("trustedProxies", () => {
  it("trusts addresses and CIDRs, including IPv4-mapped IPv6 peers", () => {
    const proxies = trustedProxies(["10.0.0.0/8", "192.168.1.7", "fd00::/8"]);
    expect(proxies.trusts("10.1.2.3")).toBe(true);
    expect(proxies.trusts("::ffff:10.1.2.3")).toBe(true);
    expect(proxies.trusts("192.168.1.7")).toBe(true);
    expect(proxies.trusts("fd00::1")).toBe(true);
    expect(proxies.trusts("192.168.1.8")).toBe(false);
    expect(proxies.trusts(undefined)).toBe(false);
  });

  it("refuses an entry that is not an address with a message naming the variable", () => {
    expect(() => trustedProxies(["10.0.0.0/40"])).toThrow(/TRUSTED_PROXIES/);
    expect(() => trustedProxies(["proxy.local"])).toThrow(/TRUSTED_PROXIES/);
  });
});

describe("host-based requests over HTTP", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ nodeIds: ["n1"] });
  });
  afterAll(async () => {
    await fleet.close();
  });

  it("serves the tenant named by the Host header", async () => {
    const answer = await get(`${fleet.balancers[0]!.url}/bigbluebutton/api/isMeetingRunning?${computeSigned(tenants.acme, "isMeetingRunning", "meetingID=abc")}`, {
      headers: { host: `acme.${baseDomain}` },
    });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("serves the tenant named by X-Forwarded-Host from a trusted proxy", async () => {
    const answer = await get(`${fleet.balancers[0]!.url}/bigbluebutton/api/isMeetingRunning?${computeSigned(tenants.globex, "isMeetingRunning", "meetingID=abc")}`, {
      headers: { host: "balancer.internal", "x-forwarded-host": `globex.${baseDomain}`, "x-forwarded-proto": "https" },
    });
    expect(field(answer.body, "returncode")).toBe("SUCCESS");
  });

  it("answers 404 for a path outside the API", async () => {
    expect((await get(`${fleet.balancers[0]!.url}/favicon.ico`)).status).toBe(404);
  });

  it("offers no admin function, probe or metrics on the tenant API", async () => {
    for (const path of ["/metrics", "/admin/nodes", "/healthz", "/t/acme/admin/nodes", "/t/acme/bigbluebutton/admin"]) {
      expect((await get(`${fleet.balancers[0]!.url}${path}`)).status).toBe(404);
    }
  });
});

describe("the end callback a node gets", () => {
  const forged = { host: "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http" };
  let configured: Fleet;
  let unconfigured: Fleet;
  beforeAll(async () => {
    configured = await startFleet({ nodeIds: ["n1"], publicUrl: "https://lb.example.org" });
    unconfigured = await startFleet({ nodeIds: ["n1"] });
  });
  afterAll(async () => {
    await Promise.all([configured.close(), unconfigured.close()]);
  });

  /** The end callback the node got for a create sent with `headers`, without its signed query. */
  const callbackOf = async (fleet: Fleet, meetingId: string, headers: Record<string, string>): Promise<string> => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "cb", meetingID: meetingId }), { headers });
    const url = fleet.simulator.node("n1").meeting(`acme~${meetingId}`)?.metadata.get("endcallbackurl") ?? "";
    return url.split("?")[0] ?? "";
  };

  it("is on PUBLIC_URL whatever Host and X-Forwarded-* a trusted proxy passes on", async () => {
    expect(await callbackOf(configured, "proxied", forged)).toBe("https://lb.example.org/t/_mediaplane/end");
  });

  it("is on https://<BASE_DOMAIN> without PUBLIC_URL, never on a forged Host", async () => {
    expect(await callbackOf(unconfigured, "forged", forged)).toBe(`https://${baseDomain}/t/_mediaplane/end`);
    expect(await callbackOf(unconfigured, "garbled", { host: "bad host" })).toBe(`https://${baseDomain}/t/_mediaplane/end`);
  });
});
