import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { coturnPorts, renderCertificateReloader, renderTurnServerConfig, validatePortRange, type PortRange } from "./render/coturn.js";
import { assertPinnedImage, defaultImages } from "./versions.js";
import {
  appLabels,
  secretContentHash,
  nonRootPodSecurity,
  resourceRequirements,
  restrictedContainerSecurity,
  tcpProbe,
  type MediaNodePlacement,
  type ResourceSizing,
} from "./workload.js";
import { dnsEgressRule, internetPeer, podPortsEgressRule, type PinnedPublicIp, type PodPorts } from "./network.js";

export interface CoturnArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace to run in (must exist). */
  namespace: pulumi.Input<string>;
  /** TURN host name (realm and TLS name), e.g. `turn.example.org`. */
  realm: string;
  /** The TURN static IP: the LoadBalancer is pinned to it and coturn advertises it; omit on a laptop cluster. */
  publicIp?: PinnedPublicIp;
  /** UDP relay ports, published one by one on the LoadBalancer: keep the range small (a few hundred). */
  relayPorts: PortRange;
  /** A `kubernetes.io/tls` Secret for `realm`; without it TURN over TLS (443) is off. */
  tlsSecretName?: pulumi.Input<string>;
  /** The cluster's pod ranges: relays never reach them (besides `relayTargetsInCluster`). */
  podCidrs: readonly string[];
  /**
   * Pods behind LoadBalancer addresses of this cluster that clients relay media to (the Jitsi bridges). A relay to
   * such an address never leaves the node: kube-proxy delivers it to the pod, so the egress rule must name the pod.
   */
  relayTargetsInCluster?: readonly PodPorts[];
  /** Offer TCP relays (RFC 6062); default off: media needs UDP relays only. */
  tcpRelay?: boolean;
  /** Where to run; default any node. */
  placement?: MediaNodePlacement;
  /** Image reference; default the pinned upstream release. */
  image?: string;
  /** CPU/memory; default 200m/128Mi requests, 2 CPU/512Mi limits. */
  sizing?: ResourceSizing;
}

const uid = 65534; // `nobody`, the user the coturn image runs as
const defaultSizing: ResourceSizing = { cpuRequest: "200m", memoryRequest: "128Mi", cpuLimit: "2", memoryLimit: "512Mi" };
const reloaderSizing: ResourceSizing = { cpuRequest: "5m", memoryRequest: "8Mi", cpuLimit: "50m", memoryLimit: "32Mi" };
const tlsDir = "/etc/coturn/tls";
const reloaderStateFile = "/run/reloader/loaded";
/** A readlink and a sleep per round: cheap enough that a renewal reaches coturn within seconds. */
const reloaderIntervalSeconds = 10;
/** The reloader's loop rewrites its state file every round; older than this, it has hung. */
const reloaderStaleSeconds = 6 * reloaderIntervalSeconds;

/**
 * coturn, shared by Jitsi and Janus clients that cannot reach media over UDP: TURN REST credentials from a static
 * auth secret, UDP/TCP 3478 and TLS on 443 on the TURN static IP, relayed media on a fixed UDP range.
 *
 * Exactly one replica: an allocation lives in one process, and peers reach it through the shared IP's relay port,
 * which the load balancer could hand to another replica. More capacity means another TURN IP, not more replicas.
 */
export class Coturn extends pulumi.ComponentResource {
  /** The static auth secret applications sign TURN credentials with: a secret. */
  readonly staticAuthSecret: pulumi.Output<string>;
  /** `turn:` and `turns:` URIs to hand to clients. */
  readonly uris: string[];
  /**
   * Its pods and UDP ports (STUN/TURN listener and relays). Pods of this cluster sending to the TURN static IP
   * reach these pods directly (kube-proxy short-circuits LoadBalancer addresses): their egress must name them.
   */
  readonly inClusterUdp: PodPorts;

