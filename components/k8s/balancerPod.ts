import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import {
  appLabels,
  disruptionBudgetFor,
  httpGetProbe,
  nonRootPodSecurity,
  plainEnv,
  resourceRequirements,
  restrictedContainerSecurity,
  secretContentHash,
  secretEnv,
  type ResourceSizing,
} from "./workload.js";
import type { IngressBinding } from "./ingress.js";
import { recordingsMountPath, recordingVolume, type RecordingStorage } from "./recordings.js";

/** Ports of the balancer process: its mode's HTTP port (API, upload), and admin API + probes + metrics. */
export const balancerPorts = { api: 8080, admin: 9090 } as const;

/** The user of images/balancer; the recordings share's mount options make the same uid the owner of recordings. */
const balancerUid = 10001;
const configDirectory = "/etc/balancer";

/** What a component running one of the balancer's recording modes needs (importer, upload, playback). */
export interface RecordingModeArgs {
  provider: k8s.Provider;
  namespace: pulumi.Input<string>;
  /** The balancer image (the recording modes are modes of the balancer program). */
  image: pulumi.Input<string>;
  /** The balancer's config file: its content rolls the pods when it changes. */
  configFile: pulumi.Input<string>;
  /** The balancer's Secret: `config.yaml`, `redisUrl`, `callbackSecret` (recordings' owner proofs, playback tokens). */
  balancerSecretName: pulumi.Input<string>;
  /** The recordings share. */
  recordings: RecordingStorage;
  /** API base domain: nodes upload to `https://<it>/...`; tenants' hosts are `<tenant>.<it>`. */
  apiBaseDomain: string;
  ingress: IngressBinding;
}

export interface BalancerPodArgs {
  /** The balancer program's MODE. */
  mode: string;
  image: pulumi.Input<string>;
  /** The balancer's Secret: `config.yaml`, `redisUrl`, `callbackSecret` (and `adminToken` with `adminToken`). */
  secretName: pulumi.Input<string>;
  /**
   * A hash of what the pod's processes read only at start: a change rolls the pods. The Secret's volume alone
   * updates in place without a restart, which the api and poller modes follow (they reload the config file).
   */
  restartHash: pulumi.Input<string>;
  apiBaseDomain: string;
  sizing: ResourceSizing;
  /** Plain environment of this mode, after the common variables. */
  env?: Record<string, pulumi.Input<string>>;
  /** Give the pod the admin token (the admin API and /metrics answer it). */
  adminToken?: boolean;
  /** Name of the container port on `balancerPorts.api`, for modes that serve there. */
  servicePort?: string;
  /** More volumes, each with where the container mounts it. */
  volumes?: ReadonlyArray<{ volume: k8s.types.input.core.v1.Volume; mount: k8s.types.input.core.v1.VolumeMount }>;
  /** Seconds the pod gets to stop; with `preStopSeconds`, a preStop pause keeps it in the endpoints' removal window first. */
  terminationGracePeriodSeconds: number;
  preStopSeconds?: number;
}

