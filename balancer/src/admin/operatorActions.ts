import { changeNodeState, type StateChangeReport } from "../fleet/actions.js";
import { endTenantMeeting, type EndMeetingOutcome } from "../fleet/endMeeting.js";
import { stateVerbs, type StateVerb } from "../fleet/nodeState.js";
import type { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import type { RedisClient } from "../store/redisClient.js";
import type { Directory, NodeEntry } from "../tenancy/directory.js";
import { recordAction } from "./auditLog.js";

export interface OperatorDeps {
  redis: RedisClient;
  clients: NodeClients;
  directory: Directory;
  logger: Logger;
}

/** What a node action did, in the words of the action log. */
export function describeStateChange(verb: StateVerb, report: StateChangeReport): string {
  const change = `${report.previous} -> ${report.state}`;
  if (verb !== "panic") return change;
  const failed = report.end === undefined || report.end.failed.length === 0 ? "" : `, ${report.end.failed.length} ends failed (polls retry them)`;
  return `${change}; released ${report.released} meetings, ${report.end?.ended.length ?? 0} ended on the node${failed}`;
}

/** A node action by an operator (console or admin API): done, written to the log and to the shared action log. */
export async function changeNodeStateAs(deps: OperatorDeps, node: NodeEntry, verb: StateVerb, who: string): Promise<StateChangeReport> {
  const report = await changeNodeState(deps.redis, deps.clients, node, stateVerbs[verb]);
  const outcome = describeStateChange(verb, report);
  deps.logger.warn({ node: node.id, action: verb, who, previous: report.previous, released: report.released }, "node state changed by an operator");
  await recordAction(deps.redis, { at: new Date().toISOString(), who, action: verb, target: node.id, outcome });
  return report;
}

/** What came of an end, in the words of the action log. */
export function describeEndOutcome(outcome: EndMeetingOutcome): string {
  switch (outcome.kind) {
    case "ended":
      return `ended on ${outcome.node}, mapping released`;
    case "endAfterCreate":
      return `still being created on ${outcome.node}: the create ends it once the node has it`;
    case "failed":
      return `${outcome.node} did not accept the end: still mapped`;
    case "notMapped":
      return "no such meeting (already gone)";
    case "unknownNode":
      return `mapped to ${outcome.node}, which is no longer configured: left for the poller to release`;
  }
}

/** Ends one tenant meeting for an operator, logged like a node action. */
export async function endMeetingAs(deps: OperatorDeps, tenant: string, meetingId: string, who: string): Promise<EndMeetingOutcome> {
  const outcome = await endTenantMeeting(deps.redis, deps.clients, deps.directory, tenant, meetingId);
  deps.logger.warn({ tenant, meetingId, who, outcome: outcome.kind }, "meeting ended by an operator");
  await recordAction(deps.redis, { at: new Date().toISOString(), who, action: "end meeting", target: `${tenant}/${meetingId}`, outcome: describeEndOutcome(outcome) });
  return outcome;
}
