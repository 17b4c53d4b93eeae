import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repositoryRoot } from "./repositoryRoot.js";

// The README's test entry, `npm test`, on a machine where a program the tests start is missing: its `pretest`
// (scripts/prerequisites.sh --install-if-root) must stop the run before vitest starts, with one line.

const temporaryDirectories: string[] = [];
afterEach(() => {
  for (const directory of temporaryDirectories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** A PATH of one directory that links every program of the current PATH except `hidden` (first match wins). */
function pathWithout(hidden: readonly string[]): string {
  const directory = mkdtempSync(join(tmpdir(), "mediaplane-path-"));
  temporaryDirectories.push(directory);
  for (const source of (process.env.PATH ?? "").split(delimiter)) {
    if (source === "" || !existsSync(source)) continue;
    for (const name of readdirSync(source)) {
      if (hidden.includes(name) || existsSync(join(directory, name))) continue;
      symlinkSync(join(source, name), join(directory, name));
    }
  }
  return directory;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly vitestStarted: boolean;
}

/** Runs `npm test` in the checkout; should vitest start anyway, the run is stopped at its banner (no suite in a suite). */
function npmTest(path: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["test"], { cwd: repositoryRoot, env: { ...process.env, PATH: path }, detached: true });
    let stdout = "";
    let stderr = "";
    let vitestStarted = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!vitestStarted && /\bRUN\b/.test(stdout) && child.pid !== undefined) {
        vitestStarted = true;
        process.kill(-child.pid, "SIGKILL");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, vitestStarted }));
  });
}

const redisMissing =
  "The tests need programs that are not on PATH: redis-server. Install them with: sudo apt-get install -y redis-server\n";

describe("npm test on a machine without a program the tests start", () => {
  it("stops before any test with one line naming the missing program and the command that installs it (no apt-get)", async () => {
    const run = await npmTest(pathWithout(["redis-server", "apt-get"]));

    expect(run.vitestStarted).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(redisMissing);
  });

  it.runIf(process.getuid?.() === 0)("as root with apt-get, installs the missing package with apt-get before any test", async () => {
    const path = pathWithout(["redis-server", "apt-get"]);
    const calls = join(path, "apt-get.calls");
    // Records what it is asked and installs nothing, so the check after the install still reports the program.
    writeFileSync(join(path, "apt-get"), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
    chmodSync(join(path, "apt-get"), 0o755);

    const run = await npmTest(path);

    expect(readFileSync(calls, "utf8")).toBe("update -qq\ninstall -y -qq --no-install-recommends redis-server\n");
    expect(run.vitestStarted).toBe(false);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(redisMissing);
  });
});
