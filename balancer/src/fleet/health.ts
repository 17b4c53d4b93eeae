/**
 * A node's health as its polls tell it. Polls of one node are serialized by the poll lease, so this is computed
 * by the poller from the record it read and written back; the admin state lives beside it and is applied in Lua.
 */
export interface HealthRecord {
  /** `undefined` until polls decide; such a node is given the benefit of the doubt (it takes meetings). */
  healthy: boolean | undefined;
  failStreak: number;
  okStreak: number;
}

export interface HealthThresholds {
  /** Consecutive failed polls after which a healthy node turns unhealthy. */
  unhealthyAfter: number;
  /** Consecutive successful polls after which an unhealthy (or new) node turns healthy. */
  healthyAfter: number;
}

export type HealthChange = "none" | "becameHealthy" | "becameUnhealthy";

export const unknownHealth: HealthRecord = { healthy: undefined, failStreak: 0, okStreak: 0 };

export function nextHealth(
  previous: HealthRecord,
  pollSucceeded: boolean,
  { unhealthyAfter, healthyAfter }: HealthThresholds,
): { health: HealthRecord; change: HealthChange } {
  const failStreak = pollSucceeded ? 0 : previous.failStreak + 1;
  const okStreak = pollSucceeded ? previous.okStreak + 1 : 0;
  let healthy = previous.healthy;
  let change: HealthChange = "none";
  if (healthy !== true && okStreak >= healthyAfter) {
    healthy = true;
    change = "becameHealthy";
  } else if (healthy !== false && failStreak >= unhealthyAfter) {
    healthy = false;
    change = "becameUnhealthy";
  }
  return { health: { healthy, failStreak, okStreak }, change };
}

/** How health is stored in the node hash (`health` field). */
export type StoredHealth = "unknown" | "healthy" | "unhealthy";

export function storedHealth(healthy: boolean | undefined): StoredHealth {
  return healthy === undefined ? "unknown" : healthy ? "healthy" : "unhealthy";
}

export function healthFromStored(value: string | undefined): boolean | undefined {
  return value === "healthy" ? true : value === "unhealthy" ? false : undefined;
}
