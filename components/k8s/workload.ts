import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";


/** Requests are what the scheduler reserves; limits are where the kernel throttles (CPU) or kills (memory). */
export interface ResourceSizing {
  /** CPU reserved for the container, e.g. `"250m"`. */
  cpuRequest: string;
  /** Memory reserved for the container, e.g. `"256Mi"`. */
  memoryRequest: string;
  /** CPU ceiling, e.g. `"1"`. */
  cpuLimit: string;
  /** Memory ceiling; the container is OOM-killed above it, e.g. `"512Mi"`. */
  memoryLimit: string;
}

export function resourceRequirements(sizing: ResourceSizing): k8s.types.input.core.v1.ResourceRequirements {
  return {
    requests: { cpu: sizing.cpuRequest, memory: sizing.memoryRequest },
    limits: { cpu: sizing.cpuLimit, memory: sizing.memoryLimit },
  };
}

/** The recommended labels; `selectorLabels` is the stable subset a selector may use. */
export function appLabels(name: string, component: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component, "app.kubernetes.io/part-of": "mediaplane" };
}

/**
 * The Kubernetes "restricted" pod security profile for one container: no root, no privilege escalation,
 * no capabilities, read-only root file system (writable paths are mounted explicitly).
 */
export function restrictedContainerSecurity(options: { readOnlyRootFilesystem?: boolean } = {}): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    readOnlyRootFilesystem: options.readOnlyRootFilesystem ?? true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod-level identity: every container runs as `uid`, and mounted volumes are group-owned by it. */
export function nonRootPodSecurity(uid: number): k8s.types.input.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    // Re-chown a volume only when its root has the wrong owner, not on every start (slow on large shares).
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function httpGetProbe(path: string, port: number | string, periodSeconds = 10, failureThreshold = 3): k8s.types.input.core.v1.Probe {
  return { httpGet: { path, port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

export function tcpProbe(port: number | string, periodSeconds = 10, failureThreshold = 3): k8s.types.input.core.v1.Probe {
  return { tcpSocket: { port }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

/** An environment variable read from a key of a Secret: secret values never appear in a pod spec. */
export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string): k8s.types.input.core.v1.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/** Plain environment variables, in the order given. */
export function plainEnv(values: Record<string, pulumi.Input<string>>): k8s.types.input.core.v1.EnvVar[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/** A set of pods in some namespace, the way a NetworkPolicy names who may connect. */
export interface PodPeer {
  /** Namespace of the peer pods. */
  namespace: pulumi.Input<string>;
  /** Labels that select the peer pods in that namespace. */
  podLabels: Record<string, string>;
}

export function networkPolicyPeer(peer: PodPeer): k8s.types.input.networking.v1.NetworkPolicyPeer {
  return {
    // Set on every namespace by the API server since Kubernetes 1.22, so it is safe to select on.
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    podSelector: { matchLabels: peer.podLabels },
  };
}

/** Where recordings go: the Azure file share (CSI driver) on AKS, or an existing claim on a laptop cluster. */
export type RecordingStorage =
  | {
      kind: "azureFile";
      /** Secret with `azurestorageaccountname` / `azurestorageaccountkey` that the file CSI driver reads. */
      secretName: pulumi.Input<string>;
      /** Name of the file share. */
      shareName: pulumi.Input<string>;
    }
  | {
      kind: "persistentVolumeClaim";
      /** An existing ReadWriteMany (or, single node, ReadWriteOnce) claim. */
      claimName: pulumi.Input<string>;
    };

export function recordingVolume(name: string, storage: RecordingStorage, uid: number): k8s.types.input.core.v1.Volume {
  if (storage.kind === "persistentVolumeClaim") {
    return { name, persistentVolumeClaim: { claimName: storage.claimName } };
  }
  return {
    name,
    csi: {
      driver: "file.csi.azure.com",
      volumeAttributes: {
        secretName: storage.secretName,
        shareName: storage.shareName,
        // SMB has no POSIX owners: the mount options decide who may write the recordings.
        mountOptions: `dir_mode=0750,file_mode=0640,uid=${uid},gid=${uid},mfsymlinks,nobrl`,
      },
    },
  };
}

/** The API objects a traefik route needs from the ingress component, handed to every component that publishes a route. */
export interface IngressBinding {
  /** The TLS entry point (443 outside). */
  entryPoint: string;
  /** ACME certificate resolver that issues the certificates; `undefined`: traefik's default certificate. */
  certResolver: string | undefined;
  /** Namespace of traefik and its shared Middlewares/TLSOption. */
  namespace: pulumi.Input<string>;
  /** The TLSOption every route uses. */
  tlsOptionName: string;
  /** Middleware adding the security and robots headers. */
  securityHeadersMiddleware: string;
  /** Middleware letting only the operators' networks through (admin, metrics, dashboard). */
  adminAllowListMiddleware: string;
  /** traefik's pods, so NetworkPolicies can let exactly them in. */
  traefikPods: PodPeer;
  /** Resources the custom resources must wait for (the CRDs and the shared middlewares). */
  dependencies: pulumi.Input<pulumi.Resource>[];
}

/** Where a route sends its requests: a Service port, or one of traefik's internal services (`api@internal`). */
export type RouteTarget =
  | { kind: "Service"; name: pulumi.Input<string>; port: number | string }
  | { kind: "TraefikService"; name: string };

export interface RouteSpec {
  /** traefik v3 rule, e.g. ``Host(`a.example.org`) && PathPrefix(`/x`)``. */
  match: string;
  /** Where matching requests go. */
  target: RouteTarget;
  /** Admit only the operators' networks (admin API, metrics, dashboard). */
  adminOnly: boolean;
}

/** An `IngressRoute` spec on the TLS entry point with the shared TLS option and middlewares. */
export function ingressRouteSpec(binding: IngressBinding, routes: readonly RouteSpec[]): Record<string, unknown> {
  return {
    entryPoints: [binding.entryPoint],
    routes: routes.map((route) => ({
      kind: "Rule",
      match: route.match,
      services: [route.target],
      middlewares: [
        ...(route.adminOnly ? [{ name: binding.adminAllowListMiddleware, namespace: binding.namespace }] : []),
        { name: binding.securityHeadersMiddleware, namespace: binding.namespace },
      ],
    })),
    tls: {
      ...(binding.certResolver === undefined ? {} : { certResolver: binding.certResolver }),
      options: { name: binding.tlsOptionName, namespace: binding.namespace },
    },
  };
}

/** Declares an `IngressRoute` after the CRDs and shared middlewares exist. */
export function ingressRoute(
  resourceName: string,
  args: {
    objectName: string;
    namespace: pulumi.Input<string>;
    binding: IngressBinding;
    routes: readonly RouteSpec[];
    labels: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    resourceName,
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: args.objectName, namespace: args.namespace, labels: args.labels },
      spec: ingressRouteSpec(args.binding, args.routes),
    },
    { ...opts, dependsOn: args.binding.dependencies },
  );
}

/** Host rule in traefik v3 syntax. */
export function hostRule(host: string): string {
  return `Host(\`${host}\`)`;
}

/** A PodDisruptionBudget keeping all but one replica up during drains, only when there is more than one replica. */
export function disruptionBudgetFor(
  name: string,
  args: { namespace: pulumi.Input<string>; selector: Record<string, string>; replicas: number },
  opts: pulumi.CustomResourceOptions,
): k8s.policy.v1.PodDisruptionBudget | undefined {
  if (args.replicas < 2) return undefined;
  return new k8s.policy.v1.PodDisruptionBudget(
    name,
    {
      metadata: { name, namespace: args.namespace, labels: args.selector },
      spec: { maxUnavailable: 1, selector: { matchLabels: args.selector } },
    },
    opts,
  );
}

/** A short digest of rendered config, put in a pod annotation so the pods roll when their config changes. */
export function contentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * `contentHash` of config that holds secrets. The digest itself is not secret (64 bits of a hash of
 * high-entropy content reveal nothing), and keeping it secret would make the whole pod template secret,
 * hiding it from previews and the written manifests.
 */
export function secretContentHash(text: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.unsecret(pulumi.output(text).apply(contentHash));
}

/** Where media workloads run: the media pool's nodes (public IPs, open host ports), which are tainted for them. */
export interface MediaNodePlacement {
  /** Labels of the media nodes. */
  nodeSelector: Record<string, string>;
  /** Tolerations for the media nodes' taint. */
  tolerations: k8s.types.input.core.v1.Toleration[];
}

/** A static public IP a LoadBalancer Service is pinned to (the `StaticIp` of the Azure `StaticIps` component fits). */
export interface PinnedPublicIp {
  /** The address: what clients reach, and what media servers advertise in their candidates. */
  address: pulumi.Input<string>;
  /** Annotations that make the cloud provider attach exactly this address (`azure-pip-name`, its resource group). */
  serviceAnnotations: pulumi.Input<Record<string, string>>;
}
