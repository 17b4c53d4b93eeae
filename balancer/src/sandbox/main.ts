import { computeChecksum } from "../bbb/checksum.js";
import { createLogger } from "../observability/logger.js";
import { startSandbox } from "./startSandbox.js";

/**
 * `npm run sandbox`: Redis, three simulated BBB nodes, the poller, the balancer and its admin server on loopback;
 * prints for two tenants the API URL and secret any BBB client can use, and how to reach the admin API, the
 * operator console and `mediaplane-admin`. Ctrl-C stops everything.
 */
const port = Number(process.env["PORT"] ?? 8090);
const adminPort = Number(process.env["ADMIN_PORT"] ?? 9090);
const logger = createLogger({ name: "sandbox", level: process.env["LOG_LEVEL"] ?? "warn" });
const sandbox = await startSandbox({ apiPort: port, adminPort, logger });
const { api, admin, config, baseDomain } = sandbox;

const lines = [
  `mediaplane sandbox: Redis ${sandbox.redis.url}, nodes ${[...sandbox.simulator.nodes.keys()].join(", ")}, poller every ${config.poller.intervalSeconds}s`,
  "",
];
for (const tenant of sandbox.tenants) {
  const query = `name=Sandbox&meetingID=${tenant.slug}-demo`;
  lines.push(
    `tenant ${tenant.slug}`,
    `  API URL (path-based): ${api.url}/t/${tenant.slug}/bigbluebutton/api/`,
    `  API URL (host-based): http://${tenant.slug}.${baseDomain}:${api.port}/bigbluebutton/api/`,
    `  secret:               ${tenant.secret}`,
    `  try:  curl '${api.url}/t/${tenant.slug}/bigbluebutton/api/create?${query}&checksum=${computeChecksum("sha256", "create", query, tenant.secret)}'`,
    "",
  );
}
lines.push(
  "admin server",
  `  URL:     ${admin.url}`,
  `  token:   ${sandbox.adminToken}  (new at every start)`,
  `  console: ${admin.url}/admin/console/  (log in with the token)`,
  `  API:     curl -H 'Authorization: Bearer ${sandbox.adminToken}' ${admin.url}/admin/nodes`,
  `  CLI:     CONFIG_FILE=${sandbox.configFile} REDIS_URL=${sandbox.redis.url} BASE_DOMAIN=${baseDomain} npm run admin -w @mediaplane/balancer -- nodes`,
  "",
  "Ctrl-C stops everything.",
);
/** Ctrl-C stops everything; a step that hangs must not leave Redis and the servers running unseen. */
const stopWithinMs = 15_000;
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => {
    process.stderr.write(`sandbox: not stopped within ${stopWithinMs / 1000} s; killing Redis and exiting\n`);
    void sandbox.redis.stop(true).finally(() => process.exit(1));
  }, stopWithinMs).unref();
  await sandbox.close();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
process.stdout.write(`${lines.join("\n")}\n`);
