import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { hostRule, ingressRoute, type IngressBinding } from "./ingress.js";
import { bridgeMediaPods, declareBridges, jitsiRelayRegion, type JvbExposure } from "./jitsiBridges.js";
import { jitsiContainerSecurity, jitsiDeployment, jitsiNetworkPolicy, jitsiPorts, prosodyClientEgress, xmppDomain } from "./jitsiPods.js";
import { networkPolicyPeer, podPortsEgressRule, type PodPorts } from "./network.js";
import { securityHeadersAllowingFrames } from "./render/traefik.js";
import { assertPinnedImage, defaultImages } from "./versions.js";
import {
  appLabels,
  httpGetProbe,
  plainEnv,
  resourceRequirements,
  secretEnv,
  tcpProbe,
  type MediaNodePlacement,
  type ResourceSizing,
} from "./workload.js";

/** TURN for clients that cannot send UDP to a bridge: prosody hands out time-limited credentials. */
export interface JitsiTurnArgs {
  /** TURN host name. */
  host: string;
  /** Shared secret of the TURN server (coturn `static-auth-secret`). */
  staticAuthSecret: pulumi.Input<string>;
  /** Whether TURN over TLS on 443 is offered. */
  tls: boolean;
  /** Lifetime of the credentials prosody computes for a participant (coturn rejects them afterwards, refreshes too). */
  credentialTtlSeconds: number;
  /** The TURN server's pods and UDP ports when it runs in this cluster (see `Coturn.inClusterUdp`); `undefined`: elsewhere. */
  pods: PodPorts | undefined;
}

/** Who may open a room (prosody's authentication, which jicofo and the web app follow). */
export type JitsiAuthentication =
  | { type: "none" }
  | { type: "internal"; guests: boolean }
  /** Tokens signed with `JitsiMeet.jwtSecret`, carrying `appId`. */
  | { type: "jwt"; appId: string; guests: boolean };

export interface JitsiMeetArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /**
   * Namespace of the bridges (must exist), when it is not `namespace`: host-port bridges need a looser Pod Security
   * level than the rest of Jitsi. They get only their own XMPP password there.
   */
  bridgeNamespace?: pulumi.Input<string>;
  /** The public host, e.g. `meet.example.org` (one DNS name for web, BOSH and WebSocket). */
  host: string;
  /** The ingress the web route attaches to. */
  ingress: IngressBinding;
  /** Who may open rooms. */
  authentication: JitsiAuthentication;
  /** Origins (`https://host[:port]`) whose pages may show Jitsi in a frame. */
  embeddingOrigins: readonly string[];
  /** Web (nginx + static app) replicas. */
  webReplicas: number;
  /** First UDP media port. */
  udpPort: number;
  /** Bridge exposure and count. */
  jvb: JvbExposure;
  /** Participants after which jicofo prefers another bridge; default jicofo's own. */
  maxParticipantsPerBridge?: number;
  /** Cascade a conference over several bridges (relays, "secure octo"); default: with more than one bridge. */
  relays?: boolean;
  /** CPU/memory of each bridge; default 1 CPU/1Gi requests, 4 CPU/3Gi limits. */
  jvbSizing?: ResourceSizing;
  /** Media nodes for the bridges; `undefined` (laptop cluster): any node. */
  placement: MediaNodePlacement | undefined;
  /** TURN; `undefined`: none (clients behind UDP-blocking firewalls cannot join). */
  turn: JitsiTurnArgs | undefined;
  /** The cluster's pod ranges: the bridges' media egress excludes them. */
  podCidrs: readonly string[];
  /** Image references; default the pinned upstream release. */
  images?: { web?: string; prosody?: string; jicofo?: string; jvb?: string };
}

const sizing = {
  web: { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "256Mi" },
  prosody: { cpuRequest: "200m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" },
  jicofo: { cpuRequest: "200m", memoryRequest: "512Mi", cpuLimit: "1", memoryLimit: "1Gi" },
  jvb: { cpuRequest: "1", memoryRequest: "1Gi", cpuLimit: "4", memoryLimit: "3Gi" },
} satisfies Record<string, ResourceSizing>;

/**
 * Jitsi Meet: web, prosody, jicofo and the videobridges, wired by the shared XMPP environment. Internal passwords
 * come from the random provider and stay stable across updates. Start order needs no sleeps: each component's
 * readiness gates its Service, and the others retry until prosody answers.
 */
export class JitsiMeet extends pulumi.ComponentResource {
  /** `https://<host>`. */
  readonly url: string;
  /** Secret (HS256) that the application signs participants' tokens with, for `jwt` authentication: a secret. */
  readonly jwtSecret: pulumi.Output<string> | undefined;

