import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { loadStackConfig } from "../../config/index.js";
import { valueOf } from "../../scripts/mockRuntime.js";
import { loadOfflineStack, repositoryRoot, stackSettings } from "../../scripts/stackFile.js";

/** The prod stack (three referenced nodes) with the given secret keys, as `pulumi config set --secret` leaves them. */
function loadProdWith(secrets: Record<string, string>) {
  const config = Object.fromEntries(Object.entries(stackSettings("prod")).map(([key, value]) => [`mediaplane:${key}`, JSON.stringify(value)]));
  const secretKeys = Object.keys(secrets).map((key) => `mediaplane:${key}`);
  pulumi.runtime.setAllConfig({ ...config, ...Object.fromEntries(Object.entries(secrets).map(([key, value]) => [`mediaplane:${key}`, value])) }, secretKeys);
  return loadStackConfig(new pulumi.Config("mediaplane"));
}

const errorOf = (secrets: Record<string, string>): string => {
  try {
    loadProdWith(secrets);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the config was accepted");
};

/** The prod stack's other secrets: the ACME TSIG key and the fleet's SSH key. */
const otherSecrets = {
  acmeTsigSecret: "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cw==",
  bbbSshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
};

describe("referenced nodes' API secrets", () => {
  it("come from one secret map, every value still a secret", async () => {
    const map = { "bbb-1": "secret-of-bbb-1-0123456789", "bbb-2": "secret-of-bbb-2-0123456789", "bbb-large-1": "secret-of-large-0123456789" };
    const { secrets } = loadProdWith({ ...otherSecrets, bbbNodeSecrets: JSON.stringify(map) });
    expect(Object.keys(secrets.bbbNodeSecrets).sort()).toEqual(["bbb-1", "bbb-2", "bbb-large-1"]);
    for (const [id, output] of Object.entries(secrets.bbbNodeSecrets)) {
      expect(await pulumi.isSecret(output)).toBe(true);
      expect(await valueOf(output)).toBe(map[id as keyof typeof map]);
    }
  });

  it("may mix the map and one key per node", async () => {
    const { secrets } = loadProdWith({
      ...otherSecrets,
      bbbNodeSecrets: JSON.stringify({ "bbb-1": "secret-of-bbb-1-0123456789", "bbb-2": "secret-of-bbb-2-0123456789" }),
      "bbbNodeSecret-bbb-large-1": "own-key-of-large-0123456789",
    });
    expect(await valueOf(secrets.bbbNodeSecrets["bbb-large-1"]!)).toBe("own-key-of-large-0123456789");
  });

  it("that are missing are named together on one line, with the command that sets them", () => {
    const message = errorOf({ ...otherSecrets, bbbNodeSecrets: JSON.stringify({ "bbb-2": "secret-of-bbb-2-0123456789" }) });
    expect(message).toBe(
      "mediaplane:bbbNodeSecrets: no API secret for BBB nodes bbb-1, bbb-large-1 (bbb-conf --secret on each); " +
        `set them with: pulumi config set --secret --path 'bbbNodeSecrets["<node id>"]' <value>`,
    );
  });

  it("refuse a map entry for a node the stack does not reference", () => {
    const map = { "bbb-1": "a-secret-0123456789", "bbb-2": "a-secret-0123456789", "bbb-large-1": "a-secret-0123456789", "bbb-9": "a-secret-0123456789" };
    expect(errorOf({ ...otherSecrets, bbbNodeSecrets: JSON.stringify(map) })).toBe(
      'mediaplane:bbbNodeSecrets["bbb-9"]: not a node of bbb.nodes (nodes: bbb-1, bbb-2, bbb-large-1)',
    );
  });

  it("refuse a map that is not an object of strings", () => {
    expect(errorOf({ ...otherSecrets, bbbNodeSecrets: '["bbb-1"]' }).split("\n")[0]).toBe("mediaplane:bbbNodeSecrets: must be a map of node id to API secret");
    const numbers = { "bbb-1": 42, "bbb-2": "a-secret-0123456789", "bbb-large-1": "a-secret-0123456789" };
    expect(errorOf({ ...otherSecrets, bbbNodeSecrets: JSON.stringify(numbers) }).split("\n")[0]).toBe(
      `mediaplane:bbbNodeSecrets["bbb-1"]: must be the node's API secret as a string`,
    );
  });
});

describe("a secret map in a stack file, offline", () => {
  it("gets a placeholder per encrypted entry, the map a secret, and no per-node placeholders besides", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mediaplane-stack-"));
    try {
      const prod = parseYaml(await readFile(join(repositoryRoot, "stacks", "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
      // As `pulumi config set --secret --path 'bbbNodeSecrets["bbb-1"]' ...` leaves it: a plain map of encrypted leaves.
      prod.config["mediaplane:bbbNodeSecrets"] = Object.fromEntries(["bbb-1", "bbb-2", "bbb-large-1"].map((id) => [id, { secure: "v1:AAAAbbb" }]));
      const file = join(dir, "Pulumi.mapped.yaml");
      await writeFile(file, stringifyYaml(prod));
      const stack = loadOfflineStack(file);
      expect(stack.placeholders).toEqual(['bbbNodeSecrets["bbb-1"]', 'bbbNodeSecrets["bbb-2"]', 'bbbNodeSecrets["bbb-large-1"]', "acmeTsigSecret", "bbbSshPrivateKey"]);
      expect(stack.secretKeys).toContain("mediaplane:bbbNodeSecrets");
      pulumi.runtime.setAllConfig(stack.config, stack.secretKeys);
      const { secrets } = loadStackConfig(new pulumi.Config("mediaplane"));
      expect(await valueOf(secrets.bbbNodeSecrets["bbb-2"]!)).toBe('PLACEHOLDER-bbbNodeSecrets["bbb-2"]-not-available-offline');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
