import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { hostRule, ingressRoute, type IngressBinding, type RouteSpec } from "./ingress.js";
import { jitsiContainerSecurity, jitsiDeployment, jitsiPorts, prosodyClientEgress } from "./jitsiPods.js";
import {
  dnsEgressRule,
  networkPolicyPeer,
  outsidePodNetworkPeer,
  podPortsEgressRule,
  type PinnedPublicIp,
  type PodPeer,
  type PodPorts,
} from "./network.js";
import { callDrain, callDrainSeconds } from "./drain.js";
import { publicAddressInitContainer } from "./publicAddress.js";
import {
  appLabels,
  httpGetProbe,
  plainEnv,
  resourceRequirements,
  restrictedContainerSecurity,
  type MediaNodePlacement,
  type ResourceSizing,
} from "./workload.js";

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
      /** Bridges on `udpPort` of their node's public IP (from the instance metadata); a host port admits one per node. */
      kind: "hostPort";
      /** Number of bridges (at most the number of media nodes). */
      replicas: number;
    };

export interface BridgesArgs {
  /** Namespace of the bridges. */
  namespace: pulumi.Input<string>;
  /** Public Jitsi host: the colibri WebSocket URLs live under it. */
  host: string;
  /** The ingress the bridge-channel routes attach to. */
  ingress: IngressBinding;
  /** First UDP media port. */
  udpPort: number;
  /** Exposure and count. */
  exposure: JvbExposure;
  /** Media nodes; `undefined`: any node. */
  placement: MediaNodePlacement | undefined;
  /** The TURN server's pods and UDP ports when it runs in this cluster; `undefined`: elsewhere or none. */
  turnPods: PodPorts | undefined;
  /** Prosody's pods: the bridges log in there. */
  prosodyPods: PodPeer;
  /** The cluster's pod ranges: media egress excludes them. */
  podCidrs: readonly string[];
  /** The bridges' XMPP environment: the settings every Jitsi component shares, and the bridges' own password. */
  xmppEnv: k8s.types.input.core.v1.EnvVar[];
  /** JVB image. */
  image: string;
  /** CPU/memory of each bridge. */
  sizing: ResourceSizing;
  /** Whether a conference may span bridges (relays); jicofo must agree (`ENABLE_OCTO` on both). */
  relays: boolean;
}

/** The relay region of every bridge and of jicofo: all bridges of a stack share one cluster, so one region. */
export const jitsiRelayRegion = "cluster";

/**
 * The videobridges: one Deployment per bridge, so each has a stable server id (`jvb-N`) that the colibri
 * WebSocket route can address, plus the media exposure and a NetworkPolicy.
 */
