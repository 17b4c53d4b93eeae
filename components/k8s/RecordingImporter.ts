import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { balancerPods } from "./Balancer.js";
import { balancerPorts, recordingModeDeployment, type RecordingModeArgs } from "./balancerPod.js";
import { hostRule, ingressRoute } from "./ingress.js";
import { networkPolicyPeer } from "./network.js";
import type { ResourceSizing } from "./workload.js";

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
    const sizing = args.sizing ?? defaultSizing;
    recordingModeDeployment(name, args, { mode: "importer", replicas: args.importerReplicas ?? 1, sizing, writesShare: true }, child);
    const uploadLabels = recordingModeDeployment(name, args, { mode: "recording-upload", replicas: args.uploadReplicas ?? 2, sizing, servicePort: "upload", writesShare: true }, child);

    const service = new k8s.core.v1.Service(
      `${name}-upload-service`,
      {
        metadata: { name: "recording-upload", namespace, labels: uploadLabels },
        spec: { type: "ClusterIP", selector: uploadLabels, ports: [{ name: "upload", port: balancerPorts.api, targetPort: "upload", protocol: "TCP" }] },
      },
      child,
    );

    ingressRoute(
      `${name}-upload-route`,
      {
        objectName: "recording-upload",
        namespace,
        binding: args.ingress,
        labels: uploadLabels,
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
