import type { LoadTunables } from "../config/schema.js";

/** What a poll learns of a node; CPU is B3LB's figure, 0..10000, absent when the node has no load URL. */
export interface NodeStats {
  attendees: number;
  meetings: number;
  cpu?: number | undefined;
}

/**
 * B3LB's load: attendeeFactor*attendees + meetingFactor*meetings + cpuMax/cpuOrder * sum_{n=1..cpuOrder} (cpu/10000)^n,
 * with the node's `loadMultiplier` (Scalelite's) on the attendee and meeting terms: the same meeting weighs less on
 * a bigger VM. The CPU term is not scaled: a utilisation is a share of the node's own capacity already.
 */
export function loadOf(stats: NodeStats, tunables: LoadTunables, loadMultiplier = 1): number {
  const utilisation = Math.min(Math.max((stats.cpu ?? 0) / 10_000, 0), 1);
  let cpuTerm = 0;
  let power = 1;
  for (let n = 1; n <= tunables.cpuOrder; n++) {
    power *= utilisation;
    cpuTerm += power;
  }
  const work = tunables.attendeeFactor * stats.attendees + tunables.meetingFactor * stats.meetings;
  return loadMultiplier * work + (tunables.cpuMax / tunables.cpuOrder) * cpuTerm;
}

/** The load's three terms for one node, so an operator sees why placement prefers one node over another. */
export function loadTerms(stats: NodeStats, tunables: LoadTunables, loadMultiplier = 1): { attendees: number; meetings: number; cpu: number } {
  return {
    attendees: loadOf({ attendees: stats.attendees, meetings: 0, cpu: 0 }, tunables, loadMultiplier),
    meetings: loadOf({ attendees: 0, meetings: stats.meetings, cpu: 0 }, tunables, loadMultiplier),
    cpu: loadOf({ attendees: 0, meetings: 0, cpu: stats.cpu }, tunables),
  };
}

/**
 * What one new meeting adds to a node's load until the next poll measures it, before the node's multiplier (the
 * placement script applies the multiplier of the node it picks).
 */
export function placementCost(tunables: LoadTunables): number {
  return tunables.meetingFactor;
}

/** What one join adds to its node's load until the next poll measures it (Scalelite bumps a node per join). */
export function joinCost(tunables: LoadTunables, loadMultiplier: number): number {
  return tunables.attendeeFactor * loadMultiplier;
}

export interface PoolHead {
  cluster: string;
  lowestLoad: number;
}

/**
 * Which of a tenant's clusters to place in: the one whose least-loaded node is lowest, ties at random.
 * `random` is in [0, 1). Pure, so the choice is tested without Redis.
 */
export function chooseCluster(heads: readonly PoolHead[], random: number): string | undefined {
  let lowest = Number.POSITIVE_INFINITY;
  for (const head of heads) lowest = Math.min(lowest, head.lowestLoad);
  const tied = heads.filter((head) => head.lowestLoad === lowest);
  return tied[Math.min(Math.floor(random * tied.length), tied.length - 1)]?.cluster;
}
