import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { blocksDeployment, evaluatePolicies, formatPolicyReport, type Violation } from "../../scripts/policyEvaluation.js";
import { pinnedImages, secretsFromSecretRefs } from "../../policies/kubernetes/containerPolicies.js";
import { unknownUntilApply } from "../../scripts/mockRuntime.js";
import { mediaplanePolicies } from "../../policies/policies.js";
import { deployment, hardenedContainer, planned } from "./support/resources.js";

const literalTurnSecret = deployment({ containers: [hardenedContainer({ env: [{ name: "TURN_SECRET", value: "s3cr3t" }] })] });

describe("evaluatePolicies", () => {
  it("runs the whole mediaplane pack by default", async () => {
    const violations = await evaluatePolicies([literalTurnSecret]);
    expect(violations.map(({ policy }) => policy)).toEqual(["k8s-secrets-from-secret-refs", "k8s-network-policy-coverage"]);
  });

  it("reports the policy, its enforcement level, the resource's URN and the message", async () => {
    const [violation] = await evaluatePolicies([literalTurnSecret], { policies: [secretsFromSecretRefs] });
    expect(violation).toEqual({
      policy: "k8s-secrets-from-secret-refs",
      enforcementLevel: "mandatory",
      urn: literalTurnSecret.urn,
      message: expect.stringContaining("env TURN_SECRET looks like a credential"),
    });
  });

  it("applies an enforcement level from the pack configuration", async () => {
    const violations = await evaluatePolicies([literalTurnSecret], {
      policies: [secretsFromSecretRefs],
      config: { "k8s-secrets-from-secret-refs": "advisory" },
    });
    expect(violations.map(({ enforcementLevel }) => enforcementLevel)).toEqual(["advisory"]);
  });

  it("skips a disabled policy", async () => {
    const violations = await evaluatePolicies([literalTurnSecret], {
      policies: [secretsFromSecretRefs],
      config: { "k8s-secrets-from-secret-refs": { enforcementLevel: "disabled" } },
    });
    expect(violations).toEqual([]);
  });

  it("passes configured settings over the schema's defaults", async () => {
    const violations = await evaluatePolicies([literalTurnSecret], {
      policies: [secretsFromSecretRefs],
      config: { "k8s-secrets-from-secret-refs": { nonSecretNames: ["TURN_SECRET"] } },
    });
    expect(violations).toEqual([]);
  });

  it("shows policies secret inputs as their plain values", async () => {
    const seen: unknown[] = [];
    const recorder: ResourceValidationPolicy = {
      name: "recorder",
      description: "records what it sees",
      validateResource: (args) => void seen.push(args.props["password"]),
    };
    const wrapped = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
    await evaluatePolicies([planned("random:index/randomPassword:RandomPassword", { password: wrapped })], { policies: [recorder] });
    expect(seen).toEqual(["hunter2"]);
  });

  it("reports a policy that reads a value known only after apply as advisory, as the engine does in a preview", async () => {
    const image = `example.azurecr.io/balancer:0.1.0@${unknownUntilApply("digest")}`;
    const resource = deployment({ containers: [hardenedContainer({ image })] });
    expect(await evaluatePolicies([resource], { policies: [pinnedImages] })).toEqual([
      {
        policy: "k8s-pinned-images",
        enforcementLevel: "advisory",
        urn: resource.urn,
        message: "can't run before apply: string value at .spec.template.spec.containers.0.image can't be known during preview",
      },
    ]);
  });

  it("gives stack policies every resource with its parent", async () => {
    const parents: (string | undefined)[] = [];
    const recorder: StackValidationPolicy = {
      name: "recorder",
      description: "records parents",
      validateStack: (args) => void parents.push(...args.resources.map((resource) => resource.parent?.name)),
    };
    const component = planned("mediaplane:index:MediaPlatform", {}, "platform");
    await evaluatePolicies([component, { ...planned("kubernetes:core/v1:Namespace", {}, "media"), parentUrn: component.urn }], {
      policies: [recorder],
    });
    expect(parents).toEqual([undefined, "platform"]);
  });

  it("lets a stack policy blame the stack as a whole", async () => {
    const stackWide: StackValidationPolicy = {
      name: "stack-wide",
      description: "always unhappy",
      enforcementLevel: "advisory",
      validateStack: (_args, reportViolation) => reportViolation("the stack as a whole"),
    };
    expect(await evaluatePolicies([], { policies: [stackWide] })).toEqual([
      { policy: "stack-wide", enforcementLevel: "advisory", message: "the stack as a whole" },
    ]);
  });

  it("treats notApplicable() as nothing to report", async () => {
    const inapplicable: ResourceValidationPolicy = {
      name: "inapplicable",
      description: "never applies",
      validateResource: (args) => args.notApplicable("not today"),
    };
    expect(await evaluatePolicies([literalTurnSecret], { policies: [inapplicable] })).toEqual([]);
  });

  it("lets a policy's own error surface", async () => {
    const broken: ResourceValidationPolicy = {
      name: "broken",
      description: "throws",
      validateResource: () => {
        throw new Error("policy bug");
      },
    };
    await expect(evaluatePolicies([literalTurnSecret], { policies: [broken] })).rejects.toThrow("policy bug");
  });
});

describe("the mediaplane pack", () => {
  it("names every policy once", () => {
    const names = mediaplanePolicies.map(({ name }) => name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("says why for every policy", () => {
    for (const policy of mediaplanePolicies) expect(policy.description.length, policy.name).toBeGreaterThan(60);
  });
});

describe("reporting", () => {
  const mandatory: Violation = { policy: "k8s-pinned-images", enforcementLevel: "mandatory", urn: "urn:x", message: "not pinned" };
  const advisory: Violation = { policy: "k8s-run-to-completion-resources", enforcementLevel: "advisory", message: "no limits" };

  it("blocks the deployment on a mandatory violation only", () => {
    expect(blocksDeployment([advisory])).toBe(false);
    expect(blocksDeployment([advisory, mandatory])).toBe(true);
  });

  it("prints a headline with the count per level, then level, policy, resource and message", () => {
    expect(formatPolicyReport([mandatory, advisory], 18)).toBe(
      [
        "Policies (18 evaluated): 1 mandatory, 1 advisory violations",
        "  [mandatory] k8s-pinned-images  urn:x",
        "      not pinned",
        "  [advisory] k8s-run-to-completion-resources  (the stack)",
        "      no limits",
      ].join("\n"),
    );
  });

  it("says so when there is nothing to report", () => {
    expect(formatPolicyReport([], 18)).toBe("Policies (18 evaluated): no violations");
  });
});
