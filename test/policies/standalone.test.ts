import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mediaplanePolicies } from "../../policies/policies.js";
import { startPack, type RunningPack } from "./support/packAnalyzer.js";
import { deployment } from "./support/resources.js";

// `pulumi policy publish` packs the policies/ folder alone: it must install from its own package.json and lockfile
// and load without reaching for any file of the repository around it.

const packSource = fileURLToPath(new URL("../../policies/", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "mediaplane-pack-"));
const packCopy = join(scratch, "policies");
let pack: RunningPack;

beforeAll(async () => {
  cpSync(packSource, packCopy, { recursive: true, filter: (source) => !source.includes("node_modules") });
  // The lockfile pins what the repository installs too, so the npm cache usually has every tarball already.
  const install = spawnSync("npm", ["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
    cwd: packCopy,
    encoding: "utf8",
  });
  if (install.status !== 0) throw new Error(`npm ci in a copy of policies/ failed:\n${install.stderr}`);
  pack = await startPack(packCopy, join(packCopy, "node_modules", "@pulumi", "pulumi"));
}, 300_000);

afterAll(() => {
  pack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the policy pack copied alone", () => {
  it("installs from its own lockfile and serves every policy", async () => {
    const info = await pack.info();
    expect(info.getPoliciesList().map((policy) => policy.getName())).toEqual(mediaplanePolicies.map(({ name }) => name));
  });

  it("judges resources as the pack inside the repository does", async () => {
    const hostNetworked = deployment({ name: "coturn", namespace: "mediaplane" });
    (hostNetworked.inputs["spec"] as { template: { spec: Record<string, unknown> } }).template.spec["hostNetwork"] = true;
    expect(await pack.analyze(hostNetworked)).toEqual([
      ["k8s-host-network", expect.stringContaining("Deployment mediaplane/coturn uses hostNetwork, which the pack's config does not allow mediaplane/coturn")],
    ]);
  });
});
