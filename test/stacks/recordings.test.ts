import { beforeAll, describe, expect, it } from "vitest";
import type { RecordedResource } from "../../scripts/mockRuntime.js";
import { runStack, type StackRun } from "./support/stackRun.js";

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface PodSpec {
  containers: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean } }>;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}

let stack: StackRun;
beforeAll(async () => {
  stack = await runStack("prod");
}, 120_000);

const podSpecOf = (deployment: RecordedResource): PodSpec => (stack.inputsOf(deployment) as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const envOf = (container: Container): Record<string, string | undefined> => Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));

/** Each Deployment's mounts of the recordings claim: `true` for read-only. */
function recordingMounts(): Map<string, boolean[]> {
  const mounts = new Map<string, boolean[]>();
  for (const deployment of stack.ofType("kubernetes:apps/v1:Deployment")) {
    const pod = podSpecOf(deployment);
    const volumes = new Set((pod.volumes ?? []).filter((volume) => volume.persistentVolumeClaim?.claimName === "recordings").map((volume) => volume.name));
    const found = pod.containers.flatMap((container) => (container.volumeMounts ?? []).filter((mount) => volumes.has(mount.name)).map((mount) => mount.readOnly === true));
    if (found.length > 0) mounts.set((stack.inputsOf(deployment) as { metadata: { name: string } }).metadata.name, found);
  }
  return mounts;
}

describe("prod stack: recordings on the platform side", () => {
  it("runs the importer on the recordings share with the balancer's config, Redis and callback key", () => {
    const importer = podSpecOf(stack.get("kubernetes:apps/v1:Deployment", "mediaplane-recordings-importer"));
    const [container] = importer.containers;
    expect(envOf(container!)).toMatchObject({ MODE: "importer", RECORDINGS_DIR: "/var/lib/mediaplane/recordings", CONFIG_FILE: "/etc/balancer/config.yaml" });
    const secrets = (container!.env ?? []).filter((variable) => variable.valueFrom !== undefined).map((variable) => [variable.name, variable.valueFrom?.secretKeyRef?.key]);
    expect(secrets).toEqual([
      ["REDIS_URL", "redisUrl"],
      ["CALLBACK_SECRET", "callbackSecret"],
    ]);
    // The share's mount options make the media user the owner of every file: the pod must be that user to delete.
    expect(importer.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
  });

  it("mounts the share read-write only in the pods that write it, read-only everywhere else", () => {
    const writers = new Set(["balancer-importer", "balancer-recording-upload", "balancer-api", "janus"]);
    const mounts = recordingMounts();
    expect(mounts.get("balancer-importer")).toEqual([false]);
    expect(mounts.get("balancer-recording-upload")).toEqual([false]);
    for (const [name, readOnly] of mounts) if (!writers.has(name)) expect(readOnly.every(Boolean), name).toBe(true);
  });

  it("routes the nodes' uploads on the API's base domain to the upload endpoint only", () => {
    const route = stack.inputsOf(stack.get("kubernetes:traefik.io/v1alpha1:IngressRoute", "mediaplane-recordings-upload-route")) as {
      spec: { routes: Array<{ match: string; services: Array<{ name: string; port: number }> }> };
    };
    expect(route.spec.routes).toHaveLength(1);
    expect(route.spec.routes[0]?.match).toMatch(/^Host\(`[^`]+`\) && PathPrefix\(`\/_mediaplane\/recordings\/`\)$/);
    expect(route.spec.routes[0]?.services.map((service) => service.name)).toEqual(["recording-upload"]);
    const upload = podSpecOf(stack.get("kubernetes:apps/v1:Deployment", "mediaplane-recordings-recording-upload"));
    expect(envOf(upload.containers[0]!)).toMatchObject({ MODE: "recording-upload", PORT: "8080" });
  });
});
