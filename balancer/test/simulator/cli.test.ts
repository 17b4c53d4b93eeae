import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fetchAnswer, tag } from "./support.js";

const cli = fileURLToPath(new URL("../../src/simulator/cli.ts", import.meta.url));

function run(args: string[]) {
  return spawn(process.execPath, ["--import", "tsx", cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

describe("simulator CLI", () => {
  it("prints one line per node with its API and load URLs, serves them, and stops on SIGTERM", async () => {
    const child = run(["--nodes", "2", "--secret", "cli-secret", "--prefix", "cli"]);
    const exited = once(child, "exit") as Promise<[number | null]>;
    try {
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      await expect.poll(() => output.split("\n").filter(Boolean).length, { timeout: 20_000 }).toBe(2);
      const lines = output.trim().split("\n").map((line) => line.split("\t"));
      expect(lines.map(([id]) => id)).toEqual(["cli1", "cli2"]);
      const version = await fetchAnswer(lines[1]?.[1] ?? "");
      expect(tag(version.body, "returncode")).toBe("SUCCESS");
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it("refuses to start without a secret", async () => {
    const child = run(["--nodes", "1"]);
    let errors = "";
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(1);
    expect(errors).toContain("--secret is required");
  });
});
