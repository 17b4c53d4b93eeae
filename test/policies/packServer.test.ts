import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb.js";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mediaplanePolicies } from "../../policies/policies.js";
import { startPack, type RunningPack } from "./support/packAnalyzer.js";
import { deployment, hardenedContainer } from "./support/resources.js";

// The pack as the Pulumi engine runs it (`pulumi preview --policy-pack policies`): the analyzer host loads
// policies/ with require(), the pack serves gRPC on a loopback port and prints it. The test plays the engine.

const packDirectory = fileURLToPath(new URL("../../policies/", import.meta.url));
const pulumiDirectory = dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));

let pack: RunningPack;

beforeAll(async () => {
  pack = await startPack(packDirectory, pulumiDirectory);
});

afterAll(() => pack?.stop());

describe("the policy pack served to the Pulumi engine", () => {
  it("announces every mediaplane policy with its enforcement level", async () => {
    const info = await pack.info();
    expect(info.getName()).toBe("mediaplane");
    const served = info.getPoliciesList().map((policy) => [policy.getName(), policy.getEnforcementlevel()]);
    const level = { advisory: analyzerProto.EnforcementLevel.ADVISORY, mandatory: analyzerProto.EnforcementLevel.MANDATORY };
    expect(served).toEqual(
      mediaplanePolicies.map((policy) => [policy.name, level[policy.enforcementLevel as keyof typeof level]]),
    );
  });

  it("rejects an unpinned image the way the offline evaluator does", async () => {
    const unpinned = deployment({ containers: [hardenedContainer({ image: "jitsi/jvb:latest" })] });
    expect(await pack.analyze(unpinned)).toEqual([["k8s-pinned-images", expect.stringContaining('"jitsi/jvb:latest" is not pinned')]]);
  });

  it("applies its own config defaults when the engine hands it none: the exempted Jitsi pods pass", async () => {
    const jitsi = deployment({ name: "jitsi-web", namespace: "mediaplane-media", containers: [hardenedContainer({ image: "docker.io/jitsi/web:stable-10978", securityContext: { allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } } })] });
    expect(await pack.analyze(jitsi)).toEqual([]);
  });
});
