import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { IService } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { describeStackManifests, useStackManifests } from "./support/stackManifests.js";

const dev = useStackManifests("dev");
describeStackManifests("dev", dev);

describe("dev stack wiring", () => {
  const envOf = (deployment: string, container: string, name: string) =>
    (dev().get("Deployment", deployment) as unknown as IDeployment).spec?.template.spec?.containers
      .find((entry) => entry.name === container)
      ?.env?.find((variable) => variable.name === name);

  it("pins traefik's LoadBalancer to the ingress static IP with the annotations of the StaticIps component", () => {
    const service = dev().get("Service", "traefik") as unknown as IService;
    expect(service.metadata?.annotations?.["service.beta.kubernetes.io/azure-pip-name"]).toBe("mpdev-ingress");
    expect(service.spec?.externalTrafficPolicy).toBe("Local");
  });

  it("runs Redis in the cluster and hands the balancer its URL through the Secret", () => {
    expect(dev().get("StatefulSet", "redis")).toBeDefined();
    expect(envOf("balancer-api", "balancer", "REDIS_URL")?.valueFrom?.secretKeyRef?.name).toBe("balancer");
  });

  it("trusts forwarded headers only from the cluster's pod range", () => {
    expect(envOf("balancer-api", "balancer", "TRUSTED_PROXIES")?.value).toBe("10.244.0.0/16");
  });

  it("advertises the JVB static IP from bridges behind the pinned JVB LoadBalancer", () => {
    expect(envOf("jitsi-jvb-0", "jvb", "JVB_ADVERTISE_IPS")?.value).toMatch(/address of mpdev-jvb/);
    const bridge = dev().get("Service", "jvb-0") as unknown as IService;
    expect(bridge.metadata?.annotations?.["service.beta.kubernetes.io/azure-pip-name"]).toBe("mpdev-jvb");
  });

  it("records Janus rooms to the recordings claim backed by the Azure file share", () => {
    const janus = dev().get("StatefulSet", "janus") as unknown as IStatefulSet;
    expect(janus.spec?.template.spec?.volumes).toContainEqual({ name: "recordings", persistentVolumeClaim: { claimName: "recordings" } });
  });
});
