import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { privilegedReasonAnnotation } from "../../policies/kubernetes/annotations.js";
import { assertPinnedImage, defaultImages } from "./versions.js";
import {
  appLabels,
  disruptionBudgetFor,
  httpGetProbe,
  plainEnv,
  resourceRequirements,
  secretEnv,
  tcpProbe,
  type MediaNodePlacement,
  type ResourceSizing,
} from "./workload.js";
import { hostRule, ingressRoute, type IngressBinding, type RouteSpec } from "./ingress.js";
import { networkPolicyPeer, type PinnedPublicIp } from "./network.js";

/** Ports of the docker-jitsi-meet containers. */
export const jitsiPorts = { web: 80, xmppClient: 5222, bosh: 5280, component: 5347, jicofoRest: 8888, jvbRest: 8080, jvbColibriWebSocket: 9090 } as const;

/** The internal XMPP domain every component agrees on; never seen by users (they see `host`). */
export const xmppDomain = "meet.jitsi";

/** How JVB media (one UDP port per bridge) reaches the internet. */
export type JvbExposure =
  | {
      /** A LoadBalancer per bridge on the JVB static IP, bridge n on `udpPort + n`. */
      kind: "loadBalancer";
      /** Number of bridges. */
      replicas: number;
      /** The JVB static IP, pinned and advertised to clients (media fails if they differ); omit on a laptop cluster. */
      publicIp?: PinnedPublicIp;
    }
  | {
      /** Bridges on `udpPort` of their node's public IP (found through STUN); a host port admits one per node. */
      kind: "hostPort";
      /** Number of bridges (at most the number of media nodes). */
      replicas: number;
    };

/** TURN for clients that cannot send UDP to a bridge: prosody hands out time-limited credentials. */
export interface JitsiTurnArgs {
  /** TURN host name. */
  host: string;
  /** Shared secret of the TURN server (coturn `static-auth-secret`). */
  staticAuthSecret: pulumi.Input<string>;
  /** Whether TURN over TLS on 443 is offered. */
  tls: boolean;
}

export interface JitsiMeetArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /** The public host, e.g. `meet.example.org` (one DNS name for web, BOSH and WebSocket). */
  host: string;
  /** The ingress the web route attaches to. */
  ingress: IngressBinding;
  /** Web (nginx + static app) replicas. */
  webReplicas: number;
  /** First UDP media port. */
  udpPort: number;
  /** Bridge exposure and count. */
  jvb: JvbExposure;
  /** Participants after which jicofo prefers another bridge; default jicofo's own. */
  maxParticipantsPerBridge?: number;
  /** CPU/memory of each bridge; default 1 CPU/1Gi requests, 4 CPU/3Gi limits. */
  jvbSizing?: ResourceSizing;
  /** Media nodes for the bridges; `undefined` (laptop cluster): any node. */
  placement: MediaNodePlacement | undefined;
  /** TURN; `undefined`: none (clients behind UDP-blocking firewalls cannot join). */
  turn: JitsiTurnArgs | undefined;
  /** Image references; default the pinned upstream release. */
  images?: { web?: string; prosody?: string; jicofo?: string; jvb?: string };
}

const sizing = {
  web: { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "256Mi" },
  prosody: { cpuRequest: "200m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" },
  jicofo: { cpuRequest: "200m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
  jvb: { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "4", memoryLimit: "3Gi" },
} satisfies Record<string, ResourceSizing>;

const rolloutStrategies = {
  /** The new pod is ready before an old one goes: no capacity lost. */
  surge: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
  /** Never two at once (the XMPP server; a bridge's own port). */
  replace: { type: "Recreate" },
} as const;

/**
 * The docker-jitsi-meet images start as root: their s6-overlay init prepares files and then drops to per-service
 * users, so `runAsNonRoot` would stop them. What can still be taken away is: privilege escalation, and every
 * capability beyond the few the init needs to chown files and switch users.
 */
const rootReason =
  "docker-jitsi-meet images start their s6-overlay init as root and drop to per-service users; escalation and extra capabilities are off";

function jitsiContainerSecurity(extra: string[] = []): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "KILL", ...extra] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * Jitsi Meet: web, prosody, jicofo and the videobridges, wired by the shared XMPP environment. Internal passwords
 * come from the random provider and stay stable across updates. Start order needs no sleeps: each component's
 * readiness gates its Service, and the others retry until prosody answers.
 */
