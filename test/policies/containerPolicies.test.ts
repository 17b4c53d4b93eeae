import { describe, expect, it } from "vitest";
import {
  containerProbes,
  containerResources,
  looksLikeSecretName,
  nonRootNoEscalation,
  pinnedImages,
  runToCompletionResources,
  secretsFromSecretRefs,
} from "../../policies/kubernetes/containerPolicies.js";
import { evaluatePolicies } from "../../scripts/policyEvaluation.js";
import { cronJob, deployment, hardenedContainer, job, planned, statefulSet, violationsOf } from "./support/resources.js";

describe("k8s-pinned-images", () => {
  it("accepts a release tag and a digest", async () => {
    const digest = `example.azurecr.io/balancer@sha256:${"a".repeat(64)}`;
    const resource = deployment({ containers: [hardenedContainer(), hardenedContainer({ name: "b", image: digest })] });
    expect(await violationsOf(pinnedImages, resource)).toEqual([]);
  });

  it("rejects the latest tag", async () => {
    const resource = deployment({ name: "jvb", containers: [hardenedContainer({ name: "jvb", image: "jitsi/jvb:latest" })] });
    const [message] = await violationsOf(pinnedImages, resource);
    expect(message).toMatch(/^Deployment media\/jvb containers\[0\] \(jvb\): .*"jitsi\/jvb:latest" is not pinned/);
  });

  it("rejects an image without a tag", async () => {
    const resource = deployment({ containers: [hardenedContainer({ image: "docker.io/coturn/coturn" })] });
    expect(await violationsOf(pinnedImages, resource)).toEqual([expect.stringContaining("is not pinned")]);
  });

  it("rejects a floating tag on an init container too", async () => {
    const resource = deployment({ initContainers: [hardenedContainer({ name: "init", image: "busybox:stable" })] });
    expect(await violationsOf(pinnedImages, resource)).toEqual([expect.stringContaining("initContainers[0] (init)")]);
  });

  it("checks the pod template of a CronJob", async () => {
    const resource = cronJob({ containers: [hardenedContainer({ image: "alpine" })] });
    expect(await violationsOf(pinnedImages, resource)).toHaveLength(1);
  });

  it("ignores resources that run no pods", async () => {
    const configMap = planned("kubernetes:core/v1:ConfigMap", { data: { image: "nginx:latest" } });
    expect(await violationsOf(pinnedImages, configMap)).toEqual([]);
  });
});

describe("k8s-container-resources", () => {
  it("accepts a container with CPU and memory requests and limits", async () => {
    expect(await violationsOf(containerResources, statefulSet())).toEqual([]);
  });

  it("rejects a container without limits", async () => {
    const resource = deployment({
      containers: [hardenedContainer({ resources: { requests: { cpu: "100m", memory: "128Mi" } } })],
    });
    expect(await violationsOf(containerResources, resource)).toEqual([expect.stringContaining("sets no cpu/memory limits")]);
  });

  it("rejects a container requesting memory but not CPU", async () => {
    const resource = deployment({
      containers: [hardenedContainer({ resources: { requests: { memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } } })],
    });
    expect(await violationsOf(containerResources, resource)).toEqual([expect.stringContaining("sets no cpu requests")]);
  });

  it("holds a sidecar init container (restartPolicy Always) to the same rule", async () => {
    const sidecar = hardenedContainer({ name: "log-shipper", restartPolicy: "Always", resources: undefined });
    expect(await violationsOf(containerResources, deployment({ initContainers: [sidecar] }))).toHaveLength(2);
  });

  it("leaves init containers and jobs to the advisory policy", async () => {
    const bare = hardenedContainer({ resources: undefined });
    expect(await violationsOf(containerResources, deployment({ initContainers: [bare] }), job({ containers: [bare] }))).toEqual([]);
  });
});

describe("k8s-run-to-completion-resources", () => {
  it("is advisory", () => {
    expect(runToCompletionResources.enforcementLevel).toBe("advisory");
  });

  it("flags a Job container and an init container without resources", async () => {
    const bare = hardenedContainer({ resources: undefined });
    const violations = await violationsOf(runToCompletionResources, job({ containers: [bare] }), deployment({ initContainers: [bare] }));
    expect(violations).toHaveLength(4);
  });

  it("accepts a Job container with requests and limits", async () => {
    expect(await violationsOf(runToCompletionResources, job())).toEqual([]);
  });
});

describe("k8s-container-probes", () => {
  it("accepts a container with readiness and liveness probes", async () => {
    expect(await violationsOf(containerProbes, deployment())).toEqual([]);
  });

  it("rejects a container without a readiness probe", async () => {
    const resource = deployment({ containers: [hardenedContainer({ readinessProbe: undefined })] });
    expect(await violationsOf(containerProbes, resource)).toEqual([expect.stringContaining("has no readinessProbe")]);
  });

  it("rejects a container without a liveness probe", async () => {
    const resource = deployment({ containers: [hardenedContainer({ livenessProbe: undefined })] });
    expect(await violationsOf(containerProbes, resource)).toEqual([expect.stringContaining("has no livenessProbe")]);
  });

  it("does not ask Jobs and init containers for probes", async () => {
    const unprobed = hardenedContainer({ readinessProbe: undefined, livenessProbe: undefined });
    expect(await violationsOf(containerProbes, job({ containers: [unprobed] }), deployment({ initContainers: [unprobed] }))).toEqual([]);
  });
});

