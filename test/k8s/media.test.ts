import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { IContainer, IService } from "kubernetes-models/v1";
import type { IIngressRoute } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { beforeAll, describe, expect, it } from "vitest";
import { declareWithMocks, workloadContainer, envVar, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { testCoturnArgs, testIngressBinding, testPublicIp } from "./support/fixtures.js";
import { janusRecordingsFolder } from "../../components/k8s/recordings.js";
import { clusterDnsRule, egressOf, networkPolicy, podPeersOf, podsIn, publicAddresses } from "./support/egress.js";

let declared: DeclaredResource[];
const mediaPlacement = {
  nodeSelector: { "mediaplane.io/pool": "media" },
  tolerations: [{ key: "mediaplane.io/pool", operator: "Equal", value: "media", effect: "NoSchedule" }],
};

beforeAll(async () => {
  ({ declared } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { Coturn } = await import("../../components/k8s/Coturn.js");
    const { Janus } = await import("../../components/k8s/Janus.js");
    const { JitsiMeet } = await import("../../components/k8s/JitsiMeet.js");
    const { bridgeMediaPods } = await import("../../components/k8s/jitsiBridges.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const ingress = testIngressBinding();
    const podCidrs = ["10.244.0.0/16"];
    const jvb = { kind: "loadBalancer", replicas: 2, publicIp: testPublicIp("198.51.100.30", "mp-dev-jvb-ip") } as const;
    const turn = new Coturn("turn", testCoturnArgs(provider, { podCidrs, relayTargetsInCluster: [bridgeMediaPods("media", 10000, jvb)] }));
    new Janus("janus", {
      provider,
      namespace: "media",
      image: "registry.example.org/janus@sha256:" + "ef".repeat(32),
      host: "janus.example.org",
      ingress,
      replicas: 2,
      rtpPorts: { min: 20000, max: 20999 },
      publicAddress: { kind: "nodePublicIp" },
      recordings: { kind: "azureFile", secretName: "recordings-storage", shareName: "recordings" },
      placement: mediaPlacement,
      podCidrs,
    });
    new JitsiMeet("jitsi", {
      provider,
      namespace: "media",
      host: "meet.example.org",
      ingress,
      webReplicas: 2,
      udpPort: 10000,
      jvb,
      placement: mediaPlacement,
      authentication: { type: "jwt", appId: "mediaplane-app", guests: false },
      embeddingOrigins: ["https://app.example.org", "https://lms.example.edu:8443"],
      turn: { host: "turn.example.org", staticAuthSecret: turn.staticAuthSecret, tls: true, pods: turn.inClusterUdp, credentialTtlSeconds: 3600 },
      podCidrs,
    });
    return {};
  }));
});

