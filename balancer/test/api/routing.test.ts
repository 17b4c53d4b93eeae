import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestHost, requestOrigin, requestProtocol, route, splitRequestTarget, type RequestHeaders } from "../../src/http/route.js";
import { trustedProxies } from "../../src/http/trustedProxies.js";
import { baseDomain, computeSigned, field, get, poolLoads, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

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

describe("requestProtocol and requestOrigin", () => {
  const behindProxy: RequestHeaders = { host: "balancer.internal:8080", forwardedHost: "Acme.bbb.test", forwardedProto: "https", encrypted: false, fromTrustedProxy: true };

  it("take the scheme and host a trusted proxy reports", () => {
    expect(requestProtocol(behindProxy)).toBe("https");
    expect(requestOrigin(behindProxy)).toBe("https://acme.bbb.test");
  });

  it("ignore X-Forwarded-Proto and -Host from a peer that is not a trusted proxy", () => {
    const untrusted = { ...behindProxy, fromTrustedProxy: false };
    expect(requestProtocol(untrusted)).toBe("http");
    expect(requestOrigin(untrusted)).toBe("http://balancer.internal:8080");
  });

  it("use the first proxy's value of a list, and the socket's scheme for anything but http or https", () => {
    expect(requestProtocol({ ...behindProxy, forwardedProto: "https, http" })).toBe("https");
    expect(requestProtocol({ ...behindProxy, forwardedProto: "javascript" })).toBe("http");
    expect(requestProtocol({ ...behindProxy, forwardedProto: "javascript", encrypted: true })).toBe("https");
  });

  it("give no origin for a host that is not a host name", () => {
    expect(requestOrigin({ ...behindProxy, forwardedHost: "evil.test/path?x=" })).toBeUndefined();
    expect(requestOrigin({ ...behindProxy, forwardedHost: undefined, host: undefined })).toBeUndefined();
    expect(requestOrigin({ ...behindProxy, forwardedHost: "[::1]:8443" })).toBe("https://[::1]:8443");
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

describe("the end callback a node gets, behind a proxy", () => {
  const forwarded = { "x-forwarded-host": `acme.${baseDomain}`, "x-forwarded-proto": "https" };
  let trusting: Fleet;
  let distrusting: Fleet;
  beforeAll(async () => {
    trusting = await startFleet({ nodeIds: ["n1"] });
    distrusting = await startFleet({ nodeIds: ["n1"], trustedProxies: ["10.0.0.0/8"] });
  });
  afterAll(async () => {
    await Promise.all([trusting.close(), distrusting.close()]);
  });

  /** The end callback the node got for a create sent through the proxy, without its signed query. */
  const callbackOf = async (fleet: Fleet, meetingId: string): Promise<string> => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "cb", meetingID: meetingId }), { headers: forwarded });
    const url = fleet.simulator.node("n1").meeting(`acme~${meetingId}`)?.metadata.get("endcallbackurl") ?? "";
    return url.split("?")[0] ?? "";
  };

  it("is on the https origin a trusted proxy reports", async () => {
    expect(await callbackOf(trusting, "proxied")).toBe(`https://acme.${baseDomain}/t/_mediaplane/end`);
  });

  it("refuses a create whose host is not a host name, before placing anything", async () => {
    const answer = await get(signedUrl(distrusting.balancers[0]!, tenants.acme, "create", { name: "cb", meetingID: "garbled" }), { headers: { host: "bad host" } });
    expect(answer.status).toBe(200);
    expect(field(answer.body, "messageKey")).toBe("validationError");
    expect(distrusting.simulator.node("n1").meeting("acme~garbled")).toBeUndefined();
    expect(await poolLoads(distrusting.balancers[0]!)).toEqual({ n1: 0 });
  });

  it("stays on the address the peer really used when the peer is not a trusted proxy", async () => {
    expect(await callbackOf(distrusting, "spoofed")).toBe(`${distrusting.balancers[0]!.url}/t/_mediaplane/end`);
  });
});
