import { elementText } from "../balancer/src/bbb/xml.js";

/**
 * What the rush must never do, judged from what clients were answered and from the real state afterwards (Redis
 * and every simulated node's meetings), never from the balancer's own counters.
 */

/** One answer as the load generator saw it. */
export type Outcome =
  /** A join's 302; the node the browser is sent to, read from the URL's first path segment (the simulator's layout). */
  | { readonly kind: "redirect"; readonly nodeId: string }
  /** Any other HTTP answer; `returncode` and `messageKey` when the body is a BBB document. */
  | { readonly kind: "answer"; readonly status: number; readonly returncode: string | undefined; readonly messageKey: string | undefined }
  /** No answer: the connection failed or timed out. */
  | { readonly kind: "noAnswer"; readonly reason: string };

/** One request of the rush, times on one monotonic clock (ms). */
export interface RushRecord {
  readonly call: "create" | "join";
  readonly meetingId: string;
  /** For joins: which attendee (a join and its retries share it). */
  readonly attendee?: number;
  /** When the schedule (or, for a retry, the client's one-second wait) said to send it: latency counts from here. */
  readonly scheduledAt: number;
  /**
   * When the load generator handed it to its HTTP client: the schedule's time plus the lateness of its timers. The
   * client queues it while every connection to the replica is busy, so this is not yet when it left.
   */
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly outcome: Outcome;
}

export function readAnswer(status: number, location: string | undefined, body: string): Outcome {
  if (status === 302 && location !== undefined && URL.canParse(location)) {
    return { kind: "redirect", nodeId: decodeURIComponent(new URL(location).pathname.split("/")[1] ?? "") };
  }
  return { kind: "answer", status, returncode: elementText(body, "returncode"), messageKey: elementText(body, "messageKey") };
}

/** bbb-web's answer to a join of a meeting it does not have (yet): the answer early attendees retry on. */
export function isNotYetCreated(outcome: Outcome): boolean {
  return outcome.kind === "answer" && outcome.status === 200 && outcome.returncode === "FAILED" && outcome.messageKey === "invalidMeetingIdentifier";
}

export const notYetCreatedKey = "FAILED invalidMeetingIdentifier (sent before the create was answered)";

/** How an outcome is counted: `302`, `SUCCESS duplicateWarning`, `FAILED noServer`, `HTTP 502`, `no answer: timeout`. */
export function outcomeKey(outcome: Outcome): string {
  switch (outcome.kind) {
    case "redirect":
      return "302";
    case "noAnswer":
      return `no answer: ${outcome.reason}`;
    case "answer":
      if (outcome.returncode === undefined) return `HTTP ${outcome.status}`;
      return [outcome.status === 200 ? undefined : `HTTP ${outcome.status}`, outcome.returncode, outcome.messageKey].filter((part) => part !== undefined && part !== "").join(" ");
  }
}

