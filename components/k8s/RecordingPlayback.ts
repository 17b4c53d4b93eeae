import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { balancerPods } from "./Balancer.js";
import { balancerPorts, recordingModeDeployment, type RecordingModeArgs } from "./balancerPod.js";
import { ingressRoute } from "./ingress.js";
import { networkPolicyPeer } from "./network.js";
import { recordingsMountPath } from "./recordings.js";
import { tenantHostRegexp } from "./render/traefik.js";
import type { ResourceSizing } from "./workload.js";

/**
 * Where the 2.3 player's build is kept on the share (an operator copies a node's
 * `/var/bigbluebutton/playback/presentation/2.3` there); a dot directory, so no tenant's can be it.
 */
export const playerSharePath = ".player/presentation/2.3";

/** The paths BBB's players load recordings from (balancer/src/playback/paths.ts). */
export const playbackPathPrefixes = ["/playback/", "/presentation/"] as const;

export interface RecordingPlaybackArgs extends RecordingModeArgs {
  replicas?: number;
  sizing?: ResourceSizing;
}

const defaultSizing: ResourceSizing = { cpuRequest: "100m", memoryRequest: "96Mi", cpuLimit: "1", memoryLimit: "256Mi" };

/**
 * The `playback` Deployment (docs/recordings.md): recordings' playback files from the share, mounted read-only, on
 * the tenants' hosts in the players' paths, through a traefik route more specific than the tenants' API route.
 */
export class RecordingPlayback extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: RecordingPlaybackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:RecordingPlayback", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const { namespace } = args;
    const labels = recordingModeDeployment(
      name,
      args,
      {
        mode: "playback",
        replicas: args.replicas ?? 2,
        sizing: args.sizing ?? defaultSizing,
        servicePort: "playback",
        env: { PLAYBACK_PLAYER_DIR: `${recordingsMountPath}/${playerSharePath}` },
        writesShare: false,
      },
      child,
    );

    const service = new k8s.core.v1.Service(
      `${name}-playback-service`,
      {
        metadata: { name: "recording-playback", namespace, labels },
        spec: { type: "ClusterIP", selector: labels, ports: [{ name: "playback", port: balancerPorts.api, targetPort: "playback", protocol: "TCP" }] },
      },
      child,
    );

    const paths = playbackPathPrefixes.map((prefix) => `PathPrefix(\`${prefix}\`)`).join(" || ");
    ingressRoute(
      `${name}-playback-route`,
      {
        objectName: "recording-playback",
        namespace,
        binding: args.ingress,
        labels,
        backends: { to: [networkPolicyPeer(balancerPods(namespace))], ports: [{ port: balancerPorts.api, protocol: "TCP" }] },
        routes: [
          {
            // Longer than the tenants' API rule on the same hosts, so traefik's default priority (rule length) picks it.
            match: `HostRegexp(\`${tenantHostRegexp(args.apiBaseDomain)}\`) && (${paths})`,
            target: { kind: "Service", name: service.metadata.name, port: balancerPorts.api },
            adminOnly: false,
          },
        ],
      },
      child,
    );

    this.serviceName = service.metadata.name;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
