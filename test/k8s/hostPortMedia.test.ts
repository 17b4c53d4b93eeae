import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { IContainer } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { declareWithMocks, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { testIngressBinding } from "./support/fixtures.js";

// The other exposure modes: bridges on host ports of the media nodes, Janus on a laptop cluster without a mapping.
let declared: DeclaredResource[];

beforeAll(async () => {
  ({ declared } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { JitsiMeet } = await import("../../components/k8s/JitsiMeet.js");
    const { Janus } = await import("../../components/k8s/Janus.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    new JitsiMeet("jitsi", {
      provider,
      namespace: "media",
      host: "meet.example.org",
      ingress: testIngressBinding(),
      webReplicas: 1,
      udpPort: 10000,
      jvb: { kind: "hostPort", replicas: 3 },
      relays: false,
      placement: { nodeSelector: { "mediaplane.io/pool": "media" }, tolerations: [] },
      authentication: { type: "none" },
      embeddingOrigins: [],
      turn: { host: "turn.example.org", staticAuthSecret: "s".repeat(32), tls: false, pods: undefined, credentialTtlSeconds: 3600 },
      podCidrs: ["10.42.0.0/16"],
    });
    new Janus("janus", {
      provider,
      namespace: "media",
      image: "mediaplane/janus:1.3.3",
      host: "janus.localhost",
      ingress: testIngressBinding(),
      replicas: 1,
      rtpPorts: { min: 20000, max: 20099 },
      publicAddress: { kind: "podAddress" },
      recordings: { kind: "persistentVolumeClaim", claimName: "recordings" },
      placement: undefined,
      podCidrs: ["10.42.0.0/16"],
    });
    return {};
  }));
});

const bridge = (index: number) => objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", `jitsi-jvb-${index}`);
const bridgeContainer = (index: number): IContainer => bridge(index).spec?.template.spec?.containers[0] as IContainer;

describe("JitsiMeet with host-port bridges", () => {
  it("runs the configured number of bridges on the same UDP host port, which admits one per node", () => {
    for (const index of [0, 1, 2]) {
      expect(bridge(index).spec?.replicas).toBe(1);
      expect(bridgeContainer(index).ports?.[0]).toEqual({ name: "media", containerPort: 10000, protocol: "UDP", hostPort: 10000 });
    }
  });

  it("keeps each conference on one bridge when relays are turned off", () => {
    const jicofo = objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", "jitsi-jicofo").spec?.template.spec?.containers[0];
    for (const container of [jicofo, bridgeContainer(0)]) expect(container?.env?.some((variable) => variable.name === "ENABLE_OCTO")).toBe(false);
  });

  it("replaces a bridge before starting its successor, since both would need the same host port", () => {
    expect(bridge(0).spec?.strategy).toEqual({ type: "Recreate" });
  });

  it("advertises each node's public IP from the instance metadata, never an address learnt through STUN", () => {
    const names = bridgeContainer(0).env?.map((variable) => variable.name);
    expect(names).not.toContain("JVB_ADVERTISE_IPS");
    expect(names).not.toContain("JVB_STUN_SERVERS");
    expect(bridgeContainer(0).env).toContainEqual({ name: "JVB_DISABLE_STUN", value: "true" });
    expect(bridge(0).spec?.template.spec?.initContainers?.[0]?.name).toBe("public-address");
    expect(bridgeContainer(0).command?.join(" ")).toContain('JVB_ADVERTISE_IPS="$(cat /run/public-address/ip)"');
  });

  it("declares no LoadBalancer for media", () => {
    const loadBalancers = declared.filter(
      (resource) => resource.type === "kubernetes:core/v1:Service" && (resource.inputs["spec"] as { type?: string }).type === "LoadBalancer",
    );
    expect(loadBalancers).toEqual([]);
  });
});

describe("Janus on a laptop cluster", () => {
  const janus = () => objectOf<IStatefulSet>(declared, "kubernetes:apps/v1:StatefulSet", "janus").spec?.template.spec;

  it("starts without address discovery or a 1:1 mapping", () => {
    expect(janus()?.initContainers).toEqual([]);
    expect(janus()?.containers[0]?.command).toEqual(["janus", "--configs-folder=/etc/janus"]);
    const files = findObject(declared, "kubernetes:core/v1:Secret", "janus-config").inputs["stringData"] as Record<string, string>;
    expect(files["janus.jcfg"]).not.toContain("nat_1_1_mapping");
    expect(files["janus.jcfg"]).not.toContain("stun_server");
  });

  it("records to the given claim", () => {
    expect(janus()?.volumes).toContainEqual({ name: "recordings", persistentVolumeClaim: { claimName: "recordings" } });
  });

  it("declares no disruption budget for a single instance", () => {
    expect(declared.filter((resource) => resource.type === "kubernetes:policy/v1:PodDisruptionBudget")).toEqual([]);
  });
});