/** One pod of the balancer program in one of its modes: non-root, read-only root, config from the Secret. */
export function balancerPodTemplate(args: BalancerPodArgs): k8s.types.input.core.v1.PodTemplateSpec {
  return {
    metadata: { labels: appLabels("balancer", args.mode), annotations: { "mediaplane/restart-hash": args.restartHash } },
    spec: {
      securityContext: nonRootPodSecurity(balancerUid),
      // No Kubernetes API access: no service account token in the pod.
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
      containers: [
        {
          name: "balancer",
          image: args.image,
          env: [
            ...plainEnv({
              MODE: args.mode,
              CONFIG_FILE: `${configDirectory}/config.yaml`,
              LISTEN_HOST: "0.0.0.0",
              PORT: String(balancerPorts.api),
              ADMIN_PORT: String(balancerPorts.admin),
              BASE_DOMAIN: args.apiBaseDomain,
              ...args.env,
              NODE_ENV: "production",
            }),
            secretEnv("REDIS_URL", args.secretName, "redisUrl"),
            ...(args.adminToken === true ? [secretEnv("ADMIN_TOKEN", args.secretName, "adminToken")] : []),
            secretEnv("CALLBACK_SECRET", args.secretName, "callbackSecret"),
          ],
          ports: [
            ...(args.servicePort === undefined ? [] : [{ name: args.servicePort, containerPort: balancerPorts.api, protocol: "TCP" }]),
            { name: "admin", containerPort: balancerPorts.admin, protocol: "TCP" },
          ],
          readinessProbe: httpGetProbe("/readyz", "admin", 5, 2),
          livenessProbe: { ...httpGetProbe("/livez", "admin", 10, 3), initialDelaySeconds: 5 },
          ...(args.preStopSeconds === undefined ? {} : { lifecycle: { preStop: { sleep: { seconds: args.preStopSeconds } } } }),
          resources: resourceRequirements(args.sizing),
          securityContext: restrictedContainerSecurity(),
          volumeMounts: [
            { name: "config", mountPath: configDirectory, readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
            ...(args.volumes ?? []).map((entry) => entry.mount),
          ],
        },
      ],
      volumes: [
        { name: "config", secret: { secretName: args.secretName, items: [{ key: "config.yaml", path: "config.yaml" }] } },
        { name: "tmp", emptyDir: { sizeLimit: "32Mi" } },
        ...(args.volumes ?? []).map((entry) => entry.volume),
      ],
    },
  };
}

/** One recording mode's Deployment: which mode, how many pods, and what it does with the share. */
export interface RecordingModeDeployment {
  mode: "importer" | "recording-upload" | "playback";
  replicas: number;
  sizing: ResourceSizing;
  /** The port its Service sends to; such pods pause before stopping, while the endpoints drop them. */
  servicePort?: string;
  /** Env beside `RECORDINGS_DIR`. */
  env?: Record<string, string>;
  /** Imports, retention and uploads write the share; playback only reads it, so a bug or an attack in it cannot change a recording. */
  writesShare: boolean;
}

/** The mode's pods carry these labels; its Service and NetworkPolicies select them. */
export function recordingModeDeployment(name: string, args: RecordingModeArgs, deployment: RecordingModeDeployment, opts: pulumi.CustomResourceOptions): Record<string, string> {
  const { namespace } = args;
  const { mode, replicas } = deployment;
  const labels = appLabels("balancer", mode);
  new k8s.apps.v1.Deployment(
    `${name}-${mode}`,
    {
      metadata: { name: `balancer-${mode}`, namespace, labels },
      spec: {
        replicas,
        // Importers claim each recording, uploads write disjoint staging, playback only reads: overlap in a rollout is safe.
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        selector: { matchLabels: labels },
        template: balancerPodTemplate({
          mode,
          image: args.image,
          secretName: args.balancerSecretName,
          // The recording modes read the config file at start: a change of it rolls them.
          restartHash: secretContentHash(args.configFile),
          apiBaseDomain: args.apiBaseDomain,
          sizing: deployment.sizing,
          env: { RECORDINGS_DIR: recordingsMountPath, ...deployment.env },
          ...(deployment.servicePort === undefined ? {} : { servicePort: deployment.servicePort, preStopSeconds: 5 }),
          // The balancer's user is the media user the share's mount options make the owner of every recording.
          volumes: [{ volume: recordingVolume("recordings", args.recordings), mount: { name: "recordings", mountPath: recordingsMountPath, readOnly: !deployment.writesShare } }],
          terminationGracePeriodSeconds: 40,
        }),
      },
    },
    opts,
  );
  disruptionBudgetFor(`${name}-${mode}-pdb`, { namespace, selector: labels, replicas }, opts);
  return labels;
}