export class JitsiMeet extends pulumi.ComponentResource {
  /** `https://<host>`. */
  readonly url: string;

  constructor(name: string, args: JitsiMeetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:JitsiMeet", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = args.namespace;
    const image = (component: "web" | "prosody" | "jicofo" | "jvb", fallback: string) =>
      assertPinnedImage(`jitsi ${component} image`, args.images?.[component] ?? fallback);
    const password = (purpose: string) =>
      new random.RandomPassword(`${name}-${purpose}`, { length: 32, special: false }, { parent: this }).result;

    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: "jitsi-internal", namespace, labels: appLabels("jitsi", "secrets") },
        type: "Opaque",
        stringData: {
          JICOFO_AUTH_PASSWORD: password("jicofo-password"),
          JVB_AUTH_PASSWORD: password("jvb-password"),
          ...(args.turn === undefined ? {} : { TURN_CREDENTIALS: pulumi.secret(args.turn.staticAuthSecret) }),
        },
      },
      child,
    );
    const secretName = secret.metadata.name;

    const prosodyHost = pulumi.interpolate`prosody.${namespace}.svc.cluster.local`;
    const xmppEnv = [
      ...plainEnv({
        PUBLIC_URL: `https://${args.host}`,
        XMPP_DOMAIN: xmppDomain,
        XMPP_AUTH_DOMAIN: `auth.${xmppDomain}`,
        XMPP_MUC_DOMAIN: `muc.${xmppDomain}`,
        XMPP_INTERNAL_MUC_DOMAIN: `internal-muc.${xmppDomain}`,
        XMPP_GUEST_DOMAIN: `guest.${xmppDomain}`,
        XMPP_SERVER: prosodyHost,
        XMPP_BOSH_URL_BASE: pulumi.interpolate`http://${prosodyHost}:${jitsiPorts.bosh}`,
        JICOFO_AUTH_USER: "focus",
        JVB_AUTH_USER: "jvb",
        JVB_BREWERY_MUC: "jvbbrewery",
        TZ: "UTC",
      }),
      secretEnv("JICOFO_AUTH_PASSWORD", secretName, "JICOFO_AUTH_PASSWORD"),
      secretEnv("JVB_AUTH_PASSWORD", secretName, "JVB_AUTH_PASSWORD"),
    ];

    const labelsOf = (component: string) => appLabels("jitsi", component);
    const jitsiPods = { namespace, podLabels: { "app.kubernetes.io/name": "jitsi" } };

    // --- prosody: the XMPP server everything else connects to.
    const prosodyLabels = labelsOf("prosody");
    const turnEnv =
      args.turn === undefined
        ? []
        : [
            ...plainEnv({
              TURN_HOST: args.turn.host,
              TURN_PORT: "3478",
              // TURN exists here for clients that cannot send UDP: offer it over TCP (and TLS on 443 when enabled).
              TURN_TRANSPORT: "tcp",
              ...(args.turn.tls ? { TURNS_HOST: args.turn.host, TURNS_PORT: "443" } : {}),
            }),
            secretEnv("TURN_CREDENTIALS", secretName, "TURN_CREDENTIALS"),
          ];
    this.deployment(name, "prosody", {
      namespace,
      replicas: 1,
      rollout: "replace",
      labels: prosodyLabels,
      container: {
        name: "prosody",
        image: image("prosody", defaultImages.jitsiProsody),
        env: [...xmppEnv, ...turnEnv],
        ports: [
          { name: "xmpp-c2s", containerPort: jitsiPorts.xmppClient, protocol: "TCP" },
          { name: "bosh", containerPort: jitsiPorts.bosh, protocol: "TCP" },
          { name: "xmpp-component", containerPort: jitsiPorts.component, protocol: "TCP" },
        ],
        readinessProbe: tcpProbe("xmpp-c2s", 5),
        livenessProbe: { ...tcpProbe("bosh", 15), initialDelaySeconds: 20 },
        resources: resourceRequirements(sizing.prosody),
        securityContext: jitsiContainerSecurity(),
      },
      child,
    });
    new k8s.core.v1.Service(
      `${name}-prosody`,
      {
        metadata: { name: "prosody", namespace, labels: prosodyLabels },
        spec: {
          selector: prosodyLabels,
          ports: [
            { name: "xmpp-c2s", port: jitsiPorts.xmppClient, targetPort: "xmpp-c2s", protocol: "TCP" },
            { name: "bosh", port: jitsiPorts.bosh, targetPort: "bosh", protocol: "TCP" },
            { name: "xmpp-component", port: jitsiPorts.component, targetPort: "xmpp-component", protocol: "TCP" },
          ],
        },
      },
      child,
    );
    this.allowIngress(name, "prosody", namespace, prosodyLabels, [networkPolicyPeer(jitsiPods)], [
      jitsiPorts.xmppClient,
      jitsiPorts.bosh,
      jitsiPorts.component,
    ], child);

    // --- jicofo: conference focus; picks a bridge per conference.
    const jicofoLabels = labelsOf("jicofo");
    this.deployment(name, "jicofo", {
      namespace,
      replicas: 1,
      rollout: "replace",
      labels: jicofoLabels,
      container: {
        name: "jicofo",
        image: image("jicofo", defaultImages.jitsiJicofo),
        env: [
          ...xmppEnv,
          ...plainEnv({
            JICOFO_ENABLE_HEALTH_CHECKS: "true",
            ...(args.maxParticipantsPerBridge === undefined ? {} : { MAX_BRIDGE_PARTICIPANTS: String(args.maxParticipantsPerBridge) }),
          }),
        ],
        ports: [{ name: "rest", containerPort: jitsiPorts.jicofoRest, protocol: "TCP" }],
        readinessProbe: httpGetProbe("/about/health", "rest", 10),
        livenessProbe: { ...httpGetProbe("/about/health", "rest", 20), initialDelaySeconds: 30 },
        resources: resourceRequirements(sizing.jicofo),
        securityContext: jitsiContainerSecurity(),
      },
      child,
    });
    this.allowIngress(name, "jicofo", namespace, jicofoLabels, [], [], child);

    // --- web: the app, BOSH and XMPP WebSocket proxied to prosody.
    const webLabels = labelsOf("web");
    this.deployment(name, "web", {
      namespace,
      replicas: args.webReplicas,
      rollout: "surge",
      labels: webLabels,
      container: {
        name: "web",
        image: image("web", defaultImages.jitsiWeb),
        // TLS ends at traefik; the container serves plain HTTP on 80 inside the cluster.
        env: [...xmppEnv, ...plainEnv({ DISABLE_HTTPS: "1", ENABLE_HTTP_REDIRECT: "0", ENABLE_LETSENCRYPT: "0", ENABLE_XMPP_WEBSOCKET: "1" })],
        ports: [{ name: "http", containerPort: jitsiPorts.web, protocol: "TCP" }],
        readinessProbe: httpGetProbe("/", "http", 5),
        livenessProbe: { ...httpGetProbe("/", "http", 15), initialDelaySeconds: 10 },
        resources: resourceRequirements(sizing.web),
        securityContext: jitsiContainerSecurity(["NET_BIND_SERVICE"]),
      },
      child,
    });
    const web = new k8s.core.v1.Service(
      `${name}-web`,
      {
        metadata: { name: "jitsi-web", namespace, labels: webLabels },
        spec: { selector: webLabels, ports: [{ name: "http", port: jitsiPorts.web, targetPort: "http", protocol: "TCP" }] },
      },
      child,
    );
    this.allowIngress(name, "web", namespace, webLabels, [networkPolicyPeer(args.ingress.traefikPods)], [jitsiPorts.web], child);
    ingressRoute(
      `${name}-route`,
      {
        objectName: "jitsi-web",
        namespace,
        binding: args.ingress,
        labels: webLabels,
        routes: [{ match: hostRule(args.host), target: { kind: "Service", name: web.metadata.name, port: jitsiPorts.web }, adminOnly: false }],
      },
      child,
    );

    // --- videobridges: one Deployment per bridge, so each has a stable id the colibri WebSocket route can address.
    const jvbLabels = labelsOf("jvb");
    const placement =
      args.placement === undefined ? {} : { nodeSelector: args.placement.nodeSelector, tolerations: args.placement.tolerations };
    const exposure = args.jvb;
    const pinned = exposure.kind === "loadBalancer" ? exposure.publicIp : undefined;
    const addressEnv =
      exposure.kind === "hostPort"
        ? // Each node's public address is found through STUN (the node's 1:1 NAT keeps the port).
          args.turn === undefined
          ? []
          : plainEnv({ JVB_STUN_SERVERS: `${args.turn.host}:3478` })
        : pinned === undefined
          ? []
          : plainEnv({ JVB_ADVERTISE_IPS: pinned.address, JVB_DISABLE_STUN: "true" });
    const mediaPorts = new Set<number>();
    const colibriRoutes: RouteSpec[] = [];

    for (let bridge = 0; bridge < exposure.replicas; bridge++) {
      const bridgeId = `jvb-${bridge}`;
      // Behind the shared static IP each bridge needs its own port; on host ports every node has the same one.
      const port = exposure.kind === "loadBalancer" ? args.udpPort + bridge : args.udpPort;
      mediaPorts.add(port);
      const labels = { ...jvbLabels, "mediaplane.io/bridge": String(bridge) };
      this.deployment(name, bridgeId, {
        namespace,
        replicas: 1,
        // Never two processes of one bridge: they would fight over its port and its id.
        rollout: "replace",
        labels,
        container: {
          name: "jvb",
          image: image("jvb", defaultImages.jitsiJvb),
          env: [
            ...xmppEnv,
            ...plainEnv({
              JVB_PORT: String(port),
              COLIBRI_REST_ENABLED: "true",
              ENABLE_COLIBRI_WEBSOCKET: "1",
              JVB_WS_DOMAIN: args.host,
              JVB_WS_SERVER_ID: bridgeId,
            }),
            ...addressEnv,
          ],
          ports: [
            { name: "media", containerPort: port, protocol: "UDP", ...(exposure.kind === "hostPort" ? { hostPort: port } : {}) },
            { name: "rest", containerPort: jitsiPorts.jvbRest, protocol: "TCP" },
            { name: "colibri-ws", containerPort: jitsiPorts.jvbColibriWebSocket, protocol: "TCP" },
          ],
          readinessProbe: httpGetProbe("/about/health", "rest", 10),
          livenessProbe: { ...httpGetProbe("/about/health", "rest", 20), initialDelaySeconds: 30 },
          resources: resourceRequirements(args.jvbSizing ?? sizing.jvb),
          securityContext: jitsiContainerSecurity(),
        },
        podSpec: { ...placement, terminationGracePeriodSeconds: 60 },
        child,
      });
      const colibri = new k8s.core.v1.Service(
        `${name}-${bridgeId}-colibri`,
        {
          metadata: { name: `${bridgeId}-colibri`, namespace, labels },
          spec: {
            selector: labels,
            ports: [{ name: "colibri-ws", port: jitsiPorts.jvbColibriWebSocket, targetPort: "colibri-ws", protocol: "TCP" }],
          },
        },
        child,
      );
      colibriRoutes.push({
        match: `${hostRule(args.host)} && PathPrefix(\`/colibri-ws/${bridgeId}/\`)`,
        target: { kind: "Service", name: colibri.metadata.name, port: jitsiPorts.jvbColibriWebSocket },
        adminOnly: false,
      });
      if (exposure.kind === "loadBalancer") {
        // Every bridge's Service claims the same static IP on its own port (the Azure cloud provider shares the IP).
        new k8s.core.v1.Service(
          `${name}-${bridgeId}`,
          {
            metadata: { name: bridgeId, namespace, labels, ...(pinned === undefined ? {} : { annotations: pinned.serviceAnnotations }) },
            spec: {
              type: "LoadBalancer",
              externalTrafficPolicy: "Local",
              selector: labels,
              ports: [{ name: "media", port, targetPort: port, protocol: "UDP" }],
            },
          },
          child,
        );
      }
    }
    // The bridge channel (colibri WebSocket) of each bridge, more specific than the web route so it wins.
    ingressRoute(
      `${name}-colibri-route`,
      { objectName: "jitsi-colibri", namespace, binding: args.ingress, labels: jvbLabels, routes: colibriRoutes },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-jvb-netpol`,
      {
        metadata: { name: "jvb", namespace, labels: jvbLabels },
        spec: {
          podSelector: { matchLabels: jvbLabels },
          policyTypes: ["Ingress"],
          // Media from anywhere, bridge channels from traefik; the REST port stays closed to other pods.
          ingress: [
            { ports: [...mediaPorts].map((port) => ({ port, protocol: "UDP" })) },
            { from: [networkPolicyPeer(args.ingress.traefikPods)], ports: [{ port: jitsiPorts.jvbColibriWebSocket, protocol: "TCP" }] },
          ],
        },
      },
      child,
    );

    this.url = `https://${args.host}`;
    this.registerOutputs({ url: this.url });
  }

  private deployment(
    name: string,
    component: string,
    spec: {
      namespace: pulumi.Input<string>;
      replicas: number;
      /** How pods are replaced on an update (see `rolloutStrategies`). */
      rollout: keyof typeof rolloutStrategies;
      labels: Record<string, string>;
      container: k8s.types.input.core.v1.Container;
      podSpec?: Partial<k8s.types.input.core.v1.PodSpec>;
      child: pulumi.CustomResourceOptions;
    },
  ): void {
    new k8s.apps.v1.Deployment(
      `${name}-${component}`,
      {
        metadata: {
          name: `jitsi-${component}`,
          namespace: spec.namespace,
          labels: spec.labels,
          annotations: { [privilegedReasonAnnotation]: rootReason },
        },
        spec: {
          replicas: spec.replicas,
          selector: { matchLabels: spec.labels },
          strategy: rolloutStrategies[spec.rollout],
          template: {
            metadata: { labels: spec.labels },
            // No Kubernetes API access: no service account token in the pod.
            spec: { ...spec.podSpec, automountServiceAccountToken: false, containers: [spec.container] },
          },
        },
      },
      spec.child,
    );
    disruptionBudgetFor(`${name}-${component}-pdb`, { namespace: spec.namespace, selector: spec.labels, replicas: spec.replicas }, spec.child);
  }

  private allowIngress(
    name: string,
    component: string,
    namespace: pulumi.Input<string>,
    podLabels: Record<string, string>,
    from: k8s.types.input.networking.v1.NetworkPolicyPeer[],
    ports: number[],
    child: pulumi.CustomResourceOptions,
  ): void {
    new k8s.networking.v1.NetworkPolicy(
      `${name}-${component}-netpol`,
      {
        metadata: { name: `jitsi-${component}`, namespace, labels: podLabels },
        spec: {
          podSelector: { matchLabels: podLabels },
          policyTypes: ["Ingress"],
          // No rule at all: nothing may connect (jicofo only connects out).
          ingress: ports.length === 0 ? [] : [{ from, ports: ports.map((port) => ({ port, protocol: "TCP" })) }],
        },
      },
      child,
    );
  }
}
