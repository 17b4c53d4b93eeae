import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { deniedPeerRanges, renderTurnServerConfig } from "../../components/k8s/render/coturn.js";
import { renderJanusConfig, renderJcfg } from "../../components/k8s/render/janus.js";
import { testJanusConfigArgs } from "./support/fixtures.js";
import { renderRedisConfig } from "../../components/k8s/render/redis.js";
import {
  renderTraefikDynamicConfig,
  renderTraefikStaticConfig,
  tenantHostRegexp,
  type TraefikStaticConfigArgs,
} from "../../components/k8s/render/traefik.js";

const staticArgs: TraefikStaticConfigArgs = {
  logLevel: "INFO",
  shutdownGraceSeconds: 20,
  watchedNamespaces: ["mediaplane"],
};

describe("traefik static config", () => {
  const config = parse(renderTraefikStaticConfig(staticArgs));

  it("redirects HTTP to HTTPS permanently", () => {
    expect(config.entryPoints.web.http.redirections.entryPoint).toEqual({ to: "websecure", scheme: "https", permanent: true });
  });

  it("orders no certificate itself: no resolver, TLS on the secure entry point from the certificate store", () => {
    expect(config.certificatesResolvers).toBeUndefined();
    expect(config.entryPoints.websecure.http.tls).toEqual({});
  });

  it("watches only the namespaces it serves, and nothing cluster-scoped, so namespaced Roles suffice", () => {
    // traefik v3.7 pkg/provider/kubernetes/crd/client.go: with `namespaces` set, every informer (routes, Services,
    // EndpointSlices, ConfigMaps, Secrets) is namespaced; the one cluster-wide informer (Nodes) exists unless
    // `disableClusterScopeResources` (pkg/provider/kubernetes/crd/kubernetes.go) is set.
    expect(config.providers.kubernetesCRD).toMatchObject({ namespaces: ["mediaplane"], disableClusterScopeResources: true, allowCrossNamespace: false });
    expect(Object.keys(config.providers)).toEqual(["kubernetesCRD"]);
  });

  it("exposes Prometheus metrics on their own entry point", () => {
    expect(config.metrics.prometheus.entryPoint).toBe("metrics");
    expect(config.entryPoints.metrics.address).toBe(":9100");
  });

  it("logs only errors, retries and slow requests", () => {
    expect(config.accessLog.filters).toEqual({ statusCodes: ["400-599"], retryAttempts: true, minDuration: "500ms" });
  });
});

describe("traefik dynamic config", () => {
  const render = (adminSourceRanges: string[]) =>
    parse(
      renderTraefikDynamicConfig({
        securityHeadersMiddleware: "headers",
        adminAllowListMiddleware: "admins",
        adminSourceRanges,
        tlsOptionName: "default",
      }),
    );

  it("sends HSTS for a year including subdomains, denies framing and sniffing, and asks robots not to index", () => {
    expect(render(["10.0.0.0/8"]).http.middlewares.headers.headers).toMatchObject({
      stsSeconds: 31_536_000,
      stsIncludeSubdomains: true,
      frameDeny: true,
      contentTypeNosniff: true,
      customResponseHeaders: { "X-Robots-Tag": expect.stringContaining("noindex") },
    });
  });

  it("admits only loopback when no operator network is configured", () => {
    expect(render([]).http.middlewares.admins.ipAllowList.sourceRange).toEqual(["127.0.0.1/32"]);
  });

  it("requires TLS 1.2 with strict SNI", () => {
    expect(render(["10.0.0.0/8"]).tls.options.default).toMatchObject({ minVersion: "VersionTLS12", sniStrict: true });
  });
});

