import { computeChecksum } from "./bbb/checksum.js";
import { startApiServer } from "./apiServer.js";
import { parseBalancerConfig } from "./config/schema.js";
import { createLogger } from "./observability/logger.js";
import { startPoller } from "./poller/poller.js";
import { startSimulator } from "./simulator/index.js";
// The sandbox starts its Redis exactly as the tests do: redis-server from PATH, a temp dir, a free port.
import { startRedis } from "../test/support/redis.js";

/**
 * `npm run sandbox`: Redis, three simulated BBB nodes, the poller and the balancer on loopback, and for two
 * tenants the API URL and secret any BBB client can use. Ctrl-C stops everything.
 */
const port = Number(process.env["PORT"] ?? 8090);
const baseDomain = "localhost";
const tenants = [
  { slug: "acme", secret: "acme-sandbox-secret-change-me" },
  { slug: "globex", secret: "globex-sandbox-secret-change-me" },
];

const logger = createLogger({ name: "sandbox", level: process.env["LOG_LEVEL"] ?? "warn" });
const redis = await startRedis();
const simulator = await startSimulator({ nodes: ["bbb1", "bbb2", "bbb3"].map((id) => ({ id, secret: `${id}-sandbox-node-secret` })) });
const config = parseBalancerConfig(
  {
    tenants: tenants.map((tenant) => ({ slug: tenant.slug, secrets: [tenant.secret] })),
    nodes: [...simulator.nodes.values()].map((node) => ({ id: node.id, url: node.apiUrl, secret: `${node.id}-sandbox-node-secret`, loadUrl: node.loadUrl })),
    poller: { intervalSeconds: 5 },
  },
  "sandbox config",
);
const api = await startApiServer({ config, redisUrl: redis.url, host: "127.0.0.1", port, baseDomain, trustedProxies: [], logger });
// The poller shares the API's Redis connection here; in production it is its own process (MODE=poller).
const poller = startPoller({ redis: api.redis, config, logger, pollerId: "sandbox" });

const lines = [
  `mediaplane sandbox: Redis ${redis.url}, nodes ${[...simulator.nodes.keys()].join(", ")}, poller every ${config.poller.intervalSeconds}s`,
  "",
];
for (const tenant of tenants) {
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
lines.push("Ctrl-C stops everything.");
process.stdout.write(`${lines.join("\n")}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await poller.stop();
  await api.close();
  await simulator.close();
  await redis.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
