import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { balancerPods } from "./Balancer.js";
import { balancerPodTemplate, balancerPorts, type RecordingModeArgs } from "./balancerPod.js";
import { hostRule, ingressRoute } from "./ingress.js";
import { networkPolicyPeer } from "./network.js";
import { recordingsMountPath, recordingVolume } from "./recordings.js";
import { appLabels, disruptionBudgetFor, secretContentHash, type ResourceSizing } from "./workload.js";

/** The path prefix the nodes' post-publish hook sends recordings to (balancer/src/recordings/uploadServer.ts). */
export const recordingUploadPathPrefix = "/_mediaplane/recordings/";

export interface RecordingImporterArgs extends RecordingModeArgs {
  /** Importer replicas: any number; each recording is imported once. */
  importerReplicas?: number;
  /** Upload endpoint replicas. */
  uploadReplicas?: number;
  sizing?: ResourceSizing;
}

const defaultSizing: ResourceSizing = { cpuRequest: "100m", memoryRequest: "128Mi", cpuLimit: "1", memoryLimit: "384Mi" };

/**
 * Recordings on the platform side (docs/recordings.md): the `importer` Deployment, which indexes the share into
 * Redis and applies retention, and the `recording-upload` Deployment with its Service and route, which receives
 * recordings from the nodes' post-publish hook onto the share. Both write the share (retention deletes, uploads
 * land), so both mount it read-write; pods that only read it mount it read-only.
 */
export class RecordingImporter extends pulumi.ComponentResource {
  readonly uploadServiceName: pulumi.Output<string>;

  constructor(name: string, args: RecordingImporterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:RecordingImporter", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const { namespace } = args;
    const configHash = secretContentHash(args.configFile);
    const sizing = args.sizing ?? defaultSizing;

    const deployment = (mode: "importer" | "recording-upload", replicas: number) => {
      const labels = appLabels("balancer", mode);
      const resource = new k8s.apps.v1.Deployment(
        `${name}-${mode}`,
        {
          metadata: { name: `balancer-${mode}`, namespace, labels },
          spec: {
            replicas,
            // Replicas coordinate per recording (importer) or write disjoint staging (upload): overlap in a rollout is safe.
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            selector: { matchLabels: labels },
            template: balancerPodTemplate({
              mode,
              image: args.image,
              secretName: args.balancerSecretName,
              // These modes read the config file at start: a change of it rolls them.
              restartHash: configHash,
              apiBaseDomain: args.apiBaseDomain,
              sizing,
              env: { RECORDINGS_DIR: recordingsMountPath },
              ...(mode === "recording-upload" ? { servicePort: "upload" } : {}),
              // Both write the share: retention deletes, uploads land. The balancer's user is the media user the
              // share's mount options make the owner of every recording.
              volumes: [{ volume: recordingVolume("recordings", args.recordings), mount: { name: "recordings", mountPath: recordingsMountPath, readOnly: false } }],
              terminationGracePeriodSeconds: 40,
            }),
          },
        },
        child,
      );
      disruptionBudgetFor(`${name}-${mode}-pdb`, { namespace, selector: labels, replicas }, child);
      return { resource, labels };
    };

    deployment("importer", args.importerReplicas ?? 1);
    const upload = deployment("recording-upload", args.uploadReplicas ?? 2);

    const service = new k8s.core.v1.Service(
      `${name}-upload-service`,
      {
        metadata: { name: "recording-upload", namespace, labels: upload.labels },
        spec: { type: "ClusterIP", selector: upload.labels, ports: [{ name: "upload", port: balancerPorts.api, targetPort: "upload", protocol: "TCP" }] },
      },
      child,
    );

    ingressRoute(
      `${name}-upload-route`,
      {
        objectName: "recording-upload",
        namespace,
        binding: args.ingress,
        labels: upload.labels,
        backends: { to: [networkPolicyPeer(balancerPods(namespace))], ports: [{ port: balancerPorts.api, protocol: "TCP" }] },
        routes: [
          {
            match: `${hostRule(args.apiBaseDomain)} && PathPrefix(\`${recordingUploadPathPrefix}\`)`,
            target: { kind: "Service", name: service.metadata.name, port: balancerPorts.api },
            adminOnly: false,
          },
        ],
      },
      child,
    );

    this.uploadServiceName = service.metadata.name;
    this.registerOutputs({ uploadServiceName: this.uploadServiceName });
  }
}
