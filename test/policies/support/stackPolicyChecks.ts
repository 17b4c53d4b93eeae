import { beforeAll, describe, expect, it } from "vitest";
import { azurePublicIpNameAnnotation } from "../../../policies/kubernetes/annotations.js";
import { blocksDeployment, evaluatePolicies, formatPolicyReport, plannedResources, type PlannedResource } from "../../../scripts/policyEvaluation.js";
import { runProgramOnStack } from "../../../scripts/offlineProgram.js";
import { loadOfflineStack } from "../../../scripts/stackFile.js";

export interface StackExpectations {
  /** Runs on AKS: Azure resources and pinned LoadBalancers. */
  azure: boolean;
  /** Runs some Deployment or StatefulSet with more than one replica. */
  replicated: boolean;
}

type Inputs = Record<string, unknown>;

/** A copy of the stack with one kind of resource changed (or dropped, when `change` returns undefined). */
function alter(
  resources: readonly PlannedResource[],
  type: string,
  change: (inputs: Inputs) => Inputs | undefined,
): PlannedResource[] {
  return resources.flatMap((resource) => {
    if (resource.type !== type) return [resource];
    const inputs = change(structuredClone(resource.inputs));
    return inputs === undefined ? [] : [{ ...resource, inputs }];
  });
}

interface PodTemplateInputs {
  spec?: { template?: { spec?: { containers?: { image?: string; env?: { name?: string; value?: string; valueFrom?: unknown }[] }[] } } };
}

function containersOf(inputs: Inputs) {
  return (inputs as PodTemplateInputs).spec?.template?.spec?.containers ?? [];
}

async function policiesViolatedBy(resources: readonly PlannedResource[]): Promise<string[]> {
  const violations = await evaluatePolicies(resources);
  return violations.filter((violation) => blocksDeployment([violation])).map(({ policy }) => policy);
}

/**
 * "Every stack must pass": the policy pack over every resource the real program declares for the stack, as
 * `pulumi preview --policy-pack policies` would run it, and as `npm run plan -- <stack>` does offline. The
 * spoiled copies show the policies understand the stack's real resources, so a pass is not a pass by blindness.
 */
