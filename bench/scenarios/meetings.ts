import { keys } from "../../balancer/src/store/keys.js";
import { benchTenants, createPath, meetingId, type BenchTenant } from "../fleet.js";
import { assertAllAnswered, drive } from "../load.js";
import type { Testbed } from "../testbed.js";

export async function meetingCount(bed: Testbed, tenant: BenchTenant): Promise<number> {
  return bed.redis.hlen(keys.meetings(tenant.slug));
}

/** Creates `count` meetings through the balancer's own API (so Redis holds exactly what the balancer writes). */
export async function seedMeetings(bed: Testbed, tenant: BenchTenant, prefix: string, count: number, connections: number): Promise<void> {
  const before = await meetingCount(bed, tenant);
  let next = 0;
  const result = await drive({
    origin: bed.origin,
    source: { next: () => createPath(tenant, meetingId(prefix, next++)) },
    connections,
    amount: count,
  });
  assertAllAnswered(result, 200, `seeding ${prefix}`);
  const created = (await meetingCount(bed, tenant)) - before;
  if (created !== count) throw new Error(`seeding ${prefix}: ${count} creates answered, but ${created} meetings were stored (some FAILED)`);
}

export async function totalLiveMeetings(bed: Testbed): Promise<number> {
  let total = 0;
  for (const tenant of Object.values(benchTenants)) total += await meetingCount(bed, tenant);
  return total;
}
