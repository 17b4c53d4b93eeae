import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repositoryRoot } from "../../scripts/repositoryRoot.js";

// Every `sh` block of README.md and docs/*.md carries a marker on the line right before its fence:
//   <!-- ci: run -->              each command of the block is run, in document order, on a fresh clone
//   <!-- ci: skip (why) -->       not run; the reason is required (Pulumi CLI, a cloud, a long run, ...)
// The docs are read from the fresh clone of HEAD when the test runs, so the commands and the code they run are
// the same commit. The clone gets a real `npm ci` (from the npm cache): linking the checkout's node_modules would
// hide what a fresh clone lacks (the workspace link would point back at the checkout's built balancer/dist).

interface ShellBlock {
  readonly file: string;
  readonly line: number;
  readonly marker: { readonly run: true } | { readonly run: false; readonly reason: string } | undefined;
  readonly commands: string[];
}

const markerPattern = /^<!--\s*ci:\s*(?:(run)|skip\s*\((.+)\))\s*-->$/;

function shellBlocks(root: string, file: string): ShellBlock[] {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]?.trim() !== "```sh") continue;
    const match = markerPattern.exec(lines[index - 1]?.trim() ?? "");
    const marker = match === null ? undefined : match[1] === "run" ? ({ run: true } as const) : { run: false as const, reason: match[2] ?? "" };
    const commands: string[] = [];
    let end = index + 1;
    for (; end < lines.length && lines[end]?.trim() !== "```"; end++) {
      const command = lines[end]?.trim() ?? "";
      if (command !== "" && !command.startsWith("#")) commands.push(command);
    }
    blocks.push({ file, line: index + 1, marker, commands });
    index = end;
  }
  return blocks;
}

function documentedBlocks(root: string): ShellBlock[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs].flatMap((file) => shellBlocks(root, file));
}

/** The environment of a developer's shell: without what vitest sets for its own tests (MODE=test, NODE_ENV, ...). */
function shellEnvironment(): NodeJS.ProcessEnv {
  const vitestKeys = new Set(["MODE", "NODE_ENV", "TEST", "DEV", "PROD", "SSR", "BASE_URL"]);
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !vitestKeys.has(key) && !key.startsWith("VITEST")));
}

let clone: string;

beforeAll(() => {
  clone = mkdtempSync(join(tmpdir(), "mediaplane-clone-"));
  execFileSync("git", ["clone", "--quiet", repositoryRoot, clone]);
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], { cwd: clone, stdio: "ignore" });
}, 300_000);

// Removing the clone's node_modules takes minutes on a loaded machine.
afterAll(() => {
  if (clone !== undefined) rmSync(clone, { recursive: true, force: true });
}, 300_000);

describe("the shell commands of README.md and docs/*.md", () => {
  it("each block says whether CI runs it, and why not when it does not", () => {
    const unmarked = documentedBlocks(clone)
      .filter((block) => block.marker === undefined || (!block.marker.run && block.marker.reason.trim() === ""))
      .map((block) => `${block.file}:${block.line}`);

    expect(unmarked).toEqual([]);
  });

  it("every command marked for CI exits 0 on a fresh clone after npm ci", () => {
    const commands = documentedBlocks(clone).flatMap((block) =>
      block.marker?.run === true ? block.commands.map((command) => ({ where: `${block.file}:${block.line}`, command })) : [],
    );
    expect(commands.length).toBeGreaterThan(0);

    const failures: string[] = [];
    for (const { where, command } of commands) {
      const run = spawnSync("bash", ["-o", "pipefail", "-c", command], { cwd: clone, env: shellEnvironment(), encoding: "utf8", timeout: 300_000 });
      if (run.status !== 0) failures.push(`${where}: \`${command}\` exited ${run.status ?? run.signal}\n${run.stderr.slice(-2000)}`);
    }

    expect(failures).toEqual([]);
  }, 900_000);
});
