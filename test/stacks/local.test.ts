import { beforeAll, describe, expect, it } from "vitest";
import { isSecretValue, revealSecrets } from "../../scripts/mockRuntime.js";
import { runStack, type StackRun } from "./support/stackRun.js";

let stack: StackRun;
beforeAll(async () => {
  stack = await runStack("local");
});

describe("local stack: a laptop cluster", () => {
  it("declares no Azure resources", () => {
    expect(stack.resources.filter((resource) => resource.type.startsWith("azure-native:"))).toEqual([]);
  });

  it("deploys with the current kube context, not a generated kubeconfig", () => {
    const provider = stack.get("pulumi:providers:kubernetes", "mediaplane-kube-context");
    expect(provider.inputs["kubeconfig"]).toBeUndefined();
    expect(provider.inputs["context"]).toBeUndefined();
  });

  it("deploys every Kubernetes object with that provider", () => {
    const objects = stack.resources.filter((resource) => resource.custom && resource.type.startsWith("kubernetes:"));
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) expect(object.providerUrn).toMatch(/pulumi:providers:kubernetes::mediaplane-kube-context$/);
  });

  it("keeps recordings on a plain PersistentVolumeClaim of the stack's size", () => {
    expect(stack.inputsOf(stack.get("kubernetes:core/v1:PersistentVolumeClaim", "mediaplane-recordings"))).toMatchObject({
      metadata: { name: "recordings", namespace: "mediaplane" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
    });
  });

  it("runs the balancer's Redis in the cluster", () => {
    expect(stack.ofType("mediaplane:k8s:Redis")).toHaveLength(1);
    expect(stack.ofType("kubernetes:apps/v1:StatefulSet").map((set) => set.name)).toContain("mediaplane-redis-statefulset");
  });

  it("exports no public IPs and no kubeconfig", () => {
    expect(stack.outputs["publicIps"]).toEqual({});
    expect(Object.keys(stack.outputs).sort()).toEqual(["endpoints", "operatorSecrets", "publicIps", "tenants"]);
  });

  it("exports only the operator secret that exists without Janus and TURN: the balancer admin token", () => {
    expect(isSecretValue(stack.outputs["operatorSecrets"])).toBe(true);
    expect(Object.keys(revealSecrets(stack.outputs["operatorSecrets"]) as object)).toEqual(["balancerAdminToken"]);
  });

  it("builds the balancer image into the local engine, not a registry, under a name no public registry serves", () => {
    expect(stack.inputsOf(stack.get("docker-build:index:Image", "mediaplane-balancer-image-image"))).toMatchObject({
      push: false,
      load: true,
      tags: ["localhost/mediaplane/balancer:0.1.0"],
    });
  });

  it("imports the built image into the kind cluster named in the stack config, after the build", () => {
    const load = stack.get("command:local:Command", "mediaplane-balancer-image-import");
    expect(stack.inputsOf(load)["create"]).toBe("kind load docker-image localhost/mediaplane/balancer:0.1.0 --name mediaplane");
    expect(load.engine.dependencies).toContain(stack.get("docker-build:index:Image", "mediaplane-balancer-image-image").urn);
  });

  it("starts no balancer pod before its image is on the cluster's nodes", () => {
    const load = stack.get("command:local:Command", "mediaplane-balancer-image-import");
    const workloads = stack.ofType("kubernetes:apps/v1:Deployment").filter((deployment) => JSON.stringify(deployment.inputs).includes("localhost/mediaplane/balancer"));
    expect(workloads.map((deployment) => deployment.name).sort()).toEqual(["mediaplane-balancer-api", "mediaplane-balancer-poller", "mediaplane-recording-playback", "mediaplane-recordings-importer", "mediaplane-recordings-recording-upload"]);
    for (const workload of workloads) expect(workload.engine.dependencies, workload.name).toContain(load.urn);
  });

  it("exports only the BBB endpoints, Jitsi, Janus and TURN being off", () => {
    expect(stack.outputs["endpoints"]).toEqual({
      bbbApi: {
        hostBasedUrl: "https://<tenant>.api.mediaplane.localhost/bigbluebutton/api/",
        pathBasedUrl: "https://api.mediaplane.localhost/t/<tenant>/bigbluebutton/api/",
      },
    });
  });
});
