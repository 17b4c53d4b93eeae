/**
 * The arrival schedule of the top-of-the-hour rush: when each create and each join is sent, fixed before the run
 * (open loop), so a slow balancer cannot slow the arrivals down and hide its own queueing.
 *
 * The shape, as fractions of the run so a short run keeps it: teachers create their meetings between 10% and
 * 60% of the run; a share of the attendees arrive up to 10% of the run before their meeting's create (they are
 * answered that the meeting does not exist yet and retry), the others within 40% of the run after it. Some
 * meetings are created twice at once on different replicas (two moderators, or a client retrying at once): the
 * races a balancer must not turn into a meeting on two nodes.
 */

export interface RushShape {
  readonly durationMs: number;
  /** Create requests in all, the racing second creates included. */
  readonly creates: number;
  /** Meetings created twice, the second create sent to another replica within `raceWindowMs` of the first. */
  readonly racingCreates: number;
  readonly joins: number;
  /** Of the joins, the share scheduled before their meeting's (first) create. */
  readonly earlyShare: number;
  /** API replicas the requests are spread over. */
  readonly replicas: number;
}

export interface ScheduledCreate {
  readonly kind: "create";
  /** Milliseconds after the start of the run. */
  readonly atMs: number;
  readonly meeting: number;
  readonly replica: number;
}

export interface ScheduledJoin {
  readonly kind: "join";
  readonly atMs: number;
  readonly meeting: number;
  readonly replica: number;
  /** Distinct per join: each is another attendee. */
  readonly attendee: number;
  /** Scheduled before its meeting's first create. */
  readonly early: boolean;
}

export type ScheduledRequest = ScheduledCreate | ScheduledJoin;

export interface RushSchedule {
  readonly meetings: number;
  /** Every request, by time. */
  readonly requests: readonly ScheduledRequest[];
}

const createsFrom = 0.1;
const createsUntil = 0.6;
const earlyWindow = 0.1;
const lateWindow = 0.4;
export const raceWindowMs = 50;

/** A small seeded generator (mulberry32): the same seed gives the same rush on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function checkShape(shape: RushShape): void {
  const problems: string[] = [];
  if (!(shape.durationMs >= 1_000)) problems.push(`durationMs must be at least 1,000, got ${shape.durationMs}`);
  if (!Number.isInteger(shape.creates) || shape.creates < 1) problems.push(`creates must be a positive integer, got ${shape.creates}`);
  if (!Number.isInteger(shape.racingCreates) || shape.racingCreates < 0 || shape.racingCreates * 2 > shape.creates) {
    problems.push(`racingCreates must be an integer from 0 to half the creates (${Math.floor(shape.creates / 2)}), got ${shape.racingCreates}`);
  }
  if (!Number.isInteger(shape.joins) || shape.joins < 0) problems.push(`joins must be a non-negative integer, got ${shape.joins}`);
  if (!(shape.earlyShare >= 0 && shape.earlyShare <= 1)) problems.push(`earlyShare must be between 0 and 1, got ${shape.earlyShare}`);
  if (!Number.isInteger(shape.replicas) || shape.replicas < 1) problems.push(`replicas must be a positive integer, got ${shape.replicas}`);
  if (shape.racingCreates > 0 && shape.replicas < 2) problems.push("racing creates need at least two replicas");
  if (problems.length > 0) throw new Error(`rush shape: ${problems.join("; ")}`);
}

/** Fisher-Yates over 0..n-1. */
function shuffledIndices(n: number, random: () => number): number[] {
  const indices = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices;
}

export function rushSchedule(shape: RushShape, seed: number): RushSchedule {
  checkShape(shape);
  const random = seededRandom(seed);
  const uniform = (from: number, until: number): number => from + random() * (until - from);
  const { durationMs, replicas } = shape;
  const meetings = shape.creates - shape.racingCreates;
  const createdAt = Array.from({ length: meetings }, () => uniform(createsFrom * durationMs, createsUntil * durationMs));
  const requests: ScheduledRequest[] = createdAt.map((atMs, meeting) => ({ kind: "create", atMs, meeting, replica: meeting % replicas }));
  // Racing creates: the first `racingCreates` meetings (their create times are random, so which ones does not matter).
  for (let meeting = 0; meeting < shape.racingCreates; meeting += 1) {
    requests.push({ kind: "create", atMs: createdAt[meeting]! + random() * raceWindowMs, meeting, replica: (meeting + 1) % replicas });
  }
  const early = new Set(shuffledIndices(shape.joins, random).slice(0, Math.round(shape.joins * shape.earlyShare)));
  for (let attendee = 0; attendee < shape.joins; attendee += 1) {
    const meeting = Math.floor(random() * meetings);
    const created = createdAt[meeting]!;
    const isEarly = early.has(attendee);
    // Early: strictly before the create (a draw of exactly 0 would land on it); late: at or after it.
    const atMs = isEarly ? created - earlyWindow * durationMs * (1 - random()) : created + random() * lateWindow * durationMs;
    requests.push({ kind: "join", atMs, meeting, replica: Math.floor(random() * replicas), attendee, early: isEarly });
  }
  requests.sort((a, b) => a.atMs - b.atMs);
  return { meetings, requests };
}
