import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PortRange } from "./render/coturn.js";
import { janusDrainScript, janusPaths, janusPorts, renderJanusConfig, type JanusVideoRoom } from "./render/janus.js";
import { callDrain, callDrainSeconds } from "./drain.js";
import { mediaUser } from "./mediaUser.js";
import { publicAddressInitContainer } from "./publicAddress.js";
import {
  appLabels,
  secretContentHash,
  disruptionBudgetFor,
  httpGetProbe,
  nonRootPodSecurity,
  resourceRequirements,
  restrictedContainerSecurity,
  tcpProbe,
  type MediaNodePlacement,
  type ResourceSizing,
} from "./workload.js";
import { hostRule, ingressRoute, type IngressBinding, type RouteSpec } from "./ingress.js";
import { nodeAddressPeers } from "./network.js";
import { janusRecordingsFolder, recordingVolume, type RecordingStorage } from "./recordings.js";

/** How Janus learns the address to put in its ICE candidates. */
export type JanusPublicAddress =
  /** Each media node's own public IP, read from the Azure instance metadata (load balancer view) when the pod starts. */
  | { kind: "nodePublicIp" }
  /** One known address. */
  | { kind: "fixed"; address: string }
  /** No mapping: the pod's own addresses are what clients reach (a laptop cluster). */
  | { kind: "podAddress" };

export interface JanusArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /** Janus image, by digest (built from `images/janus`) or a pinned tag; it must contain `curl` for address discovery. */
  image: pulumi.Input<string>;
  /** Public host of the API (HTTPS and WSS through traefik), e.g. `janus.example.org`. */
  host: string;
  /** The ingress the route attaches to. */
  ingress: IngressBinding;
  /** Janus instances, at most one per media node (host networking). */
  replicas: number;
  /** UDP media ports; the media nodes must allow them (AKS `allowedHostPorts`). */
  rtpPorts: PortRange;
  /** Address for ICE candidates (`nat_1_1_mapping`). */
  publicAddress: JanusPublicAddress;
  /** The recordings volume, of which Janus mounts only its own folder; `undefined` turns recording off. */
  recordings: RecordingStorage | undefined;
  /** Media nodes; `undefined` (laptop cluster): any node. */
  placement: MediaNodePlacement | undefined;
  /** The cluster's pod ranges: traefik reaches the host-network pods at node addresses, outside these. */
  podCidrs: readonly string[];
  /** Video rooms that exist from the start. */
  rooms?: readonly JanusVideoRoom[];
  /** Browser origin allowed to call the API; default `https://<host>`. */
  allowedOrigin?: string;
  /** CPU/memory; default 500m/512Mi requests, 4 CPU/2Gi limits. */
  sizing?: ResourceSizing;
}

const publicIpFile = "/run/janus/public-ip";
const defaultSizing: ResourceSizing = { cpuRequest: "500m", memoryRequest: "512Mi", cpuLimit: "4", memoryLimit: "2Gi" };
/** traefik's cookie pinning an HTTP API client to the instance that holds its session. */
export const janusStickyCookie = "janus_instance";
/** Path prefix of one instance's own address; traefik strips it before the request reaches Janus. */
const instancePathPrefix = "/instance/";

/** The API addresses of one Janus instance, where every participant of a room that instance holds is sent. */
export interface JanusInstanceEndpoint {
  /** The StatefulSet ordinal: pod `janus-<ordinal>`. */
  ordinal: number;
  websocket: string;
  http: string;
}

/** Each instance's own address on the Janus host: `/instance/<n>/` for WebSocket, `/instance/<n>/janus` for HTTP. */
export function janusInstanceEndpoints(host: string, replicas: number): JanusInstanceEndpoint[] {
  return Array.from({ length: replicas }, (_, ordinal) => ({
    ordinal,
    websocket: `wss://${host}${instancePathPrefix}${ordinal}/`,
    http: `https://${host}${instancePathPrefix}${ordinal}${janusPaths.api}`,
  }));
}

/**
 * The Janus WebRTC gateway on the media nodes. Host networking puts it directly on the node's public IP, so ICE
 * sees no port-remapping NAT; `nat_1_1_mapping` advertises that IP and media stays in the fixed RTP range.
 * The HTTP and WebSocket APIs are published through traefik on the Janus host; the admin API listens on loopback only.
 *
 * Sessions and rooms live in one Janus process. With several instances behind the one host, a WebSocket client keeps
 * its instance for the connection's life; an HTTP (long-poll) client is pinned by traefik's sticky cookie, which the
 * client must send back (janus.js: `withCredentials`; Janus allows credentials for the configured origin).
 * A room exists only on the instance where it was created, so each instance also has an address of its own
 * (`/instance/<n>/` on the same host, see `janusInstanceEndpoints`): a room lives on one instance and every
 * participant of it is sent to that instance's address. A StatefulSet gives the instances those stable ordinals.
 *
 * A pod being replaced first waits (preStop, up to `callDrainSeconds`) until no session is left.
 *
 * No NetworkPolicy of its own: policies do not apply to host-network pods, neither to what they accept nor to
 * what they send. The node's network security group (AKS `allowedHostPorts`) opens only the RTP range; the API
 * ports are reachable inside the virtual network, where traefik is (its egress to node addresses is declared here).
 */
