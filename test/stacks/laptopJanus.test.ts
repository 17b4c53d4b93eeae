import { beforeAll, describe, expect, it } from "vitest";
import { kubernetesManifest } from "../../scripts/manifests.js";
import { runProgramOnStack } from "../../scripts/offlineProgram.js";
import { loadOfflineStack } from "../../scripts/stackFile.js";
import { podReferenceProblems, routeReferenceProblems } from "../k8s/support/namespaceReferences.js";
import type { Manifest } from "../k8s/support/stackManifests.js";

/*
 * The laptop stack with Janus recording: no Azure share to claim twice, so Janus's namespace gets a volume of its
 * own, and nothing of the platform namespace is named from there.
 */
describe("a laptop stack that runs Janus with recordings", () => {
  let manifests: Manifest[];
  const find = (kind: string, namespace: string) => manifests.filter((manifest) => manifest.kind === kind && manifest.metadata.namespace === namespace);

  beforeAll(async () => {
    const local = loadOfflineStack("local");
    const run = await runProgramOnStack({ ...local, config: { ...local.config, "mediaplane:janus": JSON.stringify({ enabled: true, recording: true }) } });
    manifests = run.resources.map(kubernetesManifest).filter((manifest): manifest is Manifest => manifest !== undefined);
  }, 60_000);

  it("runs Janus in the privileged media-host namespace and makes no baseline one, Jitsi being off", () => {
    const namespaces = manifests.filter((manifest) => manifest.kind === "Namespace").map((namespace) => namespace.metadata.name);
    expect(namespaces.sort()).toEqual(["mediaplane", "mediaplane-media-host"]);
    expect(find("StatefulSet", "mediaplane-media-host").map((workload) => workload.metadata.name)).toEqual(["janus"]);
  });

  it("gives Janus a recordings claim of its own beside it, a single-node volume like the platform's", () => {
    const [claim] = find("PersistentVolumeClaim", "mediaplane-media-host");
    expect(claim?.metadata.name).toBe("recordings");
    expect((claim?.["spec"] as { accessModes?: string[] } | undefined)?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(find("PersistentVolumeClaim", "mediaplane").map((platformClaim) => platformClaim.metadata.name)).toContain("recordings");
  });

  it("keeps every name a pod or a route looks up in the namespace it is looked up in", () => {
    expect(podReferenceProblems(manifests)).toEqual([]);
    expect(routeReferenceProblems(manifests)).toEqual([]);
  });
});