  constructor(name: string, args: CoturnArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:Coturn", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = args.namespace;
    const labels = appLabels("coturn", "turn");
    const image = assertPinnedImage(`${name}.image`, args.image ?? defaultImages.coturn);
    validatePortRange("relayPorts", args.relayPorts);
    const tlsEnabled = args.tlsSecretName !== undefined;

    const inClusterUdp: PodPorts = {
      pods: { namespace, podLabels: labels },
      ports: [
        { port: coturnPorts.listening, protocol: "UDP" },
        { port: args.relayPorts.min, endPort: args.relayPorts.max, protocol: "UDP" },
      ],
    };

    const authSecret = new random.RandomPassword(`${name}-auth-secret`, { length: 48, special: false }, { parent: this });
    const configText = pulumi.all([args.publicIp?.address, authSecret.result]).apply(([externalIp, staticAuthSecret]) =>
      renderTurnServerConfig({
        realm: args.realm,
        externalIp,
        staticAuthSecret,
        relayPorts: args.relayPorts,
        tls: tlsEnabled ? { certFile: `${tlsDir}/tls.crt`, keyFile: `${tlsDir}/tls.key` } : undefined,
        tcpRelay: args.tcpRelay ?? false,
      }),
    );
    const config = new k8s.core.v1.Secret(
      `${name}-config`,
      { metadata: { name: "coturn-config", namespace, labels }, type: "Opaque", stringData: { "turnserver.conf": pulumi.secret(configText) } },
      child,
    );

    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "coturn", namespace, labels },
        spec: {
          replicas: 1,
          // Never two processes on the same relay ports behind one IP (see the class comment).
          strategy: { type: "Recreate" },
          selector: { matchLabels: labels },
          template: {
            // The hash covers turnserver.conf only: a renewed turn-tls reaches coturn by the reloader's signal, never
            // by a restart that would end every relayed call.
            metadata: { labels, annotations: { "mediaplane/config-hash": secretContentHash(configText) } },
            spec: {
              securityContext: nonRootPodSecurity(uid),
              // The reloader signals turnserver, which it can only see in one PID namespace with it.
              ...(tlsEnabled ? { shareProcessNamespace: true } : {}),
              // No Kubernetes API access: no service account token in the pod.
              automountServiceAccountToken: false,
              ...(args.placement === undefined ? {} : { nodeSelector: args.placement.nodeSelector, tolerations: args.placement.tolerations }),
              containers: [
                {
                  name: "coturn",
                  image,
                  // The binary itself, not the image's entrypoint script: what runs is what the manifest says.
                  command: ["turnserver"],
                  args: ["-c", "/etc/coturn/turnserver.conf"],
                  ports: [
                    { name: "turn-udp", containerPort: coturnPorts.listening, protocol: "UDP" },
                    { name: "turn-tcp", containerPort: coturnPorts.listening, protocol: "TCP" },
                    ...(tlsEnabled ? [{ name: "turns", containerPort: coturnPorts.tls, protocol: "TCP" }] : []),
                  ],
                  readinessProbe: tcpProbe("turn-tcp", 5),
                  livenessProbe: { ...tcpProbe("turn-tcp", 15), initialDelaySeconds: 5 },
                  resources: resourceRequirements(args.sizing ?? defaultSizing),
                  securityContext: coturnContainerSecurity(),
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/coturn/turnserver.conf", subPath: "turnserver.conf", readOnly: true },
                    ...(tlsEnabled ? [{ name: "tls", mountPath: tlsDir, readOnly: true }] : []),
                    { name: "state", mountPath: "/var/lib/coturn" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
                ...(tlsEnabled ? [certificateReloader(image)] : []),
              ],
              volumes: [
                { name: "config", secret: { secretName: config.metadata.name } },
                ...(args.tlsSecretName === undefined
                  ? []
                  : [{ name: "tls", secret: { secretName: args.tlsSecretName } }, { name: "reloader-state", emptyDir: { sizeLimit: "1Mi" } }]),
                { name: "state", emptyDir: { sizeLimit: "64Mi" } },
                { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
              ],
            },
          },
        },
      },
      child,
    );

    new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "coturn", namespace, labels, ...(args.publicIp === undefined ? {} : { annotations: args.publicIp.serviceAnnotations }) },
        spec: {
          type: "LoadBalancer",
          // Keeps client addresses: coturn's permissions and logs are per client address.
          externalTrafficPolicy: "Local",
          selector: labels,
          ports: [
            { name: "turn-udp", port: coturnPorts.listening, targetPort: coturnPorts.listening, protocol: "UDP" },
            { name: "turn-tcp", port: coturnPorts.listening, targetPort: coturnPorts.listening, protocol: "TCP" },
            ...(tlsEnabled ? [{ name: "turns", port: 443, targetPort: coturnPorts.tls, protocol: "TCP" }] : []),
            ...relayServicePorts(args.relayPorts),
          ],
        },
      },
      child,
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: "coturn", namespace, labels },
        spec: {
          podSelector: { matchLabels: labels },
          policyTypes: ["Ingress", "Egress"],
          // Public by nature: listeners and relay ports only.
          ingress: [
            {
              ports: [
                { port: coturnPorts.listening, protocol: "UDP" },
                { port: coturnPorts.listening, protocol: "TCP" },
                ...(tlsEnabled ? [{ port: coturnPorts.tls, protocol: "TCP" }] : []),
                { port: args.relayPorts.min, endPort: args.relayPorts.max, protocol: "UDP" },
              ],
            },
          ],
          // Relaying media to any public address is the job; the cluster, its nodes and the metadata service stay
          // out of reach (the classic TURN SSRF), here as well as in turnserver.conf's denied-peer-ip ranges.
          egress: [
            dnsEgressRule(),
            { to: [internetPeer(args.podCidrs)], ports: [{ protocol: "UDP" }, { protocol: "TCP" }] },
            // Relay to relay (two TURN-only clients) goes to its own static IP, which kube-proxy hands back to this pod.
            podPortsEgressRule(inClusterUdp),
            ...(args.relayTargetsInCluster ?? []).map(podPortsEgressRule),
          ],
        },
      },
      child,
    );

    this.inClusterUdp = inClusterUdp;
    this.staticAuthSecret = pulumi.secret(authSecret.result);
    this.uris = [
      `turn:${args.realm}:${coturnPorts.listening}?transport=udp`,
      `turn:${args.realm}:${coturnPorts.listening}?transport=tcp`,
      ...(tlsEnabled ? [`turns:${args.realm}:443?transport=tcp`] : []),
    ];
    this.registerOutputs({ staticAuthSecret: this.staticAuthSecret, uris: this.uris });
  }
}

