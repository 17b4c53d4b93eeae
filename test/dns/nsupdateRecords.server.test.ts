import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revealSecrets } from "../../scripts/mockRuntime.js";
import { startBind9, type StartedBind9, type TsigKey } from "../support/bind9.js";

/**
 * The record commands exactly as the DnsRecord component renders them (captured from the mock engine), run by
 * /bin/sh against Debian's named. RFC 2136 section 3.4.2 (deleting an RRset that is not there is ignored, not an
 * error), BIND's journal (an update without net change does not bump the SOA serial) and its update-policy decide
 * what the zone looks like afterwards; dig reads it back.
 */

const zone = "mediaplane.test";
const key: TsigKey = { name: "mediaplane-acme", algorithm: "hmac-sha512.", secret: randomBytes(64).toString("base64") };
const run = promisify(execFile);
let bind: StartedBind9;

interface RenderedCommand {
  create: string;
  update: string;
  delete: string;
  environment: Record<string, string>;
  interpreter: string[];
}
const rendered = new Map<string, RenderedCommand>();

async function declareRecords(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource: ({ type, name, inputs }) => {
        if (type === "command:local:Command") rendered.set(name, revealSecrets(inputs) as RenderedCommand);
        return { id: `${name}-id`, state: inputs };
      },
      call: () => ({}),
    },
    "mediaplane",
    "dns",
    false,
  );
  const { DnsRecord } = await import("../../components/dns/DnsRecord.js");
  const target = { nameserver: bind.address, zone, tsigKeyName: key.name, tsigAlgorithm: key.algorithm };
  const record = (resourceName: string, name: string, address: string) =>
    new DnsRecord(resourceName, { name, address, ttlSeconds: 60, target, tsigSecret: key.secret });
  record("api", `api.${zone}`, "192.0.2.10");
  record("api-moved", `api.${zone}`, "192.0.2.20");
  record("api-wildcard", `*.api.${zone}`, "192.0.2.10");
  record("meet", `meet.${zone}`, "192.0.2.30");
  record("turn", `turn.${zone}`, "192.0.2.40");
  const names = ["api", "api-moved", "api-wildcard", "meet", "turn"].map((name) => `${name}-nsupdate`);
  for (let waited = 0; !names.every((name) => rendered.has(name)); waited += 10) {
    if (waited > 5_000) throw new Error(`commands not declared: ${names.filter((name) => !rendered.has(name)).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function commandOf(record: string): RenderedCommand {
  const found = rendered.get(`${record}-nsupdate`);
  if (found === undefined) throw new Error(`no command for ${record}`);
  return found;
}

/** Runs one step of a command resource as @pulumi/command does: its interpreter, its environment. */
function runStep(record: string, step: "create" | "update" | "delete", environment = commandOf(record).environment): Promise<{ code: number; stderr: string }> {
  const declared = commandOf(record);
  const [interpreter = "/bin/sh", ...flags] = declared.interpreter;
  return new Promise((resolve, reject) => {
    const child = spawn(interpreter, [...flags, declared[step]], { env: { PATH: process.env["PATH"] ?? "", ...environment }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, stderr }));
  });
}

async function dig(name: string, type = "A"): Promise<string[]> {
  const { stdout } = await run("dig", ["+short", "+time=2", "+tries=1", "-p", String(bind.port), "@127.0.0.1", name, type], { timeout: 10_000 });
  return stdout.trim().split("\n").filter((line) => line !== "").sort();
}

const serial = async (): Promise<string | undefined> => (await dig(zone, "SOA"))[0]?.split(" ")[2];

beforeAll(async () => {
  bind = await startBind9({ zone, tsigKey: key });
  await declareRecords();
});

afterAll(async () => {
  await bind?.stop();
});

describe("DNS records written with the program's own nsupdate commands", () => {
  it("carry the TSIG secret only in the environment, never in the command text", () => {
    for (const declared of rendered.values()) {
      for (const text of [declared.create, declared.update, declared.delete]) expect(text).not.toContain(key.secret);
      expect(declared.environment["TSIG_SECRET"]).toBe(key.secret);
    }
  });

  it("create a host's record and its wildcard, which then answer with the address", async () => {
    expect(await runStep("api", "create")).toEqual({ code: 0, stderr: "" });
    expect(await runStep("api-wildcard", "create")).toEqual({ code: 0, stderr: "" });
    expect(await dig(`api.${zone}`)).toEqual(["192.0.2.10"]);
    expect(await dig(`university.api.${zone}`)).toEqual(["192.0.2.10"]);
  });

  it("change nothing when the same create runs again (the zone's serial stays)", async () => {
    expect((await runStep("meet", "create")).code).toBe(0);
    const before = await serial();
    expect((await runStep("meet", "create")).code).toBe(0);
    expect(await serial()).toBe(before);
    expect(await dig(`meet.${zone}`)).toEqual(["192.0.2.30"]);
  });

  it("replace the address on update, leaving no trace of the old one", async () => {
    expect((await runStep("api", "create")).code).toBe(0);
    expect((await runStep("api-moved", "update")).code).toBe(0);
    expect(await dig(`api.${zone}`)).toEqual(["192.0.2.20"]);
  });

  it("remove the record on delete, and a second delete still succeeds", async () => {
    expect((await runStep("turn", "create")).code).toBe(0);
    expect(await dig(`turn.${zone}`)).toEqual(["192.0.2.40"]);
    expect((await runStep("turn", "delete")).code).toBe(0);
    expect(await dig(`turn.${zone}`)).toEqual([]);
    expect((await runStep("turn", "delete")).code).toBe(0);
  });

  it("are refused when signed with a wrong TSIG secret, and the zone keeps its records", async () => {
    expect((await runStep("meet", "create")).code).toBe(0);
    const forged = { TSIG_SECRET: randomBytes(64).toString("base64") };
    const refused = await runStep("meet", "delete", forged);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/NOTAUTH|BADSIG|TSIG/i);
    expect(await dig(`meet.${zone}`)).toEqual(["192.0.2.30"]);
  });
});