const deployment = (name: string) => objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", name);
const service = (name: string) => objectOf<IService>(declared, "kubernetes:core/v1:Service", name);
const containerOf = (name: string): IContainer => workloadContainer(declared, name);
const jitsiPods = (component: string) =>
  podsIn("media", { "app.kubernetes.io/name": "jitsi", "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "mediaplane" });


describe("Coturn", () => {
  it("publishes UDP/TCP 3478 and TLS on 443 on the pinned TURN IP, plus every relay port", () => {
    const turn = service("coturn");
    expect(turn.metadata?.annotations?.["service.beta.kubernetes.io/azure-pip-name"]).toBe("mp-dev-turn-ip");
    expect(turn.spec?.externalTrafficPolicy).toBe("Local");
    const ports = turn.spec?.ports?.map((port) => `${port.protocol}/${port.port}`) ?? [];
    expect(ports.slice(0, 3)).toEqual(["UDP/3478", "TCP/3478", "TCP/443"]);
    expect(ports.filter((port) => port.startsWith("UDP/491"))).toHaveLength(10);
  });

  it("keeps turnserver.conf, with its static auth secret, in a secret Secret", () => {
    const config = findObject(declared, "kubernetes:core/v1:Secret", "coturn-config");
    expect(config.hasSecretInput).toBe(true);
    const text = (config.inputs["stringData"] as Record<string, string>)["turnserver.conf"];
    expect(text).toContain("static-auth-secret=<unknown until apply: random value of turn-auth-secret>");
    expect(text).toContain("external-ip=198.51.100.20");
  });

  it("runs a certificate reloader from the coturn image beside it, in one PID namespace, with no capability", () => {
    const pod = deployment("coturn").spec?.template.spec;
    const reloader = pod?.containers.find((candidate) => candidate.name === "certificate-reloader");
    expect(pod?.shareProcessNamespace).toBe(true);
    expect(reloader?.image).toBe(containerOf("coturn").image);
    expect(reloader?.command?.slice(0, 2)).toEqual(["sh", "-c"]);
    expect(reloader?.command?.[2]).toContain("kill -USR2");
    expect(reloader?.securityContext?.capabilities).toEqual({ drop: ["ALL"] });
    expect(reloader?.volumeMounts).toContainEqual({ name: "tls", mountPath: "/etc/coturn/tls", readOnly: true });
    expect(reloader?.livenessProbe?.exec?.command).toBeDefined();
    expect(reloader?.resources?.limits).toBeDefined();
  });

  it("restarts coturn for a changed turnserver.conf only: the pod template names turn-tls, not its content", () => {
    expect(Object.keys(deployment("coturn").spec?.template.metadata?.annotations ?? {})).toEqual(["mediaplane/config-hash"]);
    expect(deployment("coturn").spec?.template.spec?.volumes).toContainEqual({ name: "tls", secret: { secretName: "turn-tls" } });
  });

  it("runs one non-root replica with probes and limits", () => {
    expect(deployment("coturn").spec?.replicas).toBe(1);
    expect(deployment("coturn").spec?.template.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(containerOf("coturn").securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(containerOf("coturn").readinessProbe?.tcpSocket?.port).toBe("turn-tcp");
    expect(containerOf("coturn").resources?.limits).toBeDefined();
  });

  it("relays to any port of public addresses, never into the cluster's, the nodes' or the metadata service's ranges", () => {
    const egress = egressOf(networkPolicy(declared, "coturn"));
    expect(egress[0]).toEqual(clusterDnsRule);
    expect(egress[1]).toEqual({ to: [publicAddresses], ports: [{ protocol: "UDP" }, { protocol: "TCP" }] });
  });

  it("reaches no pod but DNS, its own relays and the bridges' media ports, which its static IPs lead to inside the cluster", () => {
    const egress = egressOf(networkPolicy(declared, "coturn"));
    expect(podPeersOf(egress)).toEqual([
      clusterDnsRule.to?.[0],
      podsIn("media", { "app.kubernetes.io/name": "coturn", "app.kubernetes.io/component": "turn", "app.kubernetes.io/part-of": "mediaplane" }),
      podsIn("media", { "app.kubernetes.io/name": "jitsi", "app.kubernetes.io/component": "jvb", "app.kubernetes.io/part-of": "mediaplane" }),
    ]);
    expect(egress[2]?.ports).toEqual([
      { port: 3478, protocol: "UDP" },
      { port: 49152, endPort: 49161, protocol: "UDP" },
    ]);
    expect(egress[3]?.ports).toEqual([
      { port: 10000, protocol: "UDP" },
      { port: 10001, protocol: "UDP" },
    ]);
  });
});

describe("Janus", () => {
  const janus = () => objectOf<IStatefulSet>(declared, "kubernetes:apps/v1:StatefulSet", "janus").spec?.template.spec;

  it("runs on the media nodes with host networking, one instance per node", () => {
    expect(janus()?.hostNetwork).toBe(true);
    expect(janus()?.nodeSelector).toEqual({ "mediaplane.io/pool": "media" });
    expect(janus()?.tolerations?.[0]?.key).toBe("mediaplane.io/pool");
    expect(janus()?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey).toBe("kubernetes.io/hostname");
  });

  it("reads the node public IP before start and passes it as the 1:1 NAT mapping", () => {
    expect(janus()?.initContainers?.[0]?.command?.join(" ")).toContain("169.254.169.254/metadata/loadbalancer");
    expect(containerOf("janus").command?.join(" ")).toContain('--nat-1-1="$(cat /run/janus/public-ip)"');
  });

  it("mounts the rendered configs from a secret Secret and only its own folder of the recordings share", () => {
    expect(findObject(declared, "kubernetes:core/v1:Secret", "janus-config").hasSecretInput).toBe(true);
    const recordings = janus()?.volumes?.find((volume) => volume.name === "recordings");
    expect(recordings?.csi?.driver).toBe("file.csi.azure.com");
    expect(recordings?.csi?.volumeAttributes).toMatchObject({ secretName: "recordings-storage", shareName: "recordings" });
    expect(containerOf("janus").volumeMounts).toContainEqual({ name: "recordings", mountPath: "/recordings", subPath: janusRecordingsFolder });
  });

  it("renders token auth, the RTP range and full trickle into janus.jcfg", () => {
    const files = findObject(declared, "kubernetes:core/v1:Secret", "janus-config").inputs["stringData"] as Record<string, string>;
    expect(files["janus.jcfg"]).toContain("token_auth = true");
    expect(files["janus.jcfg"]).toContain('rtp_port_range = "20000-20999"');
    expect(files["janus.jcfg"]).toContain("full_trickle = true");
  });

  it("never exposes the admin API: not in the Service, not in the routes", () => {
    expect(service("janus").spec?.ports?.map((port) => port.port)).toEqual([8088, 8188]);
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "janus");
    for (const entry of route.spec.routes) expect(entry.services?.[0]?.port).not.toBe(7088);
  });

  it("keeps an HTTP API client on the instance holding its session with a cross-site sticky cookie; WebSockets stay on their connection", () => {
    // janus_http.c (v1.1.2): with cors.allow_origin set, every answer carries Access-Control-Allow-Credentials: true,
    // so a browser on the app's origin sends the cookie back (janus.js withCredentials).
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "janus");
    const [websocket, http] = route.spec.routes.filter((entry) => entry.services?.[0]?.name === "janus");
    expect(http?.services?.[0]?.sticky).toEqual({ cookie: { name: "janus_instance", secure: true, httpOnly: true, sameSite: "none" } });
    expect(websocket?.services?.[0]?.sticky).toBeUndefined();
    const files = findObject(declared, "kubernetes:core/v1:Secret", "janus-config").inputs["stringData"] as Record<string, string>;
    expect(files["janus.transport.http.jcfg"]).toContain('allow_origin = "https://janus.example.org"');
  });

  it("serves the API over HTTPS and WSS on the Janus host through traefik, each instance also at its own address", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "janus");
    expect(route.spec.routes.map((entry) => [entry.match, entry.services?.[0]?.name, entry.services?.[0]?.port])).toEqual([
      ["Host(`janus.example.org`) && PathPrefix(`/instance/0/`) && HeaderRegexp(`Upgrade`, `(?i)^websocket$`)", "janus-0", 8188],
      ["Host(`janus.example.org`) && PathPrefix(`/instance/0/janus`)", "janus-0", 8088],
      ["Host(`janus.example.org`) && PathPrefix(`/instance/1/`) && HeaderRegexp(`Upgrade`, `(?i)^websocket$`)", "janus-1", 8188],
      ["Host(`janus.example.org`) && PathPrefix(`/instance/1/janus`)", "janus-1", 8088],
      ["Host(`janus.example.org`) && !PathPrefix(`/instance/`) && HeaderRegexp(`Upgrade`, `(?i)^websocket$`)", "janus", 8188],
      ["Host(`janus.example.org`) && PathPrefix(`/janus`)", "janus", 8088],
    ]);
  });

  it("gives each instance a stable name and a Service selecting only that pod, so a room's participants all reach it", () => {
    const statefulSet = objectOf<IStatefulSet>(declared, "kubernetes:apps/v1:StatefulSet", "janus");
    expect(statefulSet.spec?.replicas).toBe(2);
    // The StatefulSet controller names pods <set>-<ordinal> and labels each with statefulset.kubernetes.io/pod-name
    // (kubernetes pkg/controller/statefulset/stateful_set_utils.go: getPodName, updateIdentity; the label is
    // apps/v1 StatefulSetPodNameLabel in staging/src/k8s.io/api/apps/v1/types.go).
    for (const ordinal of [0, 1]) {
      expect(service(`janus-${ordinal}`).spec?.selector).toMatchObject({ "statefulset.kubernetes.io/pod-name": `janus-${ordinal}` });
    }
  });

  it("strips an instance's path prefix before Janus sees the request, so Janus serves its usual /janus base path", () => {
    // traefik's stripPrefixRegex removes the matched prefix from the path (pkg/middlewares/stripprefixregex/strip_prefix_regex.go).
    const middleware = objectOf<{ spec: { stripPrefixRegex: { regex: string[] } } }>(declared, "kubernetes:traefik.io/v1alpha1:Middleware", "janus-strip-instance-prefix");
    const [regex] = middleware.spec.stripPrefixRegex.regex;
    expect("/instance/12/janus/123".replace(new RegExp(regex ?? "(?!)"), "")).toBe("/janus/123");
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "janus");
    const instanceRoutes = route.spec.routes.filter((entry) => entry.match.includes("PathPrefix(`/instance/") && !entry.match.includes("!PathPrefix"));
    for (const entry of instanceRoutes) expect(entry.middlewares).toContainEqual({ name: "janus-strip-instance-prefix" });
  });

  it("is non-root without privilege escalation, with probes and limits", () => {
    expect(janus()?.securityContext?.runAsNonRoot).toBe(true);
    expect(containerOf("janus").securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(containerOf("janus").readinessProbe?.httpGet?.path).toBe("/janus/info");
    expect(containerOf("janus").resources?.limits).toBeDefined();
  });
  it("has no NetworkPolicy (host network), and traefik reaches its API ports at node addresses outside the pod range", () => {
    expect(() => networkPolicy(declared, "janus")).toThrow(/found 0/);
    expect(egressOf(networkPolicy(declared, "traefik-to-janus"))).toEqual([
      {
        to: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.244.0.0/16"] } }, { ipBlock: { cidr: "172.16.0.0/12" } }, { ipBlock: { cidr: "192.168.0.0/16" } }],
        ports: [
          { port: 8088, protocol: "TCP" },
          { port: 8188, protocol: "TCP" },
        ],
      },
    ]);
  });
});

