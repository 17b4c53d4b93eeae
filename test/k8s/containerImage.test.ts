import { beforeAll, describe, expect, it } from "vitest";
import { declareWithMocks, findObject, type DeclaredResource } from "./support/declared.js";

let declared: DeclaredResource[];
let pushedRef: string;
let loadedRef: string;
let ContainerImage: typeof import("../../components/k8s/ContainerImage.js").ContainerImage;

beforeAll(async () => {
  let outputs: Record<string, unknown>;
  ({ declared, outputs } = await declareWithMocks(async () => {
    ({ ContainerImage } = await import("../../components/k8s/ContainerImage.js"));
    const pushed = new ContainerImage("balancer", {
      repository: "mpdevacr.azurecr.io/mediaplane/balancer",
      tag: "0.1.0",
      context: ".",
      dockerfile: "images/balancer/Dockerfile",
      push: true,
    });
    const loaded = new ContainerImage("janus", {
      repository: "mediaplane/janus",
      tag: "1.3.3",
      context: "images/janus",
      dockerfile: "images/janus/Dockerfile",
      push: false,
    });
    return { pushedRef: pushed.ref, loadedRef: loaded.ref };
  }));
  pushedRef = outputs["pushedRef"] as string;
  loadedRef = outputs["loadedRef"] as string;
});

describe("ContainerImage", () => {
  it("references a pushed image by its digest", () => {
    expect(pushedRef).toBe(
      "mpdevacr.azurecr.io/mediaplane/balancer:0.1.0@<unknown until apply: digest of mpdevacr.azurecr.io/mediaplane/balancer:0.1.0>",
    );
  });

  it("builds the given Dockerfile for the AKS nodes' platform and pushes the version tag", () => {
    const image = findObject(declared, "docker-build:index:Image", "balancer-image").inputs;
    expect(image).toMatchObject({
      dockerfile: { location: "images/balancer/Dockerfile" },
      tags: ["mpdevacr.azurecr.io/mediaplane/balancer:0.1.0"],
      platforms: ["linux/amd64"],
      push: true,
      buildOnPreview: false,
    });
  });

  it("loads into the local engine instead of pushing on a laptop cluster", () => {
    expect(loadedRef).toBe("mediaplane/janus:1.3.3");
    expect(findObject(declared, "docker-build:index:Image", "janus-image").inputs).toMatchObject({ push: false, load: true });
  });

  it("imports a locally built image into a kind or a k3d cluster with the tool's own command", async () => {
    const { clusterImportCommand } = await import("../../components/k8s/ContainerImage.js");
    expect(clusterImportCommand({ tool: "kind", clusterName: "dev" }, "localhost/mediaplane/janus:1.3.3")).toBe(
      "kind load docker-image localhost/mediaplane/janus:1.3.3 --name dev",
    );
    expect(clusterImportCommand({ tool: "k3d", clusterName: "dev" }, "localhost/mediaplane/janus:1.3.3")).toBe(
      "k3d image import localhost/mediaplane/janus:1.3.3 --cluster dev",
    );
  });

  it("refuses a moving tag, naming the image's tag", () => {
    for (const tag of ["latest", "stable", ""]) {
      expect(
        () => new ContainerImage("bad", { repository: "r/x", tag, context: ".", dockerfile: "Dockerfile", push: true }),
      ).toThrow(`bad tag: "${tag}" is not pinned`);
    }
  });
});
