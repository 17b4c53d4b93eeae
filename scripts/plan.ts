import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { stringify as stringifyYaml } from "yaml";
import { ConfigError } from "@mediaplane/balancer/config";
import { blocksDeployment, evaluatePolicies, formatPolicyReport, plannedResources } from "./policyEvaluation.js";
import { parsePolicyPackConfig } from "../policies/packConfig.js";
import { kubernetesManifest } from "./manifests.js";
import { isSecretValue, type ProgramRun, type RecordedResource } from "./mockRuntime.js";
import { runProgramOnStack } from "./offlineProgram.js";
import { loadOfflineStack, repositoryRoot } from "./stackFile.js";

/**
 * The offline plan: `npm run plan -- [stack | path/to/Pulumi.<stack>.yaml] [--policy-pack-config <file>]` (default dev).
 * Runs the real program under Pulumi's mock runtime, prints the resource tree and a count per type, and writes
 * every Kubernetes object to out/<stack>/, and evaluates the policy pack on every resource. Exit code 1 on any
 * error (one line for config errors) and on mandatory policy violations.
 */

function printTree(run: ProgramRun): string[] {
  const children = new Map<string | undefined, RecordedResource[]>();
  for (const resource of run.resources) {
    const siblings = children.get(resource.parentUrn) ?? [];
    siblings.push(resource);
    children.set(resource.parentUrn, siblings);
  }
  const lines: string[] = [];
  const walk = (parentUrn: string | undefined, depth: number): void => {
    for (const resource of children.get(parentUrn) ?? []) {
      lines.push(`${"  ".repeat(depth)}${resource.custom ? "+" : "*"} ${resource.type}  ${resource.name}`);
      walk(resource.urn, depth + 1);
    }
  };
  walk(undefined, 1);
  return lines;
}

function countByType(run: ProgramRun): string[] {
  const counts = new Map<string, number>();
  for (const resource of run.resources) counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  return [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, count]) => `${String(count).padStart(5)}  ${type}`);
}

/** Plain outputs in full; secret ones by name only. */
function describeOutputs(outputs: Record<string, unknown>): string {
  const secret = Object.keys(outputs).filter((key) => isSecretValue(outputs[key]));
  const plain = Object.fromEntries(Object.entries(outputs).filter(([key, value]) => !secret.includes(key) && value !== undefined));
  return `Stack outputs:\n${stringifyYaml(plain, { lineWidth: 0 }).trimEnd().replace(/^/gm, "  ")}\n  secret: ${secret.join(", ") || "none"}`;
}

function writeManifests(run: ProgramRun, directory: string): number {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  const used = new Set<string>();
  let written = 0;
  for (const resource of run.resources) {
    const manifest = kubernetesManifest(resource);
    if (manifest === undefined) continue;
    const stem = `${String(manifest["kind"]).toLowerCase()}-${resource.name}`.replace(/[^A-Za-z0-9._-]/g, "_");
    let file = `${stem}.yaml`;
    for (let n = 2; used.has(file); n += 1) file = `${stem}-${n}.yaml`;
    used.add(file);
    writeFileSync(join(directory, file), stringifyYaml(manifest, { lineWidth: 0 }));
    written += 1;
  }
  return written;
}

/** Exit code 0, or 1 when a mandatory policy is violated. */
async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { "policy-pack-config": { type: "string" } } });
  const stack = loadOfflineStack(positionals[0] ?? "dev");
  const policyConfigFile = values["policy-pack-config"];
  const policyConfig = policyConfigFile === undefined ? {} : parsePolicyPackConfig(readFileSync(policyConfigFile, "utf8"), policyConfigFile);
  console.log(`Plan of stack "${stack.stack}" (${relative(repositoryRoot, stack.file)}), offline under Pulumi's mock runtime.`);
  if (stack.placeholders.length > 0) {
    const shown = stack.placeholders.slice(0, 4).join(", ");
    const more = stack.placeholders.length > 4 ? ` and ${stack.placeholders.length - 4} more` : "";
    console.log(`Secrets not available offline, placeholders used: ${shown}${more}`);
  }
  console.log('Values the cloud computes on "pulumi up" appear as <unknown until apply: ...>.\n');

  const programStarted = performance.now();
  const run = await runProgramOnStack(stack);

  const programSeconds = (performance.now() - programStarted) / 1000;

  console.log(`Resources (* component, + resource):\n  pulumi:pulumi:Stack  ${stack.project}-${stack.stack}`);
  console.log(printTree(run).join("\n"));
  console.log(`\nCount per type (${run.resources.length} in all):\n${countByType(run).join("\n")}`);
  const outputDirectory = join(repositoryRoot, "out", stack.stack);
  const written = writeManifests(run, outputDirectory);
  console.log(`\n${written} Kubernetes manifests written to ${relative(repositoryRoot, outputDirectory)}/`);
  console.log(`\n${describeOutputs(run.outputs)}`);
  for (const token of run.unmockedCalls) console.log(`warning: no offline answer for ${token}; its result is empty`);

  const policiesStarted = performance.now();
  const violations = await evaluatePolicies(plannedResources(run), { config: policyConfig });
  const policySeconds = (performance.now() - policiesStarted) / 1000;
  console.log(`\n${formatPolicyReport(violations)}`);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `Planned in ${seconds.toFixed(2)} s (program incl. loading its modules ${programSeconds.toFixed(2)} s, policies ${policySeconds.toFixed(2)} s)`,
  );
  return blocksDeployment(violations) ? 1 : 0;
}

/** One line for the user (a config error is its own message); the stack trace only when asked for. */
function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`plan failed: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env["PLAN_DEBUG"] && error instanceof Error) console.error(error.stack);
  }
  process.exit(1);
}

// A failing `apply` (e.g. a rendered config that does not validate) surfaces outside the awaited chain.
process.on("uncaughtException", fail);
process.on("unhandledRejection", fail);
main(process.argv.slice(2)).then((code) => process.exit(code), fail);
