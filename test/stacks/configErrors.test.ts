import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, parseStackConfig } from "../../config/index.js";
import { stackSettings } from "../../scripts/stackFile.js";
import { configErrorOf as errorOf, devWith } from "./support/configError.js";

describe("stack config errors name the key and what it allows", () => {
  it("accepts every committed stack file", () => {
    for (const stack of ["dev", "prod", "local"]) {
      expect(() => parseStackConfig(stackSettings(stack), "mediaplane")).not.toThrow();
    }
  });

  it("rejects a tenant slug that is not a DNS label", () => {
    expect(errorOf(devWith({ tenants: [{ slug: "demo" }, { slug: "school" }, { slug: "Big School" }] }))).toBe(
      "mediaplane:tenants[2].slug: must be 1..32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
    );
  });

  it("rejects a duplicate tenant, found by the balancer's own checks", () => {
    expect(errorOf(devWith({ tenants: [{ slug: "demo" }, { slug: "demo" }] }))).toBe(
      'mediaplane:tenants[1].slug: duplicate tenant "demo"',
    );
  });

  it("rejects a tenant on a cluster the stack does not define", () => {
    expect(errorOf(devWith({ tenants: [{ slug: "demo", clusters: ["large"] }] }))).toBe(
      'mediaplane:tenants[0].clusters[0]: unknown cluster "large" (clusters: default)',
    );
  });

  it("rejects a BBB node on an unknown cluster under the bbb key", () => {
    const bbb = { nodes: [{ id: "bbb-1", url: "https://bbb-1.example.org/bigbluebutton/api/", cluster: "eu" }] };
    expect(errorOf(devWith({ bbb }))).toBe('mediaplane:bbb.nodes[0].cluster: unknown cluster "eu" (clusters: default)');
  });

  it("refuses a TSIG algorithm cert-manager's RFC2136 solver cannot sign with", () => {
    const acme = { email: "ops@example.org", nameserver: "ns1.example.org:53", tsigKeyName: "k", tsigAlgorithm: "hmac-sha384." };
    expect(errorOf(devWith({ acme }))).toBe('mediaplane:acme.tsigAlgorithm: Invalid option: expected one of "hmac-sha256."|"hmac-sha512."');
  });

  it("refuses TURN over TLS on a stack that issues no certificates", () => {
    expect(errorOf(devWith({ acme: undefined, turn: { enabled: true, tls: true } }))).toBe(
      "mediaplane:turn.tls: needs acme: the TURN host's certificate is issued by DNS-01",
    );
  });

  it("says a required key is missing", () => {
    expect(errorOf(devWith({ domains: undefined }))).toBe("mediaplane:domains: is required (object)");
  });

  it("rejects a floating image tag, naming the image key", () => {
    expect(errorOf(devWith({ images: { redis: "redis:latest" } }))).toBe(
      'mediaplane:images.redis: "redis:latest" is not pinned: its tag "latest" moves; use a release tag or a digest (never latest/stable)',
    );
  });

  it("rejects an image without a tag, naming the image key", () => {
    expect(errorOf(devWith({ images: { janus: "registry.example.org:5000/janus" } }))).toBe(
      'mediaplane:images.janus: "registry.example.org:5000/janus" is not pinned: it has no tag; use a release tag or a digest',
    );
  });

  it("rejects autoscaler bounds the wrong way round", () => {
    const cluster = { ...(devWith({})["cluster"] as object), systemPool: { vmSize: "Standard_D4ds_v5", minCount: 4, maxCount: 2 } };
    expect(errorOf(devWith({ cluster }))).toBe("mediaplane:cluster.systemPool: minCount must not exceed maxCount");
  });

  it("lists the allowed values of an enumeration", () => {
    const cluster = { ...(devWith({})["cluster"] as object), networkPolicy: "weave" };
    expect(errorOf(devWith({ cluster }))).toBe(
      'mediaplane:cluster.networkPolicy: Invalid option: expected one of "calico"|"azure"|"cilium"',
    );
  });

  it("rejects a container size that is not a Kubernetes quantity", () => {
    const sizing = { cpuRequest: "lots", memoryRequest: "1Gi", cpuLimit: "2", memoryLimit: "2Gi" };
    expect(errorOf(devWith({ janus: { enabled: true, sizing } }))).toBe(
      'mediaplane:janus.sizing.cpuRequest: must be a CPU quantity such as "500m" or "2"',
    );
  });

  it("rejects a misspelt key instead of ignoring it", () => {
    expect(errorOf(devWith({ jitsi: { enable: true } }))).toBe('mediaplane:jitsi: Unrecognized key: "enable"');
  });

  it("refuses a managed Redis family that does not match its sku", () => {
    expect(errorOf(devWith({ redis: { mode: "managed", sku: "Premium", family: "C" } }))).toBe('mediaplane:redis.family: must be "P" for sku "Premium"');
  });

  it("refuses shards on a managed Redis that is not Premium", () => {
    expect(errorOf(devWith({ redis: { mode: "managed", sku: "Standard", shardCount: 2 } }))).toBe(
      'mediaplane:redis.shardCount: needs sku "Premium" (only Premium caches are clustered)',
    );
  });

  it("refuses managed Redis on a cluster that is not on Azure", () => {
    const cluster = { provider: "kubeContext", imageImport: { tool: "kind", clusterName: "mediaplane" } };
    expect(errorOf(devWith({ cluster, redis: { mode: "managed" } }))).toBe(
      'mediaplane:redis.mode: managed Redis needs cluster.provider "azure"; use "inCluster"',
    );
  });
});

