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

describe("prod stack: the recordings share seen from Janus's namespace", () => {
  interface Volume {
    metadata: { name: string };
    spec: { csi: { volumeHandle: string; volumeAttributes: Record<string, string>; nodeStageSecretRef: { name: string; namespace: string } } };
  }
  const volume = (name: string) => stack.inputsOf(stack.get("kubernetes:core/v1:PersistentVolume", name)) as unknown as Volume;
  const claim = (name: string) => stack.inputsOf(stack.get("kubernetes:core/v1:PersistentVolumeClaim", name)) as { metadata: { name: string; namespace: string }; spec: { volumeName: string } };

  it("gives Janus a claim of the same share in its own namespace, bound to a volume of its own", () => {
    const platform = claim("mediaplane-recordings");
    const janus = claim("mediaplane-recordings-janus");
    expect([platform.metadata.namespace, janus.metadata.namespace]).toEqual(["mediaplane", "mediaplane-media-host"]);
    expect(janus.spec.volumeName).not.toBe(platform.spec.volumeName);
    expect(volume("mediaplane-recordings-janus").spec.csi.volumeAttributes).toEqual(volume("mediaplane-recordings").spec.csi.volumeAttributes);
  });

  it("gives each volume of the share its own ID, in the form the file CSI driver parses", () => {
    // azurefile-csi-driver pkg/azurefile/azurefile.go GetFileShareInfo: `rg#account#share[#placeholder[#uuid...]]`,
    // the placeholder naming a VHD disk when set; the kubelet stages one mount per volume ID on a node.
    const platform = volume("mediaplane-recordings").spec.csi.volumeHandle;
    const janus = volume("mediaplane-recordings-janus").spec.csi.volumeHandle;
    expect(janus).not.toBe(platform);
    const [resourceGroup, account, share, placeholder, uuid] = janus.split("#");
    expect(`${resourceGroup}#${account}#${share}`).toBe(platform);
    expect(placeholder).toBe("");
    expect(uuid).toBe("janus");
  });

  it("leaves the account key in the platform namespace: Janus's volume names the Secret there", () => {
    expect(volume("mediaplane-recordings-janus").spec.csi.nodeStageSecretRef).toEqual({ name: "recordings-azure-files", namespace: "mediaplane" });
    const secrets = stack.ofType("kubernetes:core/v1:Secret").map((secret) => stack.inputsOf(secret) as { metadata: { name: string; namespace: string } });
    expect(secrets.filter((secret) => secret.metadata.name === "recordings-azure-files").map((secret) => secret.metadata.namespace)).toEqual(["mediaplane"]);
  });
});
