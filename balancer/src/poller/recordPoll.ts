import type { RedisClient } from "../store/redisClient.js";
import type { LoadTunables, NodeState } from "../config/schema.js";
import { nextHealth, storedHealth, type HealthChange, type HealthThresholds } from "../fleet/health.js";
import { appendPollOutcome, parseNodeRecord } from "../fleet/nodeRecord.js";
import { refreshSummaries, releaseMembers } from "../fleet/release.js";
import { applyPollScript } from "../fleet/scripts.js";
import { loadOf } from "../placement/load.js";
import { keys } from "../store/keys.js";
import type { NodeEntry } from "../tenancy/directory.js";
import type { NodeReport } from "./nodeReport.js";
import { reconcile, type UnmappedMeeting } from "./reconcile.js";

export interface PollRecord {
  state: NodeState;
  healthy: boolean | undefined;
  healthChange: HealthChange;
  /** Meeting mappings this poll released (node unhealthy or in panic, or meetings it no longer has). */
  released: number;
  /** The balancer's meetings the node runs that its meeting set lacks: to adopt (none for a node in panic). */
  unmapped: UnmappedMeeting[];
}

/**
 * Writes one poll's outcome: health, counters and load into the node's record and the pool (one script in the
 * cluster's slot), then the tenants' summaries (one script per tenant on the node) and any releases. The node's
 * poll lease makes this poller the only writer of these fields for the interval.
 */
export async function recordPoll(
  redis: RedisClient,
  node: NodeEntry,
  report: NodeReport,
  settings: { thresholds: HealthThresholds; tunables: LoadTunables; now: number; pollMs: number; settled: ReadonlySet<string> },
): Promise<PollRecord> {
  const nodeKey = keys.node(node.cluster, node.id);
  const meetingsKey = keys.nodeMeetings(node.cluster, node.id);
  const replies = (await redis.pipeline().hgetall(nodeKey).smembers(meetingsKey).exec()) ?? [];
  const [[hashError, hash] = [], [membersError, members] = []] = replies;
  if (hashError) throw hashError;
  if (membersError) throw membersError;
  const previous = parseNodeRecord(node.config, (hash ?? {}) as Record<string, string>);
  const { health, change } = nextHealth(previous, report.ok, settings.thresholds);

  const fields: Record<string, string> = {
    health: storedHealth(health.healthy),
    failStreak: String(health.failStreak),
    okStreak: String(health.okStreak),
    lastPollAt: String(settings.now),
    lastPollMs: String(Math.round(settings.pollMs)),
    pollHistory: appendPollOutcome(previous.pollHistory, report.ok),
  };
  let summaries = new Map<string, Record<string, string>>();
  let release: string[] = [];
  let unmapped: UnmappedMeeting[] = [];
  let reportedMeetings = -1;
  if (report.ok) {
    const reconciled = reconcile((members ?? []) as string[], previous.missing, report.meetings, settings.settled);
    const stats = { attendees: reconciled.attendees, meetings: reconciled.meetings, cpu: report.cpu };
    Object.assign(fields, {
      attendees: String(stats.attendees),
      meetings: String(stats.meetings),
      cpu: String(report.cpu ?? 0),
      load: String(loadOf(stats, settings.tunables, node.config.loadMultiplier)),
      loadMultiplier: String(node.config.loadMultiplier),
      tenants: JSON.stringify(reconciled.usage),
      missing: JSON.stringify(reconciled.missing),
      lastSuccessAt: String(settings.now),
      lastError: "",
    });
    summaries = reconciled.summaries;
    release = reconciled.release;
    unmapped = reconciled.unmapped;
    reportedMeetings = report.meetings.length;
  } else {
    fields["lastError"] = `${report.reason}: ${report.problem}`;
    if (health.healthy === false) fields["missing"] = "[]";
  }

  const [state, ...releaseAll] = (await applyPollScript.run(redis, [nodeKey, keys.pool(node.cluster), meetingsKey], [
    node.id,
    node.config.state,
    !report.ok && health.healthy === false ? "1" : "0",
    reportedMeetings,
    JSON.stringify(fields),
  ])) as [NodeState, ...string[]];
  const [released] = await Promise.all([
    releaseMembers(redis, node, releaseAll.length > 0 ? releaseAll : release),
    refreshSummaries(redis, node.id, releaseAll.length > 0 ? new Map() : summaries),
  ]);
  return { state, healthy: health.healthy, healthChange: change, released, unmapped: state === "panic" ? [] : unmapped };
}