export interface RushTally {
  /** `<call> <outcome key>` -> answers, every answer counted once. */
  readonly byKey: ReadonlyMap<string, number>;
  /** The answers that break the rules: anything but a create's SUCCESS, a join's 302, and a join's not-yet-created answer sent before its meeting's create was answered. */
  readonly unexpected: ReadonlyMap<string, number>;
  readonly serverErrors: number;
  /** Per answer, from its scheduled send time. */
  readonly createLatenciesMs: readonly number[];
  readonly joinLatenciesMs: readonly number[];
  /** Per answer, from the hand-off to the HTTP client: without the load generator's timer lateness. */
  readonly createSinceSentMs: readonly number[];
  readonly joinSinceSentMs: readonly number[];
  /** How late the load generator handed requests to its HTTP client after their scheduled time. */
  readonly sendLagsMs: readonly number[];
  /** Meetings whose create was answered SUCCESS, and when first. */
  readonly createdAt: ReadonlyMap<string, number>;
  /** Attendees whose join (with its retries) never got a 302. */
  readonly attendeesNeverIn: number;
  /** Attendees that got their 302 only after retrying. */
  readonly attendeesAfterRetry: number;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function tallyRush(records: readonly RushRecord[]): RushTally {
  const createdAt = new Map<string, number>();
  for (const record of records) {
    if (record.call !== "create" || record.outcome.kind !== "answer" || record.outcome.status !== 200 || record.outcome.returncode !== "SUCCESS") continue;
    const first = createdAt.get(record.meetingId);
    if (first === undefined || record.answeredAt < first) createdAt.set(record.meetingId, record.answeredAt);
  }
  const byKey = new Map<string, number>();
  const unexpected = new Map<string, number>();
  const attempts = new Map<number, { tries: number; in: boolean }>();
  let serverErrors = 0;
  const createLatenciesMs: number[] = [];
  const joinLatenciesMs: number[] = [];
  const createSinceSentMs: number[] = [];
  const joinSinceSentMs: number[] = [];
  const sendLagsMs: number[] = [];
  for (const record of records) {
    const { outcome } = record;
    (record.call === "create" ? createLatenciesMs : joinLatenciesMs).push(record.answeredAt - record.scheduledAt);
    (record.call === "create" ? createSinceSentMs : joinSinceSentMs).push(record.answeredAt - record.sentAt);
    sendLagsMs.push(record.sentAt - record.scheduledAt);
    if (outcome.kind === "answer" && outcome.status >= 500) serverErrors += 1;
    let expected: boolean;
    let key = outcomeKey(outcome);
    if (record.call === "create") {
      expected = outcome.kind === "answer" && outcome.status === 200 && outcome.returncode === "SUCCESS";
    } else {
      const created = createdAt.get(record.meetingId);
      const notYet = isNotYetCreated(outcome) && (created === undefined || record.sentAt < created);
      if (notYet) key = notYetCreatedKey;
      expected = outcome.kind === "redirect" || notYet;
      if (record.attendee !== undefined) {
        const attendee = attempts.get(record.attendee) ?? { tries: 0, in: false };
        attendee.tries += 1;
        attendee.in ||= outcome.kind === "redirect";
        attempts.set(record.attendee, attendee);
      }
    }
    bump(byKey, `${record.call} ${key}`);
    if (!expected) bump(unexpected, `${record.call} ${key}`);
  }
  const attendees = [...attempts.values()];
  return {
    byKey,
    unexpected,
    serverErrors,
    createLatenciesMs,
    joinLatenciesMs,
    createSinceSentMs,
    joinSinceSentMs,
    sendLagsMs,
    createdAt,
    attendeesNeverIn: attendees.filter((attendee) => !attendee.in).length,
    attendeesAfterRetry: attendees.filter((attendee) => attendee.in && attendee.tries > 1).length,
  };
}

/** Where the tenant's meetings are: Redis's mapping, and what each node reports running. */
export interface FleetState {
  /** meetingID -> nodeId, the tenant's mapping in Redis. */
  readonly mapped: ReadonlyMap<string, string>;
  /** nodeId -> the tenant's meeting IDs the node runs. */
  readonly running: ReadonlyMap<string, readonly string[]>;
}

export interface Misplaced {
  readonly meetingId: string;
  readonly mappedTo: string | undefined;
  readonly runningOn: readonly string[];
}

export interface PlacementCheck {
  /** Meetings running on two or more nodes. */
  readonly onTwoNodes: readonly Misplaced[];
  /**
   * Meetings a join cannot reach: created (SUCCESS) or running somewhere, but Redis maps them to no node that
   * runs them; and mappings to a node that does not run the meeting.
   */
  readonly unmapped: readonly Misplaced[];
}

export function checkPlacements(created: Iterable<string>, state: FleetState): PlacementCheck {
  const runningOn = new Map<string, string[]>();
  for (const [nodeId, meetingIds] of state.running) {
    for (const meetingId of meetingIds) {
      const nodes = runningOn.get(meetingId);
      if (nodes === undefined) runningOn.set(meetingId, [nodeId]);
      else nodes.push(nodeId);
    }
  }
  const meetingIds = new Set([...created, ...runningOn.keys(), ...state.mapped.keys()]);
  const onTwoNodes: Misplaced[] = [];
  const unmapped: Misplaced[] = [];
  for (const meetingId of [...meetingIds].sort()) {
    const nodes = runningOn.get(meetingId) ?? [];
    const mappedTo = state.mapped.get(meetingId);
    const misplaced = { meetingId, mappedTo, runningOn: nodes };
    if (nodes.length > 1) onTwoNodes.push(misplaced);
    if (mappedTo === undefined || !nodes.includes(mappedTo)) unmapped.push(misplaced);
  }
  return { onTwoNodes, unmapped };
}

/** Joins whose 302 sent the attendee to a node that does not run the meeting in the end. */
export function misdirectedJoins(records: readonly RushRecord[], state: FleetState): number {
  const runs = new Set<string>();
  for (const [nodeId, meetingIds] of state.running) for (const meetingId of meetingIds) runs.add(`${nodeId}\n${meetingId}`);
  return records.filter((record) => record.outcome.kind === "redirect" && !runs.has(`${record.outcome.nodeId}\n${record.meetingId}`)).length;
}

/** Everything the rush is judged on. */
export interface RushFindings {
  readonly tally: RushTally;
  /** Right after the last answer, before a poll could adopt or settle anything. */
  readonly atEnd: PlacementCheck;
  /** Once every node has been polled again. */
  readonly afterPoll: PlacementCheck;
  /** Meetings the pollers found on two nodes during the run (and settled), from the list they keep in Redis. */
  readonly settledByPollers: number;
  /** `misdirectedJoins` against the state after the poll. */
  readonly misdirectedJoins: number;
}

/** Meetings on two nodes in either check, or settled by a poller meanwhile. */
export function duplicateCount(findings: RushFindings): number {
  const ids = new Set([...findings.atEnd.onTwoNodes, ...findings.afterPoll.onTwoNodes].map((misplaced) => misplaced.meetingId));
  return ids.size + findings.settledByPollers;
}

export function unmappedCount(findings: RushFindings): number {
  return new Set([...findings.atEnd.unmapped, ...findings.afterPoll.unmapped].map((misplaced) => misplaced.meetingId)).size;
}

function describeMisplaced(list: readonly Misplaced[]): string {
  const shown = list.slice(0, 5).map(({ meetingId, mappedTo, runningOn }) => `${meetingId} (mapped to ${mappedTo ?? "nothing"}, running on ${runningOn.join(", ") || "nothing"})`);
  return `${shown.join("; ")}${list.length > shown.length ? `; and ${list.length - shown.length} more` : ""}`;
}

function describeCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([key, count]) => `${key}: ${count}`).join(", ");
}

