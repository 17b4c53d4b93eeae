import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run.js";

const balancerDir = fileURLToPath(new URL("../..", import.meta.url));
let sandbox: ChildProcess | undefined;

afterEach(async () => {
  if (sandbox !== undefined && sandbox.exitCode === null && sandbox.signalCode === null) {
    const exited = once(sandbox, "exit");
    sandbox.kill("SIGINT");
    await exited;
  }
  sandbox = undefined;
});

/** Runs the `npm run sandbox` entry on free ports and answers what it printed once everything was up. */
async function startSandboxProcess(): Promise<{ child: ChildProcess; printed: string; errors: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/sandbox/main.ts"], {
    cwd: balancerDir,
    env: { ...process.env, PORT: "0", ADMIN_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  sandbox = child;
  let printed = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
      if (printed.includes("Ctrl-C stops everything.")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`sandbox exited with ${code}:\n${printed}${errors}`)));
  });
  return { child, printed, errors: () => errors };
}

function printedValue(printed: string, pattern: RegExp): string {
  const value = pattern.exec(printed)?.[1];
  if (value === undefined) throw new Error(`the sandbox did not print ${pattern}:\n${printed}`);
  return value;
}

describe("npm run sandbox", () => {
  it("serves the admin API at the printed URL with the printed token, and refuses calls without it", async () => {
    const { printed } = await startSandboxProcess();
    const adminUrl = printedValue(printed, /^ {2}URL: +(http:\/\/127\.0\.0\.1:\d+)$/m);
    const token = printedValue(printed, /^ {2}token: +(\S+)/m);
    const nodes = await fetch(`${adminUrl}/admin/nodes`, { headers: { authorization: `Bearer ${token}` } });
    expect(nodes.status).toBe(200);
    expect(((await nodes.json()) as Array<{ id: string }>).map((node) => node.id)).toEqual(["bbb1", "bbb2", "bbb3"]);
    expect((await fetch(`${adminUrl}/admin/nodes`)).status).toBe(401);
  });

  it("prints the operator console's URL, which answers with its login page", async () => {
    const { printed } = await startSandboxProcess();
    const consoleUrl = printedValue(printed, /^ {2}console: +(http:\/\/127\.0\.0\.1:\d+\/admin\/console\/)/m);
    const answer = await fetch(consoleUrl, { redirect: "follow" });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('<input name="token" type="password"');
  });

  it("prints a mediaplane-admin command line that lists the sandbox's nodes", async () => {
    const { printed } = await startSandboxProcess();
    const cliLine = printedValue(printed, /^ {2}CLI: +(.+ npm run admin .+)$/m);
    const env = Object.fromEntries([...cliLine.matchAll(/\b([A-Z_]+)=(\S+)/g)].map(([, name = "", value = ""]) => [name, value]));
    expect(Object.keys(env).sort()).toEqual(["BASE_DOMAIN", "CONFIG_FILE", "REDIS_URL"]);
    const command = cliLine.split(" -- ")[1]?.split(" ") ?? [];
    const { code, stdout } = await runCli(command, env);
    expect(code).toBe(0);
    expect(stdout.split("\n").slice(1).map((row) => row.split(/\s+/)[0])).toEqual(["bbb1", "bbb2", "bbb3"]);
  });

  it("stops Redis and every server on Ctrl-C and exits 0", async () => {
    const { child, printed, errors } = await startSandboxProcess();
    const adminUrl = printedValue(printed, /^ {2}URL: +(http:\/\/127\.0\.0\.1:\d+)$/m);
    const exited = once(child, "exit");
    child.kill("SIGINT");
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal, errors: errors() }).toEqual({ code: 0, signal: null, errors: "" });
    await expect(fetch(`${adminUrl}/livez`)).rejects.toThrow();
  });
});