export class Janus extends pulumi.ComponentResource {
  /** Secret that signs client tokens (`token_auth`): a secret. */
  readonly tokenAuthSecret: pulumi.Output<string>;
  /** Admin API secret (loopback only): a secret. */
  readonly adminSecret: pulumi.Output<string>;
  /** Key for creating video rooms: a secret. */
  readonly videoRoomAdminKey: pulumi.Output<string>;
  /** Each instance's own address: where a room's participants go. */
  readonly instanceEndpoints: readonly JanusInstanceEndpoint[];

  constructor(name: string, args: JanusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:Janus", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = args.namespace;
    const labels = appLabels("janus", "gateway");
    const secretOf = (purpose: string) =>
      new random.RandomPassword(`${name}-${purpose}`, { length: 40, special: false }, { parent: this }).result;
    const adminSecret = secretOf("admin-secret");
    const tokenAuthSecret = secretOf("token-auth-secret");
    const videoRoomAdminKey = secretOf("videoroom-admin-key");

    const files = pulumi.all([adminSecret, tokenAuthSecret, videoRoomAdminKey]).apply(([admin, token, roomKey]) =>
      renderJanusConfig({
        serverName: args.host,
        adminSecret: admin,
        tokenAuthSecret: token,
        videoRoomAdminKey: roomKey,
        nat1to1Mapping: args.publicAddress.kind === "fixed" ? args.publicAddress.address : undefined,
        rtpPorts: args.rtpPorts,
        allowedOrigin: args.allowedOrigin ?? `https://${args.host}`,
        rooms: args.recordings === undefined ? [] : (args.rooms ?? []),
        debugLevel: 4,
      }),
    );
    const config = new k8s.core.v1.Secret(
      `${name}-config`,
      {
        metadata: { name: "janus-config", namespace, labels },
        type: "Opaque",
        stringData: pulumi.secret(files.apply((rendered) => ({ ...rendered }))),
      },
      child,
    );

    const nodeAddressDiscovery = args.publicAddress.kind === "nodePublicIp";
    const janusCommand = nodeAddressDiscovery
      ? ["sh", "-c", `exec janus --configs-folder=${janusPaths.configs} --nat-1-1="$(cat ${publicIpFile})"`]
      : ["janus", `--configs-folder=${janusPaths.configs}`];
    const runtimeVolume = { name: "run", mountPath: "/run/janus" };
    const drain = callDrain(janusDrainScript(callDrainSeconds));

    const statefulSetName = "janus";
    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: statefulSetName, namespace, labels },
        spec: {
          replicas: args.replicas,
          serviceName: "janus",
          // Instances are independent of each other: start and replace them without waiting for lower ordinals.
          podManagementPolicy: "Parallel",
          // One instance at a time, each draining its calls first (preStop).
          updateStrategy: { type: "RollingUpdate" },
          selector: { matchLabels: labels },
          template: {
            metadata: { labels, annotations: { "mediaplane/config-hash": secretContentHash(files.apply((rendered) => JSON.stringify(rendered))) } },
            spec: {
              // Not "restricted": host networking is the point (public IP without NAT); everything else is.
              hostNetwork: true,
              dnsPolicy: "ClusterFirstWithHostNet",
              securityContext: nonRootPodSecurity(mediaUser.uid, mediaUser.gid),
              // No Kubernetes API access: no service account token in the pod.
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: drain.terminationGracePeriodSeconds,
              ...(args.placement === undefined ? {} : { nodeSelector: args.placement.nodeSelector, tolerations: args.placement.tolerations }),
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" }],
                },
              },
              initContainers: nodeAddressDiscovery
                ? [publicAddressInitContainer(args.image, publicIpFile, runtimeVolume, restrictedContainerSecurity())]
                : [],
              containers: [
                {
                  name: "janus",
                  image: args.image,
                  command: janusCommand,
                  ports: [
                    { name: "http", containerPort: janusPorts.http, protocol: "TCP" },
                    { name: "websocket", containerPort: janusPorts.websocket, protocol: "TCP" },
                  ],
                  readinessProbe: httpGetProbe(`${janusPaths.api}/info`, "http", 5),
                  livenessProbe: { ...tcpProbe("http", 10), initialDelaySeconds: 10 },
                  lifecycle: drain.lifecycle,
                  resources: resourceRequirements(args.sizing ?? defaultSizing),
                  securityContext: restrictedContainerSecurity(),
                  volumeMounts: [
                    { name: "config", mountPath: janusPaths.configs, readOnly: true },
                    runtimeVolume,
                    ...(args.recordings === undefined ? [] : [{ name: "recordings", mountPath: janusPaths.recordings, subPath: janusRecordingsFolder }]),
                  ],
                },
              ],
              volumes: [
                { name: "config", secret: { secretName: config.metadata.name } },
                { name: "run", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
                ...(args.recordings === undefined ? [] : [recordingVolume("recordings", args.recordings)]),
              ],
            },
          },
        },
      },
      // Host networking: an instance of a replacing StatefulSet could not bind its ports on a node the old one holds.
      { ...child, deleteBeforeReplace: true },
    );
    disruptionBudgetFor(`${name}-pdb`, { namespace, selector: labels, replicas: args.replicas }, child);

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "janus", namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: labels,
          // The admin port is deliberately absent: it is reachable only from inside the pod.
          ports: [
            { name: "http", port: janusPorts.http, targetPort: "http", protocol: "TCP" },
            { name: "websocket", port: janusPorts.websocket, targetPort: "websocket", protocol: "TCP" },
          ],
        },
      },
      child,
    );

    const instances = janusInstanceEndpoints(args.host, args.replicas);
    const instanceServices = instances.map(
      ({ ordinal }) =>
        new k8s.core.v1.Service(
          `${name}-instance-${ordinal}`,
          {
            metadata: { name: `janus-${ordinal}`, namespace, labels },
            spec: {
              type: "ClusterIP",
              // The StatefulSet controller labels each pod with its own name (apps/v1 `statefulset.kubernetes.io/pod-name`).
              selector: { ...labels, "statefulset.kubernetes.io/pod-name": `${statefulSetName}-${ordinal}` },
              ports: [
                { name: "http", port: janusPorts.http, targetPort: "http", protocol: "TCP" },
                { name: "websocket", port: janusPorts.websocket, targetPort: "websocket", protocol: "TCP" },
              ],
            },
          },
          child,
        ),
    );
    const stripInstancePrefix = new k8s.apiextensions.CustomResource(
      `${name}-strip-instance-prefix`,
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: { name: "janus-strip-instance-prefix", namespace, labels },
        spec: { stripPrefixRegex: { regex: [`^${instancePathPrefix}[0-9]+`] } },
      },
      { ...child, dependsOn: args.ingress.dependencies },
    );
    const websocketUpgrade = "HeaderRegexp(`Upgrade`, `(?i)^websocket$`)";

    ingressRoute(
      `${name}-route`,
      {
        objectName: "janus",
        namespace,
        binding: args.ingress,
        labels,
        // The Service's endpoints are node addresses (host network), which no pod selector matches.
        backends: {
          to: nodeAddressPeers(args.podCidrs),
          ports: [
            { port: janusPorts.http, protocol: "TCP" },
            { port: janusPorts.websocket, protocol: "TCP" },
          ],
        },
        routes: [
          // Janus speaks WebSocket on its own port, any path: upgrades go there, everything else to the HTTP API.
          // An instance's own address first: a room's participants all reach the instance that holds it.
          ...instances.flatMap(({ ordinal }): RouteSpec[] => {
            const prefix = `PathPrefix(\`${instancePathPrefix}${ordinal}/\`)`;
            const service = instanceServices[ordinal]!.metadata.name;
            return [
              {
                match: `${hostRule(args.host)} && ${prefix} && ${websocketUpgrade}`,
                target: { kind: "Service", name: service, port: janusPorts.websocket },
                rewriteMiddleware: stripInstancePrefix.metadata.name,
                adminOnly: false,
              },
              {
                match: `${hostRule(args.host)} && PathPrefix(\`${instancePathPrefix}${ordinal}${janusPaths.api}\`)`,
                target: { kind: "Service", name: service, port: janusPorts.http },
                rewriteMiddleware: stripInstancePrefix.metadata.name,
                adminOnly: false,
              },
            ];
          }),
          // Any instance otherwise; never an instance's own address, whatever the rules' priorities.
          {
            match: `${hostRule(args.host)} && !PathPrefix(\`${instancePathPrefix}\`) && ${websocketUpgrade}`,
            target: { kind: "Service", name: service.metadata.name, port: janusPorts.websocket },
            adminOnly: false,
          },
          {
            match: `${hostRule(args.host)} && PathPrefix(\`${janusPaths.api}\`)`,
            target: {
              kind: "Service",
              name: service.metadata.name,
              port: janusPorts.http,
              // Cross-site API calls from the app's origin: the cookie must be SameSite=None, hence Secure.
              sticky: { cookie: { name: janusStickyCookie, secure: true, httpOnly: true, sameSite: "none" } },
            },
            adminOnly: false,
          },
        ],
      },
      child,
    );

    this.tokenAuthSecret = pulumi.secret(tokenAuthSecret);
    this.adminSecret = pulumi.secret(adminSecret);
    this.videoRoomAdminKey = pulumi.secret(videoRoomAdminKey);
    this.instanceEndpoints = instances;
    this.registerOutputs({
      tokenAuthSecret: this.tokenAuthSecret,
      adminSecret: this.adminSecret,
      videoRoomAdminKey: this.videoRoomAdminKey,
      instanceEndpoints: this.instanceEndpoints,
    });
  }
}
