import autocannon from "autocannon";

/** What one autocannon run measured, in the units the report uses. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly completed: number;
  /** Requests sent, answered or not: a run stops with some in flight, which the server may still have served. */
  readonly sent: number;
  /** Responses by HTTP status, e.g. { "302": 81234 }. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly timeouts: number;
  readonly durationSeconds: number;
}

/** The request a scenario sends next: fixed paths cycle, a generator makes a fresh one each time (e.g. new meetings). */
export type RequestSource = { readonly paths: readonly string[] } | { readonly next: () => string };

export interface LoadArgs {
  /** The server's origin, e.g. `http://127.0.0.1:40123`. */
  readonly origin: string;
  readonly source: RequestSource;
  readonly connections: number;
  /** Stop after this many seconds... */
  readonly durationSeconds?: number;
  /** ...or after exactly this many requests. */
  readonly amount?: number;
  /**
   * Requests per second over all connections; unset: as fast as the server answers. autocannon spends each
   * connection's share of a second as fast as it can and then waits for the next second: the load arrives in
   * bursts of `connections` concurrent requests, harsher than a smooth stream at the same rate.
   */
  readonly overallRate?: number;
  /** Sent with every request, e.g. `Accept-Encoding`. */
  readonly headers?: Readonly<Record<string, string>>;
}

function requestsOf(source: RequestSource): autocannon.Request[] {
  if ("paths" in source) {
    if (source.paths.length === 0) throw new Error("no request paths to send");
    return source.paths.map((path) => ({ method: "GET", path }));
  }
  return [{ method: "GET", setupRequest: (request) => ({ ...request, path: source.next() }) }];
}

function statusesOf(result: autocannon.Result): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const [status, { count = 0 }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count;
  return statuses;
}

export async function drive(args: LoadArgs): Promise<LoadResult> {
  if ((args.durationSeconds === undefined) === (args.amount === undefined)) throw new Error("give either durationSeconds or amount");
  const result = await autocannon({
    url: args.origin,
    connections: args.connections,
    requests: requestsOf(args.source),
    ...(args.durationSeconds === undefined ? {} : { duration: args.durationSeconds }),
    ...(args.amount === undefined ? {} : { amount: args.amount }),
    // autocannon's coordinated-omission correction assumes one request per millisecond per connection
    // (`ceil(1 / rate)` ms), whatever the rate: it would add invented samples to every answer slower than 1 ms.
    ...(args.overallRate === undefined ? {} : { overallRate: args.overallRate, ignoreCoordinatedOmission: true }),
    timeout: 10,
    ...(args.headers === undefined ? {} : { headers: { ...args.headers } }),
  });
  return {
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    completed: result.requests.total,
    sent: result.requests.sent,
    statuses: statusesOf(result),
    errors: result.errors,
    timeouts: result.timeouts,
    durationSeconds: result.duration,
  };
}

/**
 * A figure is only worth reporting when every request got the answer the scenario expects: a fast stream of errors
 * would otherwise pass for throughput.
 */
export function assertAllAnswered(result: LoadResult, expectedStatus: number, what: string): void {
  const unexpected = Object.entries(result.statuses).filter(([status]) => status !== String(expectedStatus));
  if (result.errors > 0 || unexpected.length > 0 || result.completed === 0) {
    throw new Error(
      `${what}: expected only HTTP ${expectedStatus}, got ${JSON.stringify(result.statuses)} with ${result.errors} errors (${result.timeouts} timeouts)`,
    );
  }
}