describe("k8s-non-root-no-privilege-escalation", () => {
  it("accepts a container that sets both", async () => {
    expect(await violationsOf(nonRootNoEscalation, deployment())).toEqual([]);
  });

  it("accepts runAsNonRoot inherited from the pod security context", async () => {
    const resource = deployment({
      podSecurityContext: { runAsNonRoot: true },
      containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false } })],
    });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([]);
  });

  it("rejects a container that may escalate privileges", async () => {
    const resource = deployment({ containers: [hardenedContainer({ securityContext: { runAsNonRoot: true } })] });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([
      expect.stringContaining("does not set allowPrivilegeEscalation: false"),
    ]);
  });

  it("rejects a container that may run as root", async () => {
    const resource = deployment({ containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false } })] });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([expect.stringContaining("runAsNonRoot: true")]);
  });

  it("rejects a privileged container", async () => {
    const resource = deployment({
      containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, privileged: true } })],
    });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([expect.stringContaining("runs privileged")]);
  });

  it("checks init containers too", async () => {
    const resource = deployment({ initContainers: [hardenedContainer({ name: "chown", securityContext: {} })] });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([expect.stringContaining("initContainers[0] (chown)")]);
  });

  it("accepts root in a workload the pack's config exempts by name, with a reason", async () => {
    const resource = deployment({ name: "jitsi-web", namespace: "mediaplane-media", containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false } })] });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([]);
  });

  it("never exempts privilege escalation, even for an exempted workload", async () => {
    const resource = deployment({ name: "jitsi-web", namespace: "mediaplane-media", containers: [hardenedContainer({ securityContext: {} })] });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([expect.stringContaining("does not set allowPrivilegeEscalation: false")]);
  });

  it("does not let a workload exempt itself with an annotation", async () => {
    const resource = deployment({
      name: "turn",
      annotations: { "mediaplane.io/privileged-reason": "coturn binds port 443 before dropping privileges" },
      containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false } })],
    });
    expect(await violationsOf(nonRootNoEscalation, resource)).toEqual([expect.stringContaining("does not set runAsNonRoot: true")]);
  });

  it("does not accept an exemption with an empty reason", async () => {
    const resource = deployment({ name: "turn", containers: [hardenedContainer({ securityContext: { allowPrivilegeEscalation: false } })] });
    const config = { "k8s-non-root-no-privilege-escalation": { exemptions: [{ workload: "media/turn", reason: " " }] } };
    const violations = await evaluatePolicies([resource], { policies: [nonRootNoEscalation], config });
    expect(violations).toHaveLength(1);
  });
});

describe("k8s-secrets-from-secret-refs", () => {
  const withEnv = (...env: Record<string, unknown>[]) => deployment({ containers: [hardenedContainer({ env })] });

  it("accepts a password read from a Secret", async () => {
    const env = { name: "JVB_AUTH_PASSWORD", valueFrom: { secretKeyRef: { name: "jitsi", key: "jvb" } } };
    expect(await violationsOf(secretsFromSecretRefs, withEnv(env))).toEqual([]);
  });

  it("rejects a password given as a literal value", async () => {
    const violations = await violationsOf(secretsFromSecretRefs, withEnv({ name: "JICOFO_AUTH_PASSWORD", value: "hunter2" }));
    expect(violations).toEqual([expect.stringContaining("env JICOFO_AUTH_PASSWORD looks like a credential")]);
  });

  it("rejects a token read from a ConfigMap", async () => {
    const env = { name: "API_TOKEN", valueFrom: { configMapKeyRef: { name: "settings", key: "token" } } };
    expect(await violationsOf(secretsFromSecretRefs, withEnv(env))).toHaveLength(1);
  });

  it("accepts plain settings, switches and file paths", async () => {
    const resource = withEnv(
      { name: "XMPP_DOMAIN", value: "meet.jitsi" },
      { name: "ENABLE_TOKEN_AUTH", value: "true" },
      { name: "TLS_KEY_FILE", value: "/certs/tls.key" },
    );
    expect(await violationsOf(secretsFromSecretRefs, resource)).toEqual([]);
  });

  it("accepts the TSIG key name, which is configured as not secret", async () => {
    expect(await violationsOf(secretsFromSecretRefs, withEnv({ name: "RFC2136_TSIG_KEY", value: "acme." }))).toEqual([]);
  });

  it("recognises credential words in upper and camel case", () => {
    expect(["TURN_SECRET", "REDIS_PASSWORD", "apiKey", "ACCESS_TOKEN", "AZURE_STORAGE_KEY"].map(looksLikeSecretName)).toEqual([
      true, true, true, true, true,
    ]);
    expect(["KEYCLOAK_URL", "MONKEY_MODE", "PUBLIC_URL", "PASSWORD_FILE"].map(looksLikeSecretName)).toEqual([false, false, false, false]);
  });
});