/**
 * The restricted profile, keeping NET_BIND_SERVICE: the image gives `turnserver` the file capability
 * `cap_net_bind_service=+ep` (docker/coturn/debian/Dockerfile), and the kernel refuses to exec a binary whose file
 * capabilities the bounding set lacks (EPERM), so with ALL dropped the container never starts. coturn then runs with
 * NET_BIND_SERVICE effective and nothing else; it listens on unprivileged ports all the same. NET_BIND_SERVICE is
 * the one capability Pod Security's `restricted` level lets a container add.
 */
function coturnContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
  return { ...restrictedContainerSecurity(), capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } };
}

/**
 * Sends turnserver SIGUSR2 when the kubelet swaps the turn-tls volume's `..data` (see renderCertificateReloader).
 * The coturn image, so no other image is pulled; coturn's user and no capability at all: the kernel lets a process
 * signal another of the same uid, file capabilities or not. Ready as soon as it has recorded the certificate in
 * use, so it never holds TURN out of service; live while its loop keeps rewriting that record.
 */
function certificateReloader(image: string): k8s.types.input.core.v1.Container {
  const stateDir = reloaderStateFile.slice(0, reloaderStateFile.lastIndexOf("/"));
  const loopAlive = `test $(( $(date +%s) - $(stat -c %Y ${reloaderStateFile}) )) -lt ${reloaderStaleSeconds}`;
  return {
    name: "certificate-reloader",
    image,
    command: ["sh", "-c", renderCertificateReloader({ certDir: tlsDir, stateFile: reloaderStateFile, intervalSeconds: reloaderIntervalSeconds })],
    readinessProbe: { exec: { command: ["test", "-e", reloaderStateFile] }, periodSeconds: 10 },
    livenessProbe: { exec: { command: ["sh", "-c", loopAlive] }, periodSeconds: 30, initialDelaySeconds: reloaderStaleSeconds },
    resources: resourceRequirements(reloaderSizing),
    securityContext: restrictedContainerSecurity(),
    volumeMounts: [
      { name: "tls", mountPath: tlsDir, readOnly: true },
      { name: "reloader-state", mountPath: stateDir },
    ],
  };
}

/** A Service lists ports one by one: one UDP entry per relay port. */
function relayServicePorts(range: PortRange): k8s.types.input.core.v1.ServicePort[] {
  const ports: k8s.types.input.core.v1.ServicePort[] = [];
  for (let port = range.min; port <= range.max; port++) ports.push({ name: `relay-${port}`, port, targetPort: port, protocol: "UDP" });
  return ports;
}