describe("stack config of the cluster", () => {
  it("asks a laptop cluster where to import the images the stack builds", () => {
    expect(errorOf(devWith({ cluster: { provider: "kubeContext" } }))).toBe(
      "mediaplane:cluster.imageImport: is required to import the images the stack builds into the cluster, e.g. { tool: kind, clusterName: mediaplane } (or pin images.balancer and images.janus)",
    );
  });

  it("needs no image import on a laptop cluster whose own images are all pinned", () => {
    const images = { balancer: "registry.example.org/mediaplane/balancer:0.1.0", janus: "registry.example.org/mediaplane/janus:1.3.3" };
    expect(() => parseStackConfig(devWith({ cluster: { provider: "kubeContext" }, images }), "mediaplane")).not.toThrow();
  });

  it("refuses an AKS cluster whose API server would be open to every address", () => {
    const cluster = { ...(devWith({})["cluster"] as object), apiServerAuthorizedIpRanges: [] };
    expect(errorOf(devWith({ cluster }))).toBe(
      "mediaplane:cluster.apiServerAuthorizedIpRanges: must list where pulumi up and operators run (the API server and registry accept nobody else)",
    );
  });

  it("needs an owner for the Azure resources' tags", () => {
    const { owner: _owner, ...cluster } = devWith({})["cluster"] as Record<string, unknown>;
    expect(errorOf(devWith({ cluster }))).toBe("mediaplane:cluster.owner: is required (string)");
  });
});

describe("a stack config with several problems", () => {
  it("lists every problem, one line each with its key, not only the first", () => {
    const cluster = { ...(devWith({})["cluster"] as object), networkPolicy: "weave" };
    const lines = errorOf(devWith({ cluster, tenants: [{ slug: "Big School" }], images: { redis: "redis:latest" } })).split("\n");
    expect(lines).toEqual([
      'mediaplane:cluster.networkPolicy: Invalid option: expected one of "calico"|"azure"|"cilium"',
      "mediaplane:tenants[0].slug: must be 1..32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
      'mediaplane:images.redis: "redis:latest" is not pinned: its tag "latest" moves; use a release tag or a digest (never latest/stable)',
    ]);
  });

  it("reports an unknown key, an unreadable key and every missing secret together", () => {
    const config = Object.fromEntries(
      Object.entries(devWith({ tenants: undefined })).map(([key, value]) => [`mediaplane:${key}`, JSON.stringify(value)]),
    );
    pulumi.runtime.setAllConfig({ ...config, "mediaplane:tenants": "demo", "mediaplane:tenant": "[]" }, []);
    expect(() => loadStackConfig(new pulumi.Config("mediaplane"))).toThrow(
      /^mediaplane:tenant: unknown key .*\nmediaplane:tenants: must be a YAML object or list, not a plain string\nmediaplane:tenants: is required \(array\)$/,
    );
  });

  it("names every missing secret of otherwise valid settings", () => {
    const config = Object.fromEntries(Object.entries(devWith({})).map(([key, value]) => [`mediaplane:${key}`, JSON.stringify(value)]));
    pulumi.runtime.setAllConfig(config, []);
    expect(() => loadStackConfig(new pulumi.Config("mediaplane"))).toThrow(
      /^mediaplane:acmeTsigSecret: is required .*\nmediaplane:bbbNodeSecrets: no API secret for BBB node bbb-dev-1 /,
    );
  });
});

describe("stack secrets", () => {
  it("rejects a misspelt top-level key", () => {
    pulumi.runtime.setAllConfig({ "mediaplane:tenant": "[]" }, []);
    expect(() => loadStackConfig(new pulumi.Config("mediaplane"))).toThrow(/^mediaplane:tenant: unknown key \(keys: cluster, domains, /);
  });

  it("says so when a structured key holds a plain string", () => {
    pulumi.runtime.setAllConfig({ "mediaplane:tenants": "demo" }, []);
    expect(() => loadStackConfig(new pulumi.Config("mediaplane"))).toThrow(
      "mediaplane:tenants: must be a YAML object or list, not a plain string",
    );
  });
});