export function describeStackUnderPolicies(stackName: string, expectations: StackExpectations): void {
  describe(`stack ${stackName} under the policy pack`, () => {
    let resources: readonly PlannedResource[];

    beforeAll(async () => {
      // The resources exactly as the offline plan sees them (one stack per test file: the runtime is global).
      resources = plannedResources(await runProgramOnStack(loadOfflineStack(stackName)));
    });

    it("has no mandatory policy violation", async () => {
      const violations = await evaluatePolicies(resources);
      expect(violations.filter((violation) => blocksDeployment([violation])), formatPolicyReport(violations)).toEqual([]);
    });

    it(expectations.azure ? "declares the Azure resources the Azure policies judge" : "declares no Azure resources", () => {
      const azureTypes = resources.filter(({ type }) => type.startsWith("azure-native:")).map(({ type }) => type);
      if (!expectations.azure) {
        expect(azureTypes).toEqual([]);
        return;
      }
      expect(azureTypes).toEqual(
        expect.arrayContaining([
          "azure-native:containerservice:ManagedCluster",
          "azure-native:storage:StorageAccount",
          "azure-native:network:PublicIPAddress",
          "azure-native:containerregistry:Registry",
        ]),
      );
    });

    it("fails when a Deployment's image floats", async () => {
      const floating = alter(resources, "kubernetes:apps/v1:Deployment", (inputs) => {
        for (const container of containersOf(inputs)) container.image = "docker.io/library/nginx:latest";
        return inputs;
      });
      expect(await policiesViolatedBy(floating)).toContain("k8s-pinned-images");
    });

    it("fails when a secret reference becomes a literal value", async () => {
      const literal = alter(resources, "kubernetes:apps/v1:Deployment", (inputs) => {
        for (const container of containersOf(inputs)) {
          for (const variable of container.env ?? []) {
            if (variable.valueFrom === undefined) continue;
            delete variable.valueFrom;
            variable.value = "literal";
          }
        }
        return inputs;
      });
      expect(await policiesViolatedBy(literal)).toContain("k8s-secrets-from-secret-refs");
    });

    it("fails when a workload turns on host networking by itself", async () => {
      const hostNetworked = alter(resources, "kubernetes:apps/v1:Deployment", (inputs) => {
        const template = (inputs as { metadata?: { name?: string }; spec?: { template?: { spec?: Record<string, unknown> } } });
        if (template.metadata?.name === "balancer-api" && template.spec?.template?.spec !== undefined) template.spec.template.spec["hostNetwork"] = true;
        return inputs;
      });
      expect(await policiesViolatedBy(hostNetworked)).toContain("k8s-host-network");
    });

    it("fails when a secret output becomes a kubeconfig with a credential", async () => {
      const leaked = alter(resources, "pulumi:pulumi:Stack", (outputs) => ({ ...outputs, kubeconfig: "users:\n- user:\n    token: abc\n" }));
      expect(await policiesViolatedBy(leaked)).toContain("stack-no-plain-secret-outputs");
    });

    it("fails without its NetworkPolicies", async () => {
      const open = alter(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", () => undefined);
      expect(await policiesViolatedBy(open)).toContain("k8s-network-policy-coverage");
    });

    if (expectations.replicated) {
      it("fails without its PodDisruptionBudgets", async () => {
        const unprotected = alter(resources, "kubernetes:policy/v1:PodDisruptionBudget", () => undefined);
        expect(await policiesViolatedBy(unprotected)).toContain("k8s-pod-disruption-budgets");
      });
    }

    if (expectations.azure) {
      it("fails when a LoadBalancer loses its static IP", async () => {
        const unpinned = alter(resources, "kubernetes:core/v1:Service", (inputs) => {
          const annotations = (inputs["metadata"] as { annotations?: Record<string, string> } | undefined)?.annotations;
          delete annotations?.[azurePublicIpNameAnnotation];
          return inputs;
        });
        expect(await policiesViolatedBy(unpinned)).toContain("k8s-azure-load-balancer-pinned-ip");
      });

      it("fails when its AKS cluster turns local accounts back on or opens its API server", async () => {
        const opened = alter(resources, "azure-native:containerservice:ManagedCluster", (inputs) => ({
          ...inputs,
          disableLocalAccounts: false,
          apiServerAccessProfile: { authorizedIPRanges: [] },
        }));
        expect(await policiesViolatedBy(opened)).toEqual(expect.arrayContaining(["azure-aks-local-accounts-disabled", "azure-aks-authorized-ip-ranges"]));
      });

      it("fails when its storage account, registry or Redis opens to the internet", async () => {
        let opened = alter(resources, "azure-native:storage:StorageAccount", (inputs) => ({ ...inputs, networkRuleSet: { defaultAction: "Allow" } }));
        opened = alter(opened, "azure-native:containerregistry:Registry", (inputs) => ({ ...inputs, networkRuleSet: { defaultAction: "Allow" } }));
        opened = alter(opened, "azure-native:redis:FirewallRule", () => undefined);
        const expected = ["azure-storage-network-restricted", "azure-registry-network-restricted"];
        if (resources.some(({ type }) => type === "azure-native:redis:Redis")) expected.push("azure-redis-network-restricted");
        expect(await policiesViolatedBy(opened)).toEqual(expect.arrayContaining(expected));
      });

      it("fails when its storage account is opened to anonymous blob reads", async () => {
        const opened = alter(resources, "azure-native:storage:StorageAccount", (inputs) => ({ ...inputs, allowBlobPublicAccess: true }));
        expect(await policiesViolatedBy(opened)).toContain("azure-storage-no-public-blob-access");
      });
    }
  });
}
