import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { publicAddresses } from "./support/egress.js";
import { describe, expect, it } from "vitest";
import { describeStackManifests, useStackManifests } from "./support/stackManifests.js";

const prod = useStackManifests("prod");
describeStackManifests("prod", prod);

describe("prod stack wiring", () => {
  const spec = <T>(kind: string, name: string) => (prod().get(kind, name) as unknown as { spec: T }).spec;

  it("issues one certificate for the API base, every tenant host under it, Jitsi and Janus, served by traefik's store", () => {
    expect(spec<{ dnsNames: string[]; secretName: string }>("Certificate", "ingress")).toMatchObject({
      dnsNames: ["api.mediaplane.example.org", "*.api.mediaplane.example.org", "meet.mediaplane.example.org", "janus.mediaplane.example.org"],
      secretName: "ingress-tls",
    });
    expect(spec<{ certificates: { secretName: string }[] }>("TLSStore", "default").certificates).toEqual([{ secretName: "ingress-tls" }]);
  });

  it("serves TURN over TLS with a certificate the stack issues for the TURN host, mounted by coturn", () => {
    expect(spec<{ dnsNames: string[]; secretName: string }>("Certificate", "turn")).toMatchObject({ dnsNames: ["turn.mediaplane.example.org"], secretName: "turn-tls" });
    const coturn = prod().get("Deployment", "coturn") as unknown as IDeployment;
    expect(coturn.spec?.template.spec?.volumes).toContainEqual({ name: "tls", secret: { secretName: "turn-tls" } });
  });

  it("runs traefik replicated under a disruption budget, its certificates in Secrets rather than on a volume", () => {
    const traefik = prod().get("Deployment", "traefik") as unknown as IDeployment;
    expect(traefik.spec?.replicas).toBeGreaterThan(1);
    expect(traefik.spec?.template.spec?.volumes?.some((volume) => volume.persistentVolumeClaim !== undefined)).toBe(false);
    expect(prod().manifests.some((manifest) => manifest.kind === "PodDisruptionBudget" && manifest.metadata.name.endsWith("ingress-pdb"))).toBe(true);
  });

  const workloadsIn = (namespace: string) =>
    prod()
      .manifests.filter((manifest) => manifest.metadata.namespace === namespace && ["Deployment", "StatefulSet"].includes(manifest.kind))
      .map((manifest) => manifest.metadata.name)
      .sort();
  const enforced = (namespace: string) => prod().get("Namespace", namespace).metadata;

  it("runs Jitsi's web, prosody and jicofo in a baseline namespace, which their root init needs and nothing more", () => {
    expect(workloadsIn("mediaplane-media")).toEqual(["jitsi-jicofo", "jitsi-prosody", "jitsi-web"]);
    expect(enforced("mediaplane-media").labels?.["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(enforced("mediaplane-media").annotations?.["mediaplane/pod-security-exceptions"]).toMatch(/^Jitsi web, prosody, jicofo: start as root/);
  });

  it("runs Janus and the host-port bridges apart in a privileged namespace, which says why", () => {
    expect(workloadsIn("mediaplane-media-host")).toEqual(["janus", "jitsi-jvb-0", "jitsi-jvb-1", "jitsi-jvb-2", "jitsi-jvb-3"]);
    expect(enforced("mediaplane-media-host").labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(enforced("mediaplane-media-host").annotations?.["mediaplane/pod-security-exceptions"]).toMatch(/Janus: hostNetwork.*Jitsi bridges: hostPort 10000\/UDP/);
  });

  it("gives the bridges in the privileged namespace their own XMPP password only, from a Secret beside them", () => {
    const bridgeSecret = prod().get("Secret", "jitsi-bridges");
    expect(bridgeSecret.metadata.namespace).toBe("mediaplane-media-host");
    expect(Object.keys((bridgeSecret["stringData"] ?? {}) as Record<string, string>)).toEqual(["JVB_AUTH_PASSWORD"]);
    expect(prod().get("Secret", "jitsi-internal").metadata.namespace).toBe("mediaplane-media");
    const bridge = prod().get("Deployment", "jitsi-jvb-0") as unknown as IDeployment;
    const env = bridge.spec?.template.spec?.containers.find((container) => container.name === "jvb")?.env ?? [];
    expect(env.flatMap((variable) => variable.valueFrom?.secretKeyRef?.name ?? [])).toEqual(["jitsi-bridges"]);
    expect(env.find((variable) => variable.name === "XMPP_SERVER")?.value).toBe("prosody.mediaplane-media.svc.cluster.local");
  });

  it("admits the bridges of the other namespace to prosody, and lets them reach it", () => {
    const namespaceOf = (peer: { namespaceSelector?: { matchLabels?: Record<string, string> } }) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
    const prosody = prod().get("NetworkPolicy", "jitsi-prosody") as unknown as INetworkPolicy;
    const admitted = (prosody.spec?.ingress ?? []).flatMap((rule) => (rule.from ?? []).map((peer) => `${namespaceOf(peer)}/${peer.podSelector?.matchLabels?.["app.kubernetes.io/component"] ?? "*"}`));
    expect(admitted).toContain("mediaplane-media-host/jvb");
    const jvb = prod().get("NetworkPolicy", "jvb") as unknown as INetworkPolicy;
    expect(jvb.metadata?.namespace).toBe("mediaplane-media-host");
    const reached = (jvb.spec?.egress ?? []).flatMap((rule) => (rule.to ?? []).map((peer) => `${namespaceOf(peer)}/${peer.podSelector?.matchLabels?.["app.kubernetes.io/component"] ?? "*"}`));
    expect(reached).toContain("mediaplane-media/prosody");
  });

  it("deletes a host-bound media workload before creating its replacement, which would need the same host ports", () => {
    // A replacement (a move to the media namespace, a rename) is created first by default, and its pods would wait
    // forever for ports the old ones hold on every media node.
    const { run } = prod();
    expect(run.get("kubernetes:apps/v1:StatefulSet", "mediaplane-janus-statefulset").engine.deleteBeforeReplace).toBe(true);
    for (const bridge of [0, 1, 2, 3]) expect(run.get("kubernetes:apps/v1:Deployment", `mediaplane-jitsi-jvb-${bridge}`).engine.deleteBeforeReplace).toBe(true);
    expect(run.get("kubernetes:apps/v1:Deployment", "mediaplane-jitsi-web").engine.deleteBeforeReplace).toBe(false);
  });

  it("serves both media namespaces' routes: traefik watches each under a Role there and finds the shared middlewares in it", () => {
    const roles = prod().manifests.filter((manifest) => manifest.kind === "Role" && manifest.metadata.name === "traefik");
    expect(roles.map((role) => role.metadata.namespace)).toEqual(["mediaplane", "mediaplane-media", "mediaplane-media-host"]);
    for (const middleware of ["security-headers", "admin-allow-list"]) {
      const declaredIn = prod().manifests.filter((manifest) => manifest.kind === "Middleware" && manifest.metadata.name === middleware);
      expect(declaredIn.map((manifest) => manifest.metadata.namespace), middleware).toEqual(["mediaplane", "mediaplane-media", "mediaplane-media-host"]);
    }
    const routesIn = (namespace: string) =>
      prod()
        .manifests.filter((manifest) => manifest.kind === "IngressRoute" && manifest.metadata.namespace === namespace)
        .map((route) => route.metadata.name)
        .sort();
    expect(routesIn("mediaplane-media")).toEqual(["jitsi-web"]);
    expect(routesIn("mediaplane-media-host")).toEqual(["janus", "jitsi-colibri"]);
  });

  it("lets coturn relay to the bridges where they run", () => {
    const coturn = prod().get("NetworkPolicy", "coturn") as unknown as INetworkPolicy;
    const namespaces = (coturn.spec?.egress ?? []).flatMap((rule) => (rule.to ?? []).flatMap((peer) => peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] ?? []));
    expect(namespaces).toContain("mediaplane-media-host");
    expect(namespaces).not.toContain("mediaplane-media");
  });

  it("uses the managed Redis instead of running one", () => {
    expect(prod().manifests.filter((manifest) => manifest.kind === "StatefulSet" && manifest.metadata.name.startsWith("redis"))).toEqual([]);
  });

  it("runs the configured four bridges on host ports of the media nodes", () => {
    const bridges = prod().manifests.filter((manifest) => manifest.kind === "Deployment" && manifest.metadata.name.startsWith("jitsi-jvb-"));
    expect(bridges).toHaveLength(4);
    const spec = (bridges[0] as unknown as IDeployment).spec?.template.spec;
    expect(spec?.containers[0]?.ports?.[0]?.hostPort).toBe(10000);
    expect(spec?.nodeSelector).toEqual({ "mediaplane.io/pool": "media" });
  });

  it("starts Janus with the media node's public IP as its 1:1 mapping", () => {
    const janus = prod().get("StatefulSet", "janus") as unknown as IStatefulSet;
    expect(janus.spec?.replicas).toBe(3);
    expect(janus.spec?.template.spec?.hostNetwork).toBe(true);
    expect(janus.spec?.template.spec?.containers[0]?.command?.join(" ")).toContain("--nat-1-1=");
  });

  it("sizes the bridges as the stack asks", () => {
    const bridge = prod().get("Deployment", "jitsi-jvb-0") as unknown as IDeployment;
    expect(bridge.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: "4", memory: "4Gi" },
      limits: { cpu: "8", memory: "6Gi" },
    });
  });

  it("lets the balancer reach the managed Redis on its TLS port and its shards' TLS ports outside the cluster, and no Redis pod", () => {
    const egress = (prod().get("NetworkPolicy", "balancer") as unknown as INetworkPolicy).spec?.egress ?? [];
    expect(egress).toContainEqual({
      to: [publicAddresses],
      ports: [
        { port: 6380, protocol: "TCP" },
        { port: 15000, endPort: 15999, protocol: "TCP" },
      ],
    });
    expect(JSON.stringify(egress)).not.toContain("balancer-store");
  });
});