/** Each broken invariant as one line for the operator; none when the rush held. */
export function brokenInvariants(findings: RushFindings): string[] {
  const { tally, atEnd, afterPoll } = findings;
  const broken: string[] = [];
  if (tally.serverErrors > 0) broken.push(`${tally.serverErrors} answers were HTTP 5xx`);
  if (tally.unexpected.size > 0) broken.push(`unexpected answers: ${describeCounts(tally.unexpected)}`);
  if (tally.attendeesNeverIn > 0) broken.push(`${tally.attendeesNeverIn} attendees never got a 302, retries included`);
  for (const [when, check] of [["at the end of the load", atEnd], ["after every node was polled again", afterPoll]] as const) {
    if (check.onTwoNodes.length > 0) broken.push(`${check.onTwoNodes.length} meetings on two nodes ${when}: ${describeMisplaced(check.onTwoNodes)}`);
    if (check.unmapped.length > 0) broken.push(`${check.unmapped.length} meetings unmapped ${when}: ${describeMisplaced(check.unmapped)}`);
  }
  if (findings.settledByPollers > 0) broken.push(`the pollers found and settled ${findings.settledByPollers} meetings running on two nodes during the run`);
  if (findings.misdirectedJoins > 0) broken.push(`${findings.misdirectedJoins} joins were sent to a node that does not run the meeting`);
  return broken;
}
