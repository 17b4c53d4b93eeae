import { describe, expect, it } from "vitest";
import { cpuTally, type CpuAccount } from "./cpu.js";
import { processCpuSeconds } from "./processes.js";

/** A process whose CPU clock the test moves by hand. */
function fakeAccount(name: string): CpuAccount & { spend(seconds: number): void } {
  let seconds = 0;
  return { name, cpuSeconds: async () => seconds, spend: (more) => (seconds += more) };
}

describe("cpuTally", () => {
  it("divides each process's CPU time over the runs by the requests they sent", async () => {
    const server = fakeAccount("server");
    const client = fakeAccount("load generator");
    const tally = cpuTally([server, client]);
    await tally.around(async () => {
      server.spend(0.05);
      client.spend(0.02);
      return { sent: 1_000 };
    });
    await tally.around(async () => {
      server.spend(0.05);
      client.spend(0.02);
      return { sent: 1_000 };
    });
    expect(tally.describe()).toBe("CPU µs per request: server 50, load generator 20, total 70");
  });

  it("leaves out CPU spent between runs", async () => {
    const server = fakeAccount("server");
    const tally = cpuTally([server]);
    await tally.around(async () => {
      server.spend(0.01);
      return { sent: 100 };
    });
    server.spend(5);
    expect(tally.describe()).toBe("CPU µs per request: server 100, total 100");
  });

  it("says so when no request was sent", () => {
    expect(cpuTally([fakeAccount("server")]).describe()).toBe("CPU per request: no requests");
  });
});

describe("processCpuSeconds", () => {
  it("reads a running process's CPU time, which only grows", async () => {
    const before = await processCpuSeconds(process.pid);
    const until = Date.now() + 50;
    while (Date.now() < until) Math.sqrt(Math.random());
    expect(await processCpuSeconds(process.pid)).toBeGreaterThan(before);
  });
});
