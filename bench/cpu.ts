import { processCpuSeconds } from "./processes.js";

/** A process whose CPU time the benchmark accounts for, by the name the report gives it. */
export interface CpuAccount {
  readonly name: string;
  cpuSeconds(): Promise<number>;
}

export function pidAccount(name: string, pid: number): CpuAccount {
  return { name, cpuSeconds: () => processCpuSeconds(pid) };
}

export interface CpuTally {
  /** Runs `run`, adding the CPU each process spent during it and the requests it sent. */
  around<T extends { readonly sent: number }>(run: () => Promise<T>): Promise<T>;
  /** `CPU µs per request: balancer 61, simulator 40, ..., total 180` over every run so far. */
  describe(): string;
}

/**
 * CPU time per request of every process taking part (server, helpers, Redis, the load generator). On a machine
 * with fewer cores than busy processes, their total is what bounds throughput.
 */
export function cpuTally(accounts: readonly CpuAccount[]): CpuTally {
  const spent = accounts.map(() => 0);
  let requests = 0;
  const snapshot = (): Promise<number[]> => Promise.all(accounts.map((account) => account.cpuSeconds()));
  return {
    async around(run) {
      const before = await snapshot();
      const result = await run();
      const after = await snapshot();
      after.forEach((seconds, i) => (spent[i]! += seconds - before[i]!));
      requests += result.sent;
      return result;
    },
    describe() {
      if (requests === 0) return "CPU per request: no requests";
      const micros = spent.map((seconds) => (seconds * 1e6) / requests);
      const total = micros.reduce((sum, value) => sum + value, 0);
      const parts = accounts.map((account, i) => `${account.name} ${Math.round(micros[i]!)}`);
      return `CPU µs per request: ${[...parts, `total ${Math.round(total)}`].join(", ")}`;
    },
  };
}
