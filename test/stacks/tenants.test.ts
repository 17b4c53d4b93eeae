import { describe, expect, it } from "vitest";
import { renderBalancerConfigFile, parseBalancerConfigText } from "@mediaplane/balancer/config";
import { buildBalancerConfig, parseStackConfig } from "../../config/index.js";
import { tenantApiUrls, tenantSecretNumbers } from "../../components/Tenants.js";

describe("tenant secret rollover", () => {
  it("adds a second secret and keeps the first when secretCount goes to 2", () => {
    expect(tenantSecretNumbers({ firstSecret: 1, secretCount: 1 })).toEqual([1]);
    expect(tenantSecretNumbers({ firstSecret: 1, secretCount: 2 })).toEqual([1, 2]);
  });

  it("retires the oldest secret and keeps the newer one when firstSecret moves up", () => {
    expect(tenantSecretNumbers({ firstSecret: 2, secretCount: 1 })).toEqual([2]);
  });
});

describe("tenant API URLs", () => {
  it("gives each tenant a host-based and a path-based BBB API URL", () => {
    expect(tenantApiUrls("school", "api.example.org")).toEqual({
      hostBasedUrl: "https://school.api.example.org/bigbluebutton/api/",
      pathBasedUrl: "https://api.example.org/t/school/bigbluebutton/api/",
    });
  });
});

describe("the balancer config rendered from stack settings", () => {
  const settings = parseStackConfig(
    {
      cluster: { provider: "kubeContext", imageImport: { tool: "k3d", clusterName: "mediaplane" } },
      domains: { apiBase: "api.example.org", jitsi: "meet.example.org", janus: "janus.example.org", turn: "turn.example.org" },
      tenants: [{ slug: "school", secretCount: 2, limits: { maxMeetings: 5 } }],
      bbb: { nodes: [{ id: "bbb-1", url: "https://bbb-1.example.org/bigbluebutton/api" }] },
    },
    "mediaplane",
  );

  it("is a file the balancer loads, with tenants' secrets, limits and the nodes' secrets", () => {
    const file = renderBalancerConfigFile(
      buildBalancerConfig(settings, {
        tenantSecrets: { school: ["first-secret-0123456789", "second-secret-0123456789"] },
        nodeSecrets: { "bbb-1": "node-secret-0123456789" },
      }),
    );
    const loaded = parseBalancerConfigText(file);
    expect(loaded.tenants[0]).toMatchObject({
      slug: "school",
      secrets: [{ secret: "first-secret-0123456789" }, { secret: "second-secret-0123456789" }],
      limits: { maxMeetings: 5 },
    });
    expect(loaded.nodes[0]).toMatchObject({ id: "bbb-1", secret: "node-secret-0123456789", url: "https://bbb-1.example.org/bigbluebutton/api/" });
  });

  it("refuses to render a node secret too short to be one", () => {
    expect(() =>
      renderBalancerConfigFile(
        buildBalancerConfig(settings, { tenantSecrets: { school: ["first-secret-0123456789"] }, nodeSecrets: { "bbb-1": "short" } }),
      ),
    ).toThrow("rendered balancer config: nodes[0].secret: must be at least 16 characters");
  });
});

describe("webhooks in the stack settings", () => {
  const stack = (webhooks: unknown): Record<string, unknown> => ({
    cluster: { provider: "kubeContext", imageImport: { tool: "k3d", clusterName: "mediaplane" } },
    domains: { apiBase: "api.example.org", jitsi: "meet.example.org", janus: "janus.example.org", turn: "turn.example.org" },
    tenants: [{ slug: "school" }],
    bbb: { nodes: [{ id: "bbb-1", url: "https://bbb-1.example.org/bigbluebutton/api" }], webhooks },
  });

  it("reach the balancer's config file as bbb.webhooks says", () => {
    const settings = parseStackConfig(stack({ enabled: true, allowedCallbackNetworks: ["10.20.0.0/16"] }), "mediaplane");
    const file = renderBalancerConfigFile(buildBalancerConfig(settings, { tenantSecrets: { school: ["first-secret-0123456789"] }, nodeSecrets: { "bbb-1": "node-secret-0123456789" } }));
    expect(parseBalancerConfigText(file).webhooks).toMatchObject({ enabled: true, allowedCallbackNetworks: ["10.20.0.0/16"], checksumAlgorithm: "sha1" });
  });

  it("refuses a callback network that is not one, naming the stack key", () => {
    expect(() => parseStackConfig(stack({ enabled: true, allowedCallbackNetworks: ["10.20.0.0"] }), "mediaplane")).toThrow(/bbb\.webhooks\.allowedCallbackNetworks\[0\]/);
  });
});
