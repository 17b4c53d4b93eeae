import { BbbError } from "../bbb/errors.js";
import type { NodeClients } from "../nodes/client.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { parseGetMeetings, type ReportedMeeting } from "./getMeetingsXml.js";
import { fetchCpuFigure } from "./loadUrl.js";

/** Why a poll failed (the `reason` label of `mediaplane_poll_failures_total`). */
export type PollFailureReason = "unavailable" | "refused" | "invalid" | "load";

export type NodeReport =
  | { ok: true; meetings: ReportedMeeting[]; cpu: number | undefined }
  | { ok: false; reason: PollFailureReason; problem: string };

function failure(reason: PollFailureReason, problem: string): NodeReport {
  return { ok: false, reason, problem };
}

async function meetingsOf(clients: NodeClients, node: NodeEntry): Promise<NodeReport> {
  let answer: string;
  try {
    answer = await clients.call(node, "getMeetings", "");
  } catch (error) {
    return failure("unavailable", error instanceof BbbError ? error.message : String(error));
  }
  const parsed = parseGetMeetings(answer);
  if (parsed.ok) return { ok: true, meetings: parsed.meetings, cpu: undefined };
  return failure(parsed.problem.startsWith("FAILED") ? "refused" : "invalid", parsed.problem);
}

/**
 * Asks a node for its meetings, and for its CPU figure when it has a load URL, both at once, each within the
 * timeout. A configured load URL that fails fails the poll: placement would otherwise run blind on that node.
 */
export async function fetchNodeReport(clients: NodeClients, node: NodeEntry, timeoutMs: number): Promise<NodeReport> {
  const loadUrl = node.config.loadUrl;
  const [report, cpu] = await Promise.all([
    meetingsOf(clients, node),
    loadUrl === undefined ? undefined : fetchCpuFigure(loadUrl, timeoutMs).catch((error: unknown) => failure("load", `load URL: ${(error as Error).message}`)),
  ]);
  if (!report.ok || cpu === undefined) return report;
  if (typeof cpu !== "number") return cpu;
  return { ...report, cpu };
}
