import type { IDeployment } from "kubernetes-models/apps/v1";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { IService } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { describeStackManifests, useStackManifests } from "./support/stackManifests.js";

const local = useStackManifests("local");
describeStackManifests("local", local);

describe("local stack wiring", () => {
  it("serves traefik's default certificate: no Issuer, no Certificate, no certificate store, no TSIG secret", () => {
    const kinds = new Set(local().manifests.map((manifest) => manifest.kind));
    for (const kind of ["Issuer", "Certificate", "TLSStore"]) expect(kinds.has(kind), kind).toBe(false);
    expect(local().manifests.some((manifest) => manifest.kind === "Secret" && manifest.metadata.name === "acme-rfc2136-tsig")).toBe(false);
  });

  it("lets the laptop's load balancer pick the ingress address", () => {
    const service = local().get("Service", "traefik") as unknown as IService;
    expect(service.metadata?.annotations).toBeUndefined();
  });

  it("uses the locally loaded balancer image instead of a registry digest", () => {
    const api = local().get("Deployment", "balancer-api") as unknown as IDeployment;
    expect(api.spec?.template.spec?.containers[0]?.image).toBe("localhost/mediaplane/balancer:0.1.0");
  });

  it("lets traefik watch the API server at a node's address on 6443, outside the laptop's pod ranges", () => {
    const egress = (local().get("NetworkPolicy", "traefik") as unknown as INetworkPolicy).spec?.egress ?? [];
    expect(egress).toContainEqual({
      to: [
        { ipBlock: { cidr: "10.0.0.0/8", except: ["10.244.0.0/16", "10.42.0.0/16"] } },
        { ipBlock: { cidr: "172.16.0.0/12" } },
        { ipBlock: { cidr: "192.168.0.0/16" } },
      ],
      ports: [{ port: 6443, protocol: "TCP" }],
    });
  });
});
