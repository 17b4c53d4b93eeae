import { startTestbed } from "./testbed.ts";
import { seedMeetings } from "./scenarios.ts";
import { benchTenants, joinPath, meetingId } from "./fleet.ts";
import { drive } from "./load.ts";
const bed = await startTestbed({ fleetSize: 100, pollIntervalMs: 10000, profileDir: undefined });
const mb = async () => ((await bed.balancer.rssBytes()) / 2 ** 20).toFixed(0);
try {
  console.log("start", await mb());
  await seedMeetings(bed, benchTenants.joins, "m", 1000, 32);
  console.log("seeded", await mb());
  const paths = Array.from({ length: 1000 }, (_, i) => joinPath(benchTenants.joins, meetingId("m", i), i));
  for (let i = 0; i < 8; i++) {
    const r = await drive({ origin: bed.origin, source: { paths }, connections: 32, durationSeconds: 5 });
    console.log("join run", i, Math.round(r.requestsPerSecond), "rss", await mb());
  }
} finally { await bed.close(); }