describe("JitsiMeet", () => {
  const internal = ["XMPP_DOMAIN", "XMPP_AUTH_DOMAIN", "XMPP_INTERNAL_MUC_DOMAIN", "XMPP_SERVER", "JVB_BREWERY_MUC"];

  it("wires web, prosody, jicofo and every bridge with the same XMPP environment", () => {
    const reference = containerOf("jitsi-prosody");
    for (const name of ["jitsi-web", "jitsi-jicofo", "jitsi-jvb-0", "jitsi-jvb-1"]) {
      for (const variable of internal) expect(envVar(containerOf(name), variable), `${name} ${variable}`).toEqual(envVar(reference, variable));
    }
    expect(envVar(reference, "XMPP_SERVER")?.value).toBe("prosody.media.svc.cluster.local");
    expect(envVar(reference, "XMPP_INTERNAL_MUC_DOMAIN")?.value).toBe("internal-muc.meet.jitsi");
  });

  it("takes the internal passwords from the Secret the random provider fills, the bridges theirs from a Secret of their own", () => {
    expect(envVar(containerOf("jitsi-jvb-0"), "JVB_AUTH_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "jitsi-bridges", key: "JVB_AUTH_PASSWORD" });
    expect(envVar(containerOf("jitsi-jvb-0"), "JICOFO_AUTH_PASSWORD")).toBeUndefined();
    expect(envVar(containerOf("jitsi-prosody"), "JVB_AUTH_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "jitsi-internal", key: "JVB_AUTH_PASSWORD" });
    expect(envVar(containerOf("jitsi-jicofo"), "JICOFO_AUTH_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "jitsi-internal",
      key: "JICOFO_AUTH_PASSWORD",
    });
    const generated = declared.filter((resource) => resource.type === "random:index/randomPassword:RandomPassword" && resource.name.startsWith("jitsi-"));
    expect(generated.map((resource) => resource.name).sort()).toEqual(["jitsi-jicofo-password", "jitsi-jvb-password", "jitsi-jwt-secret"]);
  });

  it("hands each XMPP password only to the components the images read it in", () => {
    // docker-jitsi-meet stable-10978: prosody registers both accounts (prosody/rootfs/etc/services.d/70-register-setup/run),
    // jicofo logs in as focus (jicofo/rootfs/defaults/jicofo.conf), each bridge as jvb (jvb/rootfs/defaults/jvb.conf),
    // and nothing under web/ reads either.
    const passwords = (workload: string) => (containerOf(workload).env ?? []).filter((variable) => variable.name.endsWith("_AUTH_PASSWORD")).map((variable) => variable.name).sort();
    expect(passwords("jitsi-prosody")).toEqual(["JICOFO_AUTH_PASSWORD", "JVB_AUTH_PASSWORD"]);
    expect(passwords("jitsi-jicofo")).toEqual(["JICOFO_AUTH_PASSWORD"]);
    expect(passwords("jitsi-jvb-0")).toEqual(["JVB_AUTH_PASSWORD"]);
    expect(passwords("jitsi-web")).toEqual([]);
  });

  it("gives each bridge its own UDP port on the pinned JVB IP and advertises that IP", () => {
    for (const bridge of [0, 1]) {
      const port = 10000 + bridge;
      expect(envVar(containerOf(`jitsi-jvb-${bridge}`), "JVB_PORT")?.value).toBe(String(port));
      expect(envVar(containerOf(`jitsi-jvb-${bridge}`), "JVB_ADVERTISE_IPS")?.value).toBe("198.51.100.30");
      const lb = service(`jvb-${bridge}`);
      expect(lb.spec?.type).toBe("LoadBalancer");
      expect(lb.spec?.ports).toEqual([{ name: "media", port, targetPort: port, protocol: "UDP" }]);
      expect(lb.metadata?.annotations?.["service.beta.kubernetes.io/azure-pip-name"]).toBe("mp-dev-jvb-ip");
      expect(lb.spec?.selector?.["mediaplane.io/bridge"]).toBe(String(bridge));
    }
  });

  it("routes each bridge's colibri WebSocket through traefik by the bridge's server id", () => {
    expect(envVar(containerOf("jitsi-jvb-1"), "JVB_WS_SERVER_ID")?.value).toBe("jvb-1");
    expect(envVar(containerOf("jitsi-jvb-1"), "JVB_WS_DOMAIN")?.value).toBe("meet.example.org");
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "jitsi-colibri");
    expect(route.spec.routes.map((entry) => [entry.match, entry.services?.[0]?.name, entry.services?.[0]?.port])).toEqual([
      ["Host(`meet.example.org`) && PathPrefix(`/colibri-ws/jvb-0/`)", "jvb-0-colibri", 9090],
      ["Host(`meet.example.org`) && PathPrefix(`/colibri-ws/jvb-1/`)", "jvb-1-colibri", 9090],
    ]);
    expect(service("jvb-1-colibri").spec?.selector?.["mediaplane.io/bridge"]).toBe("1");
  });

  it("admits media from anywhere and bridge channels only from traefik", () => {
    const policy = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "jvb");
    expect(policy.spec?.ingress?.[0]).toEqual({ ports: [{ port: 10000, protocol: "UDP" }, { port: 10001, protocol: "UDP" }] });
    expect(policy.spec?.ingress?.[1]?.from?.[0]?.podSelector?.matchLabels).toEqual({ "app.kubernetes.io/name": "traefik" });
    expect(policy.spec?.ingress?.[1]?.ports).toEqual([{ port: 9090, protocol: "TCP" }]);
  });

  it("places bridges on the media nodes", () => {
    expect(deployment("jitsi-jvb-0").spec?.template.spec?.nodeSelector).toEqual({ "mediaplane.io/pool": "media" });
  });

  it("cascades a conference over the bridges by default when there are several: jicofo and every bridge relay in one region", () => {
    const jicofo = containerOf("jitsi-jicofo");
    expect(envVar(jicofo, "ENABLE_OCTO")?.value).toBe("1");
    expect(envVar(jicofo, "OCTO_BRIDGE_SELECTION_STRATEGY")?.value).toBe("RegionBasedBridgeSelectionStrategy");
    for (const bridge of [0, 1]) {
      const jvb = containerOf(`jitsi-jvb-${bridge}`);
      expect(envVar(jvb, "ENABLE_OCTO")?.value).toBe("1");
      expect(envVar(jvb, "JVB_OCTO_REGION")?.value).toBe(envVar(jicofo, "JICOFO_OCTO_REGION")?.value);
    }
  });

  it("gives each bridge its own relay id", () => {
    expect(envVar(containerOf("jitsi-jvb-0"), "JVB_OCTO_RELAY_ID")?.value).toBe("jvb-0");
    expect(envVar(containerOf("jitsi-jvb-1"), "JVB_OCTO_RELAY_ID")?.value).toBe("jvb-1");
  });

  it("probes the jvb and jicofo REST health endpoints", () => {
    expect(containerOf("jitsi-jvb-0").readinessProbe?.httpGet).toEqual({ path: "/about/health", port: "rest" });
    expect(containerOf("jitsi-jvb-0").ports).toContainEqual({ name: "rest", containerPort: 8080, protocol: "TCP" });
    expect(containerOf("jitsi-jicofo").livenessProbe?.httpGet).toEqual({ path: "/about/health", port: "rest" });
    expect(containerOf("jitsi-jicofo").ports).toContainEqual({ name: "rest", containerPort: 8888, protocol: "TCP" });
  });

  it("hands TCP-only clients TURN over TCP and TLS through prosody, with the shared secret from a Secret", () => {
    const prosody = containerOf("jitsi-prosody");
    expect(envVar(prosody, "TURN_HOST")?.value).toBe("turn.example.org");
    expect(envVar(prosody, "TURN_TRANSPORT")?.value).toBe("tcp");
    expect(envVar(prosody, "TURNS_PORT")?.value).toBe("443");
    expect(envVar(prosody, "TURN_CREDENTIALS")?.valueFrom?.secretKeyRef?.name).toBe("jitsi-internal");
  });

  it("serves web on the Jitsi host through traefik", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "jitsi-web");
    expect(route.spec.routes[0]?.match).toBe("Host(`meet.example.org`)");
    expect(route.spec.routes[0]?.services?.[0]).toMatchObject({ name: "jitsi-web", port: 80 });
  });

  it("lets only Jitsi's own pods reach prosody and nothing reach jicofo", () => {
    const prosody = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "jitsi-prosody");
    expect(prosody.spec?.ingress?.[0]?.from?.[0]?.podSelector?.matchLabels).toEqual({ "app.kubernetes.io/name": "jitsi" });
    const jicofo = objectOf<INetworkPolicy>(declared, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "jitsi-jicofo");
    expect(jicofo.spec?.ingress).toEqual([]);
  });

  it("pins every image to a stable-NNNNN release", () => {
    for (const name of ["jitsi-web", "jitsi-prosody", "jitsi-jicofo", "jitsi-jvb-0"]) {
      expect(containerOf(name).image).toMatch(/:stable-\d{4,}(-\d+)?$/);
    }
  });

  it("forbids privilege escalation and sets requests and limits on every container", () => {
    for (const name of ["jitsi-web", "jitsi-prosody", "jitsi-jicofo", "jitsi-jvb-0"]) {
      expect(containerOf(name).securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(containerOf(name).resources?.requests).toBeDefined();
      expect(containerOf(name).resources?.limits).toBeDefined();
    }
  });

  it("lets web reach DNS and prosody's BOSH/WebSocket port, nothing else", () => {
    expect(egressOf(networkPolicy(declared, "jitsi-web"))).toEqual([clusterDnsRule, { to: [jitsiPods("prosody")], ports: [{ port: 5280, protocol: "TCP" }] }]);
  });

  it("lets jicofo reach DNS and prosody's XMPP client port, nothing else", () => {
    expect(egressOf(networkPolicy(declared, "jitsi-jicofo"))).toEqual([clusterDnsRule, { to: [jitsiPods("prosody")], ports: [{ port: 5222, protocol: "TCP" }] }]);
  });

  it("lets prosody reach DNS only", () => {
    expect(egressOf(networkPolicy(declared, "jitsi-prosody"))).toEqual([clusterDnsRule]);
  });

  it("lets bridges send UDP anywhere outside the pod network, and reach no pod but DNS, prosody's XMPP port, TURN and each other's media ports", () => {
    const egress = egressOf(networkPolicy(declared, "jvb"));
    expect(egress).toContainEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.244.0.0/16"] } }], ports: [{ protocol: "UDP" }] });
    expect(egress).toContainEqual({ to: [jitsiPods("prosody")], ports: [{ port: 5222, protocol: "TCP" }] });
    expect(podPeersOf(egress)).toEqual([
      clusterDnsRule.to?.[0],
      jitsiPods("prosody"),
      podsIn("media", { "app.kubernetes.io/name": "coturn", "app.kubernetes.io/component": "turn", "app.kubernetes.io/part-of": "mediaplane" }),
      jitsiPods("jvb"),
    ]);
    expect(egress).toContainEqual({
      to: [jitsiPods("jvb")],
      ports: [
        { port: 10000, protocol: "UDP" },
        { port: 10001, protocol: "UDP" },
      ],
    });
  });

  it("lets traefik reach the web pods on 80 and the bridges on their colibri WebSocket port", () => {
    expect(egressOf(networkPolicy(declared, "traefik-to-jitsi-web"))).toEqual([{ to: [jitsiPods("web")], ports: [{ port: 80, protocol: "TCP" }] }]);
    expect(egressOf(networkPolicy(declared, "traefik-to-jitsi-colibri"))).toEqual([{ to: [jitsiPods("jvb")], ports: [{ port: 9090, protocol: "TCP" }] }]);
  });
});
