import { afterEach, expect, it } from "vitest";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { NodeClients } from "../../src/nodes/client.js";
import { fetchNodeReport, type NodeReport } from "../../src/poller/nodeReport.js";
import { recordPoll } from "../../src/poller/recordPoll.js";
import { settledMeetings } from "../../src/poller/settledMeetings.js";
import { keys } from "../../src/store/keys.js";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "../api/harness.js";

/**
 * Invariant: no meeting runs unmapped. A poll takes the node's snapshot first and writes its outcome after; a create
 * that the node finishes in between is absent from the snapshot, yet its mapping is already in Redis without a
 * create marker when the poll writes. Two such polls in a row must not release it.
 */
let fleet: Fleet | undefined;
let clients: NodeClients | undefined;

afterEach(async () => {
  await clients?.close();
  await fleet?.close();
  clients = undefined;
  fleet = undefined;
});

it("a create the node finishes while two polls of it are under way stays mapped: a join on the other replica finds it", async () => {
  fleet = await startFleet({ replicas: 2 });
  const running = fleet;
  for (const node of running.simulator.nodes.values()) node.setLatency(300, "create");
  const directory = buildDirectory(running.config);
  clients = new NodeClients(directory.nodes.values(), { timeoutMs: 2_000 });
  const redis = running.balancers[0]!.redis;
  const tunables = running.config.clusters[0]!.load;
  const call = (replica: number, name: string, params: Record<string, string>) => get(signedUrl(running.balancers[replica]!, tenants.acme, name, params));

  const created = call(0, "create", { name: "Racing", meetingID: "racing", moderatorPW: "mod", attendeePW: "att" });
  let host: string | null = null;
  while (host === null) host = await redis.hget(keys.meetings("acme"), "racing");
  const node = directory.nodes.get(host)!;
  const takeSnapshot = async (): Promise<{ settled: Set<string>; report: NodeReport }> => {
    const settled = await settledMeetings(redis, node);
    return { settled, report: await fetchNodeReport(clients!, node, 2_000) };
  };
  const record = ({ settled, report }: { settled: Set<string>; report: NodeReport }) =>
    recordPoll(redis, node, report, { thresholds: { unhealthyAfter: 2, healthyAfter: 1 }, tunables, now: Date.now(), pollMs: 1, settled });

  await record(await takeSnapshot());
  const secondPoll = await takeSnapshot();
  expect(secondPoll.report.ok && secondPoll.report.meetings.length).toBe(0);
  expect(field((await created).body, "returncode")).toBe("SUCCESS");
  const outcome = await record(secondPoll);

  expect(outcome.released).toBe(0);
  expect(await redis.hget(keys.meetings("acme"), "racing")).toBe(host);
  const join = await call(1, "join", { meetingID: "racing", fullName: "Ada", role: "VIEWER", redirect: "false" });
  expect(field(join.body, "returncode")).toBe("SUCCESS");
});