describe("tenant host regexp", () => {
  const matches = (host: string) => new RegExp(tenantHostRegexp("api.example.org")).test(host);

  it("matches one label in front of the base domain", () => {
    expect(matches("acme-corp.api.example.org")).toBe(true);
  });

  it("does not match the base domain itself, deeper names or look-alike domains", () => {
    expect(matches("api.example.org")).toBe(false);
    expect(matches("a.b.api.example.org")).toBe(false);
    expect(matches("acme.apixexample.org")).toBe(false);
    expect(matches("acme.api.example.org.evil.net")).toBe(false);
  });

  it("uses the plain regex form of traefik v3, not the v2 {name:regex} form", () => {
    expect(tenantHostRegexp("api.example.org")).not.toMatch(/\{\w+:/);
  });
});

describe("redis config", () => {
  const config = renderRedisConfig({ maxMemoryMb: 256, dataDir: "/data", appendFsync: "everysec", passwordFile: "/etc/redis-auth/requirepass.conf" });

  it("refuses writes when full instead of evicting meeting mappings", () => {
    expect(config).toContain("maxmemory 256mb\n");
    expect(config).toContain("maxmemory-policy noeviction\n");
  });

  it("persists every write to an append-only file in the data directory", () => {
    expect(config).toContain("appendonly yes\n");
    expect(config).toContain("dir /data\n");
  });

  it("keeps the password out of the file and reads it from the Secret file it includes last", () => {
    expect(config).not.toMatch(/^requirepass/m);
    expect(config.trimEnd().split("\n").at(-1)).toBe("include /etc/redis-auth/requirepass.conf");
  });

  it("rejects a memory ceiling too small to be meant", () => {
    expect(() => renderRedisConfig({ maxMemoryMb: 4, dataDir: "/data", appendFsync: "everysec", passwordFile: "/auth.conf" })).toThrow(/maxMemoryMb/);
  });
});

describe("turnserver.conf", () => {
  const args = {
    realm: "turn.example.org",
    externalIp: "198.51.100.7",
    staticAuthSecret: "s".repeat(32),
    relayPorts: { min: 49152, max: 49407 },
    tls: { certFile: "/tls/tls.crt", keyFile: "/tls/tls.key" },
    tcpRelay: false,
  };

  it("uses TURN REST credentials from the static auth secret", () => {
    const config = renderTurnServerConfig(args);
    expect(config).toContain("use-auth-secret\n");
    expect(config).toContain(`static-auth-secret=${"s".repeat(32)}\n`);
  });

  it("advertises the static IP and relays on the fixed range", () => {
    const config = renderTurnServerConfig(args);
    expect(config).toContain("external-ip=198.51.100.7\n");
    expect(config).toContain("min-port=49152\nmax-port=49407\n");
  });

  it("refuses to relay into private networks or the metadata service", () => {
    const config = renderTurnServerConfig(args);
    expect(config).toContain("denied-peer-ip=10.0.0.0-10.255.255.255\n");
    expect(config).toContain("denied-peer-ip=169.254.0.0-169.254.255.255\n");
  });

  it("refuses TCP relays unless the stack opts in", () => {
    expect(renderTurnServerConfig(args).split("\n")).toContain("no-tcp-relay");
    expect(renderTurnServerConfig({ ...args, tcpRelay: true }).split("\n")).not.toContain("no-tcp-relay");
  });

  it("denies every non-public range, IPv4-mapped, unique-local and link-local IPv6 included", () => {
    const denied = renderTurnServerConfig(args)
      .split("\n")
      .filter((line) => line.startsWith("denied-peer-ip="));
    for (const range of [
      "0.0.0.0-0.255.255.255",
      "100.64.0.0-100.127.255.255",
      "192.0.0.0-192.0.0.255",
      "192.0.2.0-192.0.2.255",
      "198.18.0.0-198.19.255.255",
      "198.51.100.0-198.51.100.255",
      "203.0.113.0-203.0.113.255",
      "224.0.0.0-239.255.255.255",
      "240.0.0.0-255.255.255.255",
      "0:0:0:0:0:ffff:0:0-0:0:0:0:0:ffff:ffff:ffff",
      "fc00:0:0:0:0:0:0:0-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
      "fe80:0:0:0:0:0:0:0-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ]) {
      expect(denied).toContain(`denied-peer-ip=${range}`);
    }
    expect(denied).toHaveLength(deniedPeerRanges.length);
  });

  it("turns TLS off when no certificate is given", () => {
    const config = renderTurnServerConfig({ ...args, tls: undefined });
    expect(config).toContain("no-tls\n");
    expect(config).not.toContain("cert=");
  });

  it("rejects an inverted relay range and a short secret", () => {
    expect(() => renderTurnServerConfig({ ...args, relayPorts: { min: 50000, max: 40000 } })).toThrow(/relayPorts/);
    expect(() => renderTurnServerConfig({ ...args, staticAuthSecret: "short" })).toThrow(/staticAuthSecret/);
  });
});

describe("janus configs", () => {
  const args = testJanusConfigArgs({ serverName: "janus.example.org", rtpPorts: { min: 20000, max: 20999 } });
  const files = renderJanusConfig(args);

  it("fixes the RTP range and maps host candidates to the public IP with full trickle", () => {
    expect(files["janus.jcfg"]).toContain('rtp_port_range = "20000-20999"');
    expect(files["janus.jcfg"]).toContain('nat_1_1_mapping = "198.51.100.9"');
    expect(files["janus.jcfg"]).toContain("full_trickle = true");
    expect(files["janus.jcfg"]).toContain("ice_lite = false");
  });

  it("leaves the mapping out when the address is passed at start", () => {
    expect(renderJanusConfig({ ...args, nat1to1Mapping: undefined })["janus.jcfg"]).not.toContain("nat_1_1_mapping");
  });

  it("turns token auth on and protects the admin API with a secret bound to loopback", () => {
    expect(files["janus.jcfg"]).toContain("token_auth = true");
    expect(files["janus.jcfg"]).toContain(`admin_secret = "${"a".repeat(24)}"`);
    expect(files["janus.transport.http.jcfg"]).toContain('admin_ip = "127.0.0.1"');
    expect(files["janus.transport.websockets.jcfg"]).toContain("admin_ws = false");
  });

  it("records video rooms to the recordings mount", () => {
    expect(files["janus.plugin.videoroom.jcfg"]).toMatch(/room-1234: \{[^}]*record = true[^}]*rec_dir = "\/recordings"/);
  });

  it("writes lists as libconfig arrays", () => {
    expect(renderJcfg({ general: { folders: ["/etc", "/usr"] } })).toBe('general: {\n\tfolders = [ "/etc", "/usr" ]\n}\n');
  });

  it("escapes quotes and backslashes in strings", () => {
    expect(renderJcfg({ general: { name: 'a "b" \\c' } })).toBe('general: {\n\tname = "a \\"b\\" \\\\c"\n}\n');
  });

  it("rejects short secrets", () => {
    expect(() => renderJanusConfig({ ...args, tokenAuthSecret: "x" })).toThrow(/tokenAuthSecret/);
  });
});
