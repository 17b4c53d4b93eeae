import type { IContainer, IPodSpec } from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { kubernetesManifest } from "../../../scripts/manifests.js";
import { runStack, type StackRun } from "../../stacks/support/stackRun.js";
import { exemptionFor, rootExemptions } from "../../../policies/kubernetes/workloadExemptions.js";
import { validateAgainstSchema } from "./schemas.js";
import { tlsOptionProblems } from "./traefikTlsOptions.js";
import { podSecurityViolations, strictestAdmittingLevel, type PodSecurityLevel } from "./podSecurity.js";
import { podReferenceProblems, routeReferenceProblems, unknownPeerNamespaces } from "./namespaceReferences.js";
import { stackSettings } from "../../../scripts/stackFile.js";
import { parseStackConfig } from "../../../config/index.js";

export type Manifest = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

const podTemplateKinds = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

function podSpecOf(manifest: Manifest): IPodSpec {
  return (manifest["spec"] as { template: { spec: IPodSpec } }).template.spec;
}

function containersOf(manifest: Manifest): IContainer[] {
  const spec = podSpecOf(manifest);
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** The Kubernetes objects a stack's plan writes to `out/<stack>/`, from one run of the real program under mocks. */
export interface StackManifests {
  readonly run: StackRun;
  readonly manifests: readonly Manifest[];
  /** The one manifest of a kind and name; throws when absent. */
  get(kind: string, name: string): Manifest;
}

/** Runs the stack once before the file's tests (the mock runtime is global: one stack per test file). */
export function useStackManifests(stack: string): () => StackManifests {
  let loaded: StackManifests | undefined;
  beforeAll(async () => {
    const run = await runStack(stack);
    const manifests = run.resources.map(kubernetesManifest).filter((manifest): manifest is Manifest => manifest !== undefined);
    loaded = {
      run,
      manifests,
      get: (kind, name) => {
        const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
        if (found === undefined) throw new Error(`${stack}: no ${kind} ${name}`);
        return found;
      },
    };
  });
  return () => {
    if (loaded === undefined) throw new Error(`${stack} stack has not run`);
    return loaded;
  };
}

/** Checks every Kubernetes manifest of the stack: schema-valid, and every workload held to the platform's rules. */
export function describeStackManifests(stack: string, load: () => StackManifests): void {
  const manifestsOf = () => load().manifests;
  const workloads = () => manifestsOf().filter((manifest) => podTemplateKinds.has(manifest.kind));

  describe(`${stack} stack manifests`, () => {
    it("are valid against the Kubernetes and traefik CRD schemas", async () => {
      const failures: string[] = [];
      expect(workloads().length).toBeGreaterThan(0);
      for (const manifest of manifestsOf()) {
        await validateAgainstSchema(manifest).catch((error: Error) => failures.push(error.message));
      }
      expect(failures).toEqual([]);
    });

    it("serve every TLS route with the hardened TLS option, referenced the way traefik resolves it", () => {
      expect(tlsOptionProblems(manifestsOf())).toEqual([]);
      expect(manifestsOf().filter((manifest) => manifest.kind === "TLSOption").map((option) => option.metadata.name)).toEqual(["default"]);
    });

    it("grant no access to Secrets beyond a namespace: no ClusterRole names them", () => {
      for (const role of manifestsOf().filter((manifest) => manifest.kind === "ClusterRole")) {
        const rules = (role["rules"] ?? []) as { resources?: string[] }[];
        expect(rules.flatMap((rule) => rule.resources ?? []), role.metadata.name).not.toContain("secrets");
        expect(rules.flatMap((rule) => rule.resources ?? []), role.metadata.name).not.toContain("*");
      }
    });

    it("label each namespace with the strictest Pod Security level all its pods meet, warning and auditing at restricted", () => {
      const namespaces = manifestsOf().filter((manifest) => manifest.kind === "Namespace");
      expect(namespaces.length).toBeGreaterThan(0);
      for (const namespace of namespaces) {
        const labels = namespace.metadata.labels ?? {};
        const level = labels["pod-security.kubernetes.io/enforce"] as PodSecurityLevel | undefined;
        expect(level, namespace.metadata.name).toBeDefined();
        expect(labels["pod-security.kubernetes.io/warn"]).toBe("restricted");
        expect(labels["pod-security.kubernetes.io/audit"]).toBe("restricted");
        const pods = workloads().filter((manifest) => manifest.metadata.namespace === namespace.metadata.name);
        const refused = pods.flatMap((manifest) => podSecurityViolations(level ?? "restricted", podSpecOf(manifest)).map((problem) => `${manifest.metadata.name}/${problem}`));
        expect(refused, `${namespace.metadata.name} enforces ${level}`).toEqual([]);
        // Not looser than needed: some pod of the namespace needs the level it enforces.
        const needed = pods.map((manifest) => strictestAdmittingLevel(podSpecOf(manifest)));
        if (level !== "restricted") expect(needed, namespace.metadata.name).toContain(level);
      }
    });

    it("enforce restricted in the platform namespace, and run no pod in a namespace looser than the pod needs", () => {
      const level = (name: string | undefined) =>
        manifestsOf().find((manifest) => manifest.kind === "Namespace" && manifest.metadata.name === name)?.metadata.labels?.["pod-security.kubernetes.io/enforce"];
      expect(level("mediaplane")).toBe("restricted");
      const misplaced = workloads().flatMap((manifest) => {
        const needed = strictestAdmittingLevel(podSpecOf(manifest));
        const enforced = level(manifest.metadata.namespace);
        return needed === enforced ? [] : [`${manifest.metadata.namespace}/${manifest.metadata.name} needs ${needed}, its namespace enforces ${enforced}`];
      });
      expect(misplaced).toEqual([]);
    });

    it("explain on each namespace below restricted which pods need its level", () => {
      for (const namespace of manifestsOf().filter((manifest) => manifest.kind === "Namespace")) {
        const { labels = {}, annotations = {} } = namespace.metadata;
        const why = annotations["mediaplane/pod-security-exceptions"];
        if (labels["pod-security.kubernetes.io/enforce"] === "restricted") expect(why, namespace.metadata.name).toBeUndefined();
        else expect(why, namespace.metadata.name).toMatch(/\w/);
      }
    });

    it("keep every Secret, ConfigMap, claim and service account a pod names in the pod's own namespace", () => {
      expect(podReferenceProblems(manifestsOf())).toEqual([]);
    });

    it("route only to Services and Middlewares in the route's own namespace, the only ones traefik resolves", () => {
      expect(manifestsOf().some((manifest) => manifest.kind === "IngressRoute")).toBe(true);
      expect(routeReferenceProblems(manifestsOf())).toEqual([]);
    });

    it("let NetworkPolicies name only namespaces that exist: the stack's own, the cluster DNS's and its Prometheus's", () => {
      const prometheus = parseStackConfig(stackSettings(stack), "mediaplane").monitoring.prometheusOperator?.prometheusPods.namespace;
      expect(unknownPeerNamespaces(manifestsOf(), ["kube-system", ...(prometheus === undefined ? [] : [prometheus])])).toEqual([]);
    });

    it("pin every image to a release tag or digest", () => {
      for (const container of workloads().flatMap(containersOf)) {
        expect(container.image, container.name).not.toMatch(/:(latest|stable)$/);
        // A digest is known only after the build: the offline plan shows its marker in its place.
        expect(container.image, container.name).toMatch(/(:[\w.-]+|@sha256:[0-9a-f]{64}|:[\w.-]+@<unknown until apply: digest of .*>)$/);
      }
    });

    it("give every container requests and limits, and every long-running container readiness and liveness probes", () => {
      for (const manifest of workloads()) {
        for (const container of containersOf(manifest)) {
          expect(container.resources?.requests, `${manifest.metadata.name}/${container.name}`).toBeDefined();
          expect(container.resources?.limits, `${manifest.metadata.name}/${container.name}`).toBeDefined();
        }
        for (const container of podSpecOf(manifest).containers) {
          expect(container.readinessProbe, `${manifest.metadata.name}/${container.name}`).toBeDefined();
          expect(container.livenessProbe, `${manifest.metadata.name}/${container.name}`).toBeDefined();
        }
      }
    });

    it("forbid privilege escalation everywhere, and run non-root unless the policy pack exempts the workload", () => {
      for (const manifest of workloads()) {
        const spec = podSpecOf(manifest);
        const exempt = exemptionFor(rootExemptions, `${manifest.metadata.namespace}/${manifest.metadata.name}`) !== undefined;
        for (const container of containersOf(manifest)) {
          expect(container.securityContext?.allowPrivilegeEscalation, `${manifest.metadata.name}/${container.name}`).toBe(false);
          const nonRoot = container.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot;
          if (!exempt) expect(nonRoot, `${manifest.metadata.name}/${container.name}`).toBe(true);
        }
      }
    });

    it("mount a service account token only into traefik, the one workload that reads the Kubernetes API", () => {
      for (const manifest of workloads()) {
        const automount = podSpecOf(manifest).automountServiceAccountToken;
        if (manifest.metadata.name === "traefik") expect(automount).toBeUndefined();
        else expect(automount, manifest.metadata.name).toBe(false);
      }
    });

    it("read secret values only through Secret references", () => {
      for (const container of workloads().flatMap(containersOf)) {
        for (const variable of container.env ?? []) {
          if (/PASSWORD|SECRET|TOKEN|CREDENTIALS|REDIS_URL/.test(variable.name)) {
            expect(variable.valueFrom?.secretKeyRef, `${container.name} ${variable.name}`).toBeDefined();
          }
        }
      }
    });

    it("protect every workload with more than one replica by a PodDisruptionBudget", () => {
      const budgets = manifestsOf().filter((manifest) => manifest.kind === "PodDisruptionBudget");
      for (const manifest of workloads()) {
        const replicas = (manifest["spec"] as { replicas?: number }).replicas;
        if (replicas === undefined || replicas < 2) continue;
        const labels = (manifest["spec"] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        const covered = budgets.some((budget) => {
          const selector = (budget["spec"] as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
          return Object.entries(selector).every(([key, value]) => labels[key] === value);
        });
        expect(covered, manifest.metadata.name).toBe(true);
      }
    });

    it("select every pod with some NetworkPolicy, except host-network pods that policies cannot reach", () => {
      const policies = manifestsOf().filter((manifest) => manifest.kind === "NetworkPolicy");
      for (const manifest of workloads()) {
        if (podSpecOf(manifest).hostNetwork === true) continue;
        const labels = (manifest["spec"] as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
        const selected = policies.some((policy) => {
          const selector = (policy["spec"] as { podSelector: { matchLabels?: Record<string, string> } }).podSelector.matchLabels ?? {};
          return Object.entries(selector).every(([key, value]) => labels[key] === value);
        });
        expect(selected, manifest.metadata.name).toBe(true);
      }
    });
  });
}