export function declareBridges(name: string, args: BridgesArgs, child: pulumi.CustomResourceOptions): void {
  const { namespace, exposure } = args;
  const jvbLabels = appLabels("jitsi", "jvb");
  const placement =
    args.placement === undefined ? {} : { nodeSelector: args.placement.nodeSelector, tolerations: args.placement.tolerations };
  const pinned = exposure.kind === "loadBalancer" ? exposure.publicIp : undefined;
  // Never STUN: the image's default server is outside (a start-up dependency on a third party), and our own TURN
  // service, asked from inside the cluster, answers with a pod address (kube-proxy short-circuits its LoadBalancer IP).
  // Host-port bridges advertise their node's public IP, which an init container reads from the instance metadata
  // and the container exports before the image's init renders jvb.conf from the environment.
  const nodeAddress = exposure.kind === "hostPort";
  const addressEnv = plainEnv({
    JVB_DISABLE_STUN: "true",
    ...(pinned === undefined ? {} : { JVB_ADVERTISE_IPS: pinned.address }),
  });
  const addressVolume = { name: "public-address", mountPath: "/run/public-address" };
  const addressFile = `${addressVolume.mountPath}/ip`;
  const drain = callDrain(bridgeDrainScript(callDrainSeconds));
  const colibriRoutes: RouteSpec[] = [];

  for (let bridge = 0; bridge < exposure.replicas; bridge++) {
    const bridgeId = `jvb-${bridge}`;
    const port = bridgeMediaPort(args.udpPort, exposure, bridge);
    const labels = { ...jvbLabels, "mediaplane.io/bridge": String(bridge) };
    jitsiDeployment(name, bridgeId, {
      namespace,
      replicas: 1,
      // Never two processes of one bridge: they would fight over its port and its id.
      rollout: "replace",
      labels,
      container: {
        name: "jvb",
        image: args.image,
        env: [
          ...args.xmppEnv,
          ...plainEnv({
            JVB_PORT: String(port),
            COLIBRI_REST_ENABLED: "true",
            // POST /colibri/shutdown on the private REST port: the preStop hook's graceful shutdown.
            SHUTDOWN_REST_ENABLED: "true",
            ENABLE_COLIBRI_WEBSOCKET: "1",
            JVB_WS_DOMAIN: args.host,
            JVB_WS_SERVER_ID: bridgeId,
            // Relays reach each other over ICE on the media ports and keep their data channel on SCTP.
            ...(args.relays ? { ENABLE_OCTO: "1", JVB_OCTO_RELAY_ID: bridgeId, JVB_OCTO_REGION: jitsiRelayRegion } : {}),
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
        resources: resourceRequirements(args.sizing),
        securityContext: jitsiContainerSecurity(),
        lifecycle: drain.lifecycle,
        ...(nodeAddress
          ? {
              // The image's entrypoint (s6-overlay's /init) passes its environment on to jvb.conf's template.
              command: ["/bin/sh", "-c", `JVB_ADVERTISE_IPS="$(cat ${addressFile})"; export JVB_ADVERTISE_IPS; exec /init`],
              volumeMounts: [{ ...addressVolume, readOnly: true }],
            }
          : {}),
      },
      podSpec: {
        ...placement,
        terminationGracePeriodSeconds: drain.terminationGracePeriodSeconds,
        ...(nodeAddress
          ? {
              // The Jitsi images start as root: the address lookup needs no identity, so it runs as nobody.
              initContainers: [
                publicAddressInitContainer(args.image, addressFile, addressVolume, {
                  ...restrictedContainerSecurity(),
                  runAsUser: 65534,
                  runAsGroup: 65534,
                }),
              ],
              volumes: [{ name: addressVolume.name, emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }],
            }
          : {}),
      },
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
    {
      objectName: "jitsi-colibri",
      namespace,
      binding: args.ingress,
      labels: jvbLabels,
      backends: {
        to: [networkPolicyPeer({ namespace, podLabels: jvbLabels })],
        ports: [{ port: jitsiPorts.jvbColibriWebSocket, protocol: "TCP" }],
      },
      routes: colibriRoutes,
    },
    child,
  );
  new k8s.networking.v1.NetworkPolicy(
    `${name}-jvb-netpol`,
    {
      metadata: { name: "jvb", namespace, labels: jvbLabels },
      spec: {
        podSelector: { matchLabels: jvbLabels },
        policyTypes: ["Ingress", "Egress"],
        // Media from anywhere, bridge channels from traefik; the REST port stays closed to other pods.
        ingress: [
          { ports: bridgeMediaPods(namespace, args.udpPort, exposure).ports },
          { from: [networkPolicyPeer(args.ingress.traefikPods)], ports: [{ port: jitsiPorts.jvbColibriWebSocket, protocol: "TCP" }] },
        ],
        egress: [
          dnsEgressRule(),
          prosodyClientEgress(args.prosodyPods),
          // ICE checks, STUN and media go to wherever clients are, private networks (VPNs, peered networks) included;
          // only the pods stay out of reach.
          { to: [outsidePodNetworkPeer(args.podCidrs)], ports: [{ protocol: "UDP" }] },
          // The TURN server's public address, used from inside the cluster, is delivered to its pod directly
          // (kube-proxy short-circuits LoadBalancer addresses), so relayed candidates need its pods.
          ...(args.turnPods === undefined ? [] : [podPortsEgressRule(args.turnPods)]),
          // Relayed bridges reach each other at their advertised addresses, which from inside the cluster are
          // their pods (private candidates, or a LoadBalancer address kube-proxy short-circuits).
          ...(args.relays ? [podPortsEgressRule(bridgeMediaPods(namespace, args.udpPort, exposure))] : []),
        ],
      },
    },
    child,
  );
}

/** Behind the shared static IP each bridge needs its own port; on host ports every node has the same one. */
function bridgeMediaPort(udpPort: number, exposure: JvbExposure, bridge: number): number {
  return exposure.kind === "loadBalancer" ? udpPort + bridge : udpPort;
}

/** The bridges' pods and their UDP media ports: what a relay in the cluster sends media to. */
export function bridgeMediaPods(namespace: pulumi.Input<string>, udpPort: number, exposure: JvbExposure): PodPorts {
  const ports = new Set<number>();
  for (let bridge = 0; bridge < exposure.replicas; bridge++) ports.add(bridgeMediaPort(udpPort, exposure, bridge));
  return {
    pods: { namespace, podLabels: appLabels("jitsi", "jvb") },
    ports: [...ports].map((port) => ({ port, protocol: "UDP" })),
  };
}

/**
 * The bridge's preStop hook (bash, curl and jq of the jvb image): the graceful shutdown of jitsi-videobridge's own
 * resources/graceful_shutdown.sh, without its pid file. It asks for a graceful shutdown (jicofo moves no new
 * conference here), waits while conferences with participants remain, at most `deadlineSeconds`; the bridge then
 * exits by itself and the image's finish script stops the container.
 */
export function bridgeDrainScript(deadlineSeconds: number): string {
  const rest = `http://127.0.0.1:${jitsiPorts.jvbRest}/colibri`;
  return [
    `status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"graceful-shutdown":"true"}' ${rest}/shutdown)`,
    `if [ "$status" != 200 ]; then echo "drain: the bridge refused a graceful shutdown (HTTP $status)" >&2; exit 0; fi`,
    `end=$(( $(date +%s) + ${deadlineSeconds} ))`,
    `while [ "$(date +%s)" -lt "$end" ]; do`,
    // Conferences without participants do not hold the bridge (graceful_shutdown.sh counts them out the same way).
    `  busy=$(curl -s --max-time 5 ${rest}/stats | jq '.conferences - .conference_sizes[0]') || exit 0`,
    `  [ "$busy" -gt 0 ] 2>/dev/null || exit 0`,
    "  sleep 10",
    "done",
    `echo "drain: conferences still running after ${deadlineSeconds}s" >&2`,
  ].join("\n");
}
