import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { kubernetesManifest } from "../../scripts/manifests.js";
import { noEngineOptions, type RecordedResource } from "../../scripts/mockRuntime.js";
import { loadOfflineStack, placeholderSecret, repositoryRoot } from "../../scripts/stackFile.js";

const scratch = mkdtempSync(join(tmpdir(), "mediaplane-plan-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const resource = (type: string, inputs: Record<string, unknown>): RecordedResource => ({
  type,
  name: "example",
  urn: `urn:pulumi:test::mediaplane::${type}::example`,
  custom: true,
  inputs,
  parentUrn: undefined,
  providerUrn: undefined,
  engine: noEngineOptions,
});

describe("offline stack files", () => {
  it("stands in a marked placeholder for every secret the stack needs", () => {
    const dev = loadOfflineStack("dev");
    expect(dev.placeholders).toEqual(["acmeTsigSecret", "bbbNodeSecret-bbb-dev-1"]);
    expect(dev.config["mediaplane:acmeTsigSecret"]).toBe(placeholderSecret("acmeTsigSecret"));
    expect(dev.secretKeys).toContain("mediaplane:bbbNodeSecret-bbb-dev-1");
  });

  it("treats an encrypted value it cannot read as a placeholder secret", () => {
    const file = join(scratch, "Pulumi.encrypted.yaml");
    const dev = parseYaml(readFileSync(join(repositoryRoot, "stacks", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    dev.config["mediaplane:acmeTsigSecret"] = { secure: "v1:abc" };
    writeFileSync(file, stringifyYaml(dev));
    const stack = loadOfflineStack(file);
    expect(stack.stack).toBe("encrypted");
    expect(stack.config["mediaplane:acmeTsigSecret"]).toBe(placeholderSecret("acmeTsigSecret"));
  });
});

describe("manifests written by the plan", () => {
  it("turns a Kubernetes resource into an object with apiVersion and kind from its type token", () => {
    expect(kubernetesManifest(resource("kubernetes:apps/v1:Deployment", { metadata: { name: "web" } }))).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
    });
    expect(kubernetesManifest(resource("kubernetes:core/v1:ConfigMap", {}))).toMatchObject({ apiVersion: "v1", kind: "ConfigMap" });
  });

  it("never writes a secret value", () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: { password: "hunter2-hunter2" } };
    expect(kubernetesManifest(resource("kubernetes:core/v1:Secret", { stringData: secret }))).toMatchObject({
      stringData: { password: "REDACTED" },
    });
  });

  it("skips what is not a Kubernetes object", () => {
    expect(kubernetesManifest(resource("azure-native:storage:FileShare", {}))).toBeUndefined();
    expect(kubernetesManifest(resource("kubernetes:helm.sh/v3:Release", {}))).toBeUndefined();
  });
});

const plan = (stackFile: string, ...options: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "--conditions", "source", "scripts/plan.ts", stackFile, ...options], {
    cwd: repositoryRoot,
    encoding: "utf8",
  });

describe("npm run plan", () => {
  it("prints the resource tree and counts and writes the manifests under out/<stack>/", () => {
    const stack = `plantest${process.pid}`;
    const file = join(scratch, `Pulumi.${stack}.yaml`);
    copyFileSync(join(repositoryRoot, "stacks", "Pulumi.local.yaml"), file);
    const outDirectory = join(repositoryRoot, "out", stack);
    try {
      const result = plan(file);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`pulumi:pulumi:Stack  mediaplane-${stack}`);
      expect(result.stdout).toMatch(/^ {4}\+ kubernetes:core\/v1:Namespace {2}mediaplane-namespace$/m);
      expect(result.stdout).toMatch(/^ +1 {2}mediaplane:platform:MediaPlatform$/m);
      expect(existsSync(join(outDirectory, "namespace-mediaplane-namespace.yaml"))).toBe(true);
      expect(parseYaml(readFileSync(join(outDirectory, "namespace-mediaplane-namespace.yaml"), "utf8"))).toMatchObject({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "mediaplane" },
      });
    } finally {
      rmSync(outDirectory, { recursive: true, force: true });
    }
  });

  it("exits 1 on a mandatory violation: a policy pack config that withdraws the root exemptions", () => {
    // dev runs Jitsi, whose images start as root: only the pack's config exempts them.
    const stack = `policytest${process.pid}`;
    const file = join(scratch, `Pulumi.${stack}.yaml`);
    copyFileSync(join(repositoryRoot, "stacks", "Pulumi.dev.yaml"), file);
    const policyConfig = join(scratch, "policy-config.json");
    writeFileSync(policyConfig, JSON.stringify({ "k8s-non-root-no-privilege-escalation": { exemptions: [] } }));
    try {
      const result = plan(file, "--policy-pack-config", policyConfig);
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/^Policies \(\d+ evaluated\): .*\d+ mandatory/m);
      expect(result.stdout).toContain(
        `  [mandatory] k8s-non-root-no-privilege-escalation  urn:pulumi:${stack}::mediaplane::mediaplane:k8s:JitsiMeet$kubernetes:apps/v1:Deployment::mediaplane-jitsi-prosody`,
      );
    } finally {
      rmSync(join(repositoryRoot, "out", stack), { recursive: true, force: true });
    }
  });

  it("exits non-zero with one line naming the wrong key, and no stack trace", () => {
    const file = join(scratch, "Pulumi.broken.yaml");
    const dev = parseYaml(readFileSync(join(repositoryRoot, "stacks", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    dev.config["mediaplane:tenants"] = [{ slug: "demo" }, { slug: "Not A Slug" }];
    writeFileSync(file, stringifyYaml(dev));
    const result = plan(file);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      "mediaplane:tenants[1].slug: must be 1..32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
    ]);
  });

  it("prints every problem of a stack file with three independent errors, one line each", () => {
    const file = join(scratch, "Pulumi.threeerrors.yaml");
    const dev = parseYaml(readFileSync(join(repositoryRoot, "stacks", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    dev.config["mediaplane:tenants"] = [{ slug: "Not A Slug" }];
    dev.config["mediaplane:recordings"] = { quotaGi: 0 };
    dev.config["mediaplane:janus"] = { enabled: true, replicas: "two" };
    writeFileSync(file, stringifyYaml(dev));
    const result = plan(file);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      "mediaplane:tenants[0].slug: must be 1..32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
      "mediaplane:janus.replicas: Invalid input: expected number, received string",
      "mediaplane:recordings.quotaGi: Too small: expected number to be >=1",
    ]);
  });
});
