/** Calls per Redis command, from `INFO commandstats` (`cmdstat_hget:calls=12,usec=...`). */
export type CommandCalls = ReadonlyMap<string, number>;

export function parseCommandStats(info: string): CommandCalls {
  const calls = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):(?:.*,)?calls=(\d+)(?:,|$)/.exec(line);
    if (match !== null) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

/**
 * Commands that ran between two snapshots, by name. `info` is left out: the snapshots themselves are INFO calls.
 * The result is sorted by calls, most first.
 */
export function commandsBetween(before: CommandCalls, after: CommandCalls): Map<string, number> {
  const delta: [string, number][] = [];
  for (const [command, calls] of after) {
    const ran = calls - (before.get(command) ?? 0);
    if (command !== "info" && ran > 0) delta.push([command, ran]);
  }
  return new Map(delta.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function totalCalls(calls: CommandCalls): number {
  let total = 0;
  for (const count of calls.values()) total += count;
  return total;
}

/** `hget 1.00, evalsha 0.01` per request: what a reader needs to see where the round trips go. */
export function describePerRequest(calls: CommandCalls, requests: number): string {
  if (requests <= 0) throw new Error("no requests to divide by");
  return [...calls].map(([command, count]) => `${command} ${(count / requests).toFixed(2)}`).join(", ") || "none";
}