  constructor(name: string, args: JitsiMeetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:JitsiMeet", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = args.namespace;
    const bridgeNamespace = args.bridgeNamespace ?? namespace;
    const relays = args.relays ?? args.jvb.replicas > 1;
    const image = (component: "web" | "prosody" | "jicofo" | "jvb", fallback: string) =>
      assertPinnedImage(`${name}.images.${component}`, args.images?.[component] ?? fallback);
    const password = (purpose: string, length = 32) =>
      new random.RandomPassword(`${name}-${purpose}`, { length, special: false }, { parent: this }).result;
    const { authentication } = args;
    const jwtSecret = authentication.type === "jwt" ? password("jwt-secret", 64) : undefined;

    const jvbPassword = password("jvb-password");
    const secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: { name: "jitsi-internal", namespace, labels: appLabels("jitsi", "secrets") },
        type: "Opaque",
        stringData: {
          JICOFO_AUTH_PASSWORD: password("jicofo-password"),
          JVB_AUTH_PASSWORD: jvbPassword,
          ...(args.turn === undefined ? {} : { TURN_CREDENTIALS: pulumi.secret(args.turn.staticAuthSecret) }),
          ...(jwtSecret === undefined ? {} : { JWT_APP_SECRET: jwtSecret }),
        },
      },
      child,
    );
    const secretName = secret.metadata.name;

    // The bridges' own: their namespace may be another, and they need nothing else of jitsi-internal.
    const bridgeSecret = new k8s.core.v1.Secret(
      `${name}-bridges-secret`,
      {
        metadata: { name: "jitsi-bridges", namespace: bridgeNamespace, labels: appLabels("jitsi", "secrets") },
        type: "Opaque",
        stringData: { JVB_AUTH_PASSWORD: jvbPassword },
      },
      child,
    );

    const prosodyHost = pulumi.interpolate`prosody.${namespace}.svc.cluster.local`;
    const xmppSettings = plainEnv({
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
    });
    // Each password goes only where docker-jitsi-meet reads it: prosody registers both accounts, jicofo logs in as
    // focus, the bridges as jvb, and the web image reads neither.
    const jicofoPassword = secretEnv("JICOFO_AUTH_PASSWORD", secretName, "JICOFO_AUTH_PASSWORD");
    const accountPasswords = [jicofoPassword, secretEnv("JVB_AUTH_PASSWORD", secretName, "JVB_AUTH_PASSWORD")];

    // Read by prosody (who may log in), jicofo (who may open a room) and the web app (whether to offer a login).
    const authEnv =
      authentication.type === "none"
        ? plainEnv({ ENABLE_AUTH: "0" })
        : plainEnv({
            ENABLE_AUTH: "1",
            AUTH_TYPE: authentication.type,
            ENABLE_GUESTS: authentication.guests ? "1" : "0",
            ...(authentication.type === "jwt" ? { JWT_APP_ID: authentication.appId } : {}),
          });

    const labelsOf = (component: string) => appLabels("jitsi", component);
    const jitsiPods = { namespace, podLabels: { "app.kubernetes.io/name": "jitsi" } };

    // --- prosody: the XMPP server everything else connects to.
    const prosodyLabels = labelsOf("prosody");
    const prosodyPods = { namespace, podLabels: prosodyLabels };
    const turnEnv =
      args.turn === undefined
        ? []
        : [
            ...plainEnv({
              TURN_HOST: args.turn.host,
              TURN_PORT: "3478",
              // TURN exists here for clients that cannot send UDP: offer it over TCP (and TLS on 443 when enabled).
              TURN_TRANSPORT: "tcp",
              TURN_TTL: String(args.turn.credentialTtlSeconds),
              ...(args.turn.tls ? { TURNS_HOST: args.turn.host, TURNS_PORT: "443" } : {}),
            }),
            secretEnv("TURN_CREDENTIALS", secretName, "TURN_CREDENTIALS"),
          ];
    jitsiDeployment(name, "prosody", {
      namespace,
      replicas: 1,
      rollout: "replace",
      labels: prosodyLabels,
      container: {
        name: "prosody",
        image: image("prosody", defaultImages.jitsiProsody),
        env: [
          ...xmppSettings,
          ...accountPasswords,
          ...authEnv,
          ...turnEnv,
          // Only prosody verifies participants' tokens: the signing secret goes nowhere else.
          ...(jwtSecret === undefined ? [] : [secretEnv("JWT_APP_SECRET", secretName, "JWT_APP_SECRET")]),
        ],
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
    jitsiNetworkPolicy(
      name,
      "prosody",
      {
        namespace,
        podLabels: prosodyLabels,
        ingress: {
          from: [networkPolicyPeer(jitsiPods), networkPolicyPeer(bridgeMediaPods(bridgeNamespace, args.udpPort, args.jvb).pods)],
          ports: [jitsiPorts.xmppClient, jitsiPorts.bosh, jitsiPorts.component],
        },
        // Only answers: no server-to-server XMPP, and TURN credentials are computed, not fetched.
        egress: [],
      },
      child,
    );

    // --- jicofo: conference focus; picks a bridge per conference.
    const jicofoLabels = labelsOf("jicofo");
    jitsiDeployment(name, "jicofo", {
      namespace,
      replicas: 1,
      rollout: "replace",
      labels: jicofoLabels,
      container: {
        name: "jicofo",
        image: image("jicofo", defaultImages.jitsiJicofo),
        env: [
          ...xmppSettings,
          jicofoPassword,
          ...authEnv,
          ...plainEnv({
            // Without it jicofo.conf binds the REST port (health, the probes below) to loopback only.
            JICOFO_ENABLE_REST: "true",
            JICOFO_ENABLE_HEALTH_CHECKS: "true",
            ...(args.maxParticipantsPerBridge === undefined ? {} : { MAX_BRIDGE_PARTICIPANTS: String(args.maxParticipantsPerBridge) }),
            // A conference stays on its bridge until that bridge is full, then continues on the least loaded
            // other bridge of the region (ours is one: the whole cluster), relayed between the two.
            ...(relays
              ? { ENABLE_OCTO: "1", JICOFO_OCTO_REGION: jitsiRelayRegion, OCTO_BRIDGE_SELECTION_STRATEGY: "RegionBasedBridgeSelectionStrategy" }
              : {}),
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
    // jicofo steers the bridges over XMPP (colibri through the brewery MUC), never over their REST ports.
    jitsiNetworkPolicy(
      name,
      "jicofo",
      { namespace, podLabels: jicofoLabels, ingress: undefined, egress: [prosodyClientEgress(prosodyPods)] },
      child,
    );

    // --- web: the app, BOSH and XMPP WebSocket proxied to prosody.
    const webLabels = labelsOf("web");
    jitsiDeployment(name, "web", {
      namespace,
      replicas: args.webReplicas,
      rollout: "surge",
      labels: webLabels,
      container: {
        name: "web",
        image: image("web", defaultImages.jitsiWeb),
        // TLS ends at traefik; the container serves plain HTTP on 80 inside the cluster.
        env: [
          ...xmppSettings,
          ...authEnv,
          ...plainEnv({ DISABLE_HTTPS: "1", ENABLE_HTTP_REDIRECT: "0", ENABLE_LETSENCRYPT: "0", ENABLE_XMPP_WEBSOCKET: "1" }),
        ],
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
    // nginx proxies BOSH and the XMPP WebSocket to prosody; the bridge channels bypass it (traefik routes them).
    jitsiNetworkPolicy(
      name,
      "web",
      {
        namespace,
        podLabels: webLabels,
        ingress: { from: [networkPolicyPeer(args.ingress.traefikPods)], ports: [jitsiPorts.web] },
        egress: [podPortsEgressRule({ pods: prosodyPods, ports: [{ port: jitsiPorts.bosh, protocol: "TCP" }] })],
      },
      child,
    );
    // The shared security headers, except that the listed origins may frame the app (embedded meetings).
    const headers = new k8s.apiextensions.CustomResource(
      `${name}-web-headers`,
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: { name: "jitsi-web-headers", namespace, labels: webLabels },
        spec: { headers: securityHeadersAllowingFrames(args.embeddingOrigins) },
      },
      { ...child, dependsOn: args.ingress.dependencies },
    );
    ingressRoute(
      `${name}-route`,
      {
        objectName: "jitsi-web",
        namespace,
        binding: args.ingress,
        labels: webLabels,
        backends: { to: [networkPolicyPeer({ namespace, podLabels: webLabels })], ports: [{ port: jitsiPorts.web, protocol: "TCP" }] },
        routes: [
          {
            match: hostRule(args.host),
            target: { kind: "Service", name: web.metadata.name, port: jitsiPorts.web },
            adminOnly: false,
            headersMiddleware: headers.metadata.name,
          },
        ],
      },
      child,
    );

    declareBridges(
      name,
      {
        namespace: bridgeNamespace,
        host: args.host,
        ingress: args.ingress,
        udpPort: args.udpPort,
        exposure: args.jvb,
        placement: args.placement,
        turnPods: args.turn?.pods,
        prosodyPods,
        podCidrs: args.podCidrs,
        xmppEnv: [...xmppSettings, secretEnv("JVB_AUTH_PASSWORD", bridgeSecret.metadata.name, "JVB_AUTH_PASSWORD")],
        image: image("jvb", defaultImages.jitsiJvb),
        sizing: args.jvbSizing ?? sizing.jvb,
        relays,
      },
      child,
    );

    this.url = `https://${args.host}`;
    this.jwtSecret = jwtSecret === undefined ? undefined : pulumi.secret(jwtSecret);
    this.registerOutputs({ url: this.url, jwtSecret: this.jwtSecret });
  }
}
