import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBind9, type StartedBind9, type TsigKey } from "./bind9.js";

const run = promisify(execFile);
const key: TsigKey = { name: "acme-update", algorithm: "hmac-sha512.", secret: Buffer.alloc(64, 7).toString("base64") };
let bind: StartedBind9;

async function nsupdate(commands: string[], withKey: TsigKey): Promise<void> {
  const script = [`server 127.0.0.1 ${bind.port}`, ...commands, "send", ""].join("\n");
  const child = run("nsupdate", ["-y", `${withKey.algorithm.replace(/\.$/, "")}:${withKey.name}:${withKey.secret}`], { timeout: 10_000 });
  child.child.stdin?.end(script);
  await child;
}

async function txt(name: string): Promise<string> {
  const { stdout } = await run("dig", ["+short", "+time=2", "+tries=1", "-p", String(bind.port), "@127.0.0.1", name, "TXT"], { timeout: 10_000 });
  return stdout.trim();
}

beforeAll(async () => {
  bind = await startBind9({ zone: "example.test", tsigKey: key, records: ['probe IN TXT "served"'] });
});

afterAll(async () => {
  await bind.stop();
});

describe("the BIND 9 a test starts", () => {
  it("serves the zone it was given on its loopback port", async () => {
    expect(await txt("probe.example.test")).toBe('"served"');
  });

  it("accepts an RFC 2136 update signed with the TSIG key", async () => {
    await nsupdate(["update add _acme-challenge.example.test 60 TXT token-1"], key);
    expect(await txt("_acme-challenge.example.test")).toBe('"token-1"');
  });

  it("refuses an update signed with another secret", async () => {
    const forged = { ...key, secret: Buffer.alloc(64, 9).toString("base64") };
    await expect(nsupdate(["update add forged.example.test 60 TXT nope"], forged)).rejects.toThrow();
    expect(await txt("forged.example.test")).toBe("");
  });
});
