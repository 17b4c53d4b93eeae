import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { nodeStates } from "../config/schema.js";
import type { FleetStats } from "./stats.js";

/**
 * Every Prometheus metric of the balancer, declared once. Handlers only call the small functions at the end;
 * the fleet gauges are refreshed from Redis by whoever serves `/metrics` (see `admin/`), so any admin replica
 * reports the whole fleet, while counters and histograms count what this process did.
 *
 * Labels:
 * - `cluster`, `node`: a node's cluster and id from the config file;
 * - `state`: enabled | cordoned | draining | disabled | panic;
 * - `tenant`: a tenant slug;
 * - `call`: BBB API call name (`create`, `join`, ..., `unsupported`); `result`: `success`, or the messageKey of the
 *   error the tenant got (`checksumError`, `notFound`, `limitReached`, ...);
 * - `reason` (poll failures): `timeout`, `http`, `unreachable`, `invalid` (not a BBB answer), `checksum` (node refused);
 * - `limit` (limit hits): `maxMeetings` | `maxAttendees`; `scope`: `tenant` | `secret`;
 * - `outcome` (webhook posts): `delivered`, `failed` (an attempt; retried), `removed` (every retry failed: hook
 *   removed), `dropped` (its queue was full); `result` (node events): `relayed` | `refused` | `unknownNode`;
 * - `outcome` (config reloads): `applied` | `refused`; `version`: the first 12 hex digits of the config file's sha256.
 */
export const registry = new Registry();

const nodeLabels = ["cluster", "node"] as const;

export const metrics = {
  nodeLoad: new Gauge({ name: "mediaplane_node_load", help: "Computed load of a node (B3LB formula), as placement sees it.", labelNames: nodeLabels, registers: [registry] }),
  nodeCpu: new Gauge({ name: "mediaplane_node_cpu", help: "CPU figure of a node from its load URL, 0..10000.", labelNames: nodeLabels, registers: [registry] }),
  nodeMeetings: new Gauge({ name: "mediaplane_node_meetings", help: "Meetings a node reported at its last poll.", labelNames: nodeLabels, registers: [registry] }),
  nodeAttendees: new Gauge({ name: "mediaplane_node_attendees", help: "Attendees a node reported at its last poll.", labelNames: nodeLabels, registers: [registry] }),
  nodeHealthy: new Gauge({ name: "mediaplane_node_healthy", help: "0 when a node's polls have failed unhealthyAfter times in a row (until healthyAfter succeed), else 1.", labelNames: nodeLabels, registers: [registry] }),
  nodeState: new Gauge({ name: "mediaplane_node_state", help: "1 for the node's current admin state, 0 for the others.", labelNames: [...nodeLabels, "state"], registers: [registry] }),
  nodeLastPollAge: new Gauge({ name: "mediaplane_node_last_poll_age_seconds", help: "Seconds since a node was last polled successfully.", labelNames: nodeLabels, registers: [registry] }),
  tenantMeetings: new Gauge({ name: "mediaplane_tenant_meetings", help: "Live meetings of a tenant (mappings in Redis).", labelNames: ["tenant"], registers: [registry] }),
  tenantAttendees: new Gauge({ name: "mediaplane_tenant_attendees", help: "Attendees in a tenant's meetings at the last polls.", labelNames: ["tenant"], registers: [registry] }),
  apiRequests: new Counter({ name: "mediaplane_api_requests_total", help: "BBB API requests answered, by call and result.", labelNames: ["tenant", "call", "result"], registers: [registry] }),
  apiLatency: new Histogram({
    name: "mediaplane_api_request_duration_seconds",
    help: "Time to answer a BBB API request, by call and result.",
    labelNames: ["call", "result"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
  pollDuration: new Histogram({
    name: "mediaplane_poll_duration_seconds",
    help: "Time to poll one node (getMeetings and load URL), by outcome.",
    labelNames: ["cluster", "outcome"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  pollCycleDuration: new Histogram({
    name: "mediaplane_poll_cycle_duration_seconds",
    help: "Time one poller took for its share of the fleet in one interval.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
  pollFailures: new Counter({ name: "mediaplane_poll_failures_total", help: "Failed node polls, by reason.", labelNames: [...nodeLabels, "reason"], registers: [registry] }),
  meetingsReleased: new Counter({
    name: "mediaplane_meetings_released_total",
    help: "Meeting mappings released by the poller or an admin action, by why.",
    labelNames: ["cluster", "node", "why"],
    registers: [registry],
  }),
  webhookPosts: new Counter({ name: "mediaplane_webhook_posts_total", help: "Posts to tenants' webhooks, by outcome.", labelNames: ["tenant", "outcome"], registers: [registry] }),
  nodeEvents: new Counter({ name: "mediaplane_node_events_total", help: "Event posts from the nodes' bbb-webhooks, by result.", labelNames: ["node", "result"], registers: [registry] }),
  limitHits: new Counter({ name: "mediaplane_limit_hits_total", help: "Creates refused by a limit.", labelNames: ["tenant", "limit", "scope"], registers: [registry] }),
  redisPing: new Gauge({ name: "mediaplane_redis_ping_seconds", help: "Round trip of a PING to Redis from the admin server, at each scrape; absent when Redis did not answer.", registers: [registry] }),
  createNodeFailures: new Counter({
    name: "mediaplane_create_node_failures_total",
    help: "Creates a node did not answer: the node was held out of placement and the create moved on to another.",
    labelNames: nodeLabels,
    registers: [registry],
  }),
  duplicateMeetings: new Counter({
    name: "mediaplane_duplicate_meetings_total",
    help: "Meetings polls found running on two nodes, by what was done about it.",
    labelNames: ["tenant", "resolution"],
    registers: [registry],
  }),
  adoptedMeetings: new Counter({
    name: "mediaplane_adopted_meetings_total",
    help: "Meetings a node reported that Redis had no mapping for (Redis lost, a failover, a race): mapped again.",
    labelNames: nodeLabels,
    registers: [registry],
  }),
  configReloads: new Counter({
    name: "mediaplane_config_reloads_total",
    help: "Changed config files this process read while running: applied, or refused as invalid (the previous version kept serving).",
    labelNames: ["outcome"],
    registers: [registry],
  }),
  configLastReloadSuccessful: new Gauge({
    name: "mediaplane_config_last_reload_successful",
    help: "0 while the config file on disk is one this process refused (it serves the previous version), else 1.",
    registers: [registry],
  }),
  configInfo: new Gauge({
    name: "mediaplane_config_info",
    help: "1 for the config version this process serves: replicas that disagree show as more than one version.",
    labelNames: ["version"],
    registers: [registry],
  }),
};

/** For the API: one answered request. */
export function observeApiRequest(labels: { tenant: string; call: string; result: string }, seconds: number): void {
  metrics.apiRequests.inc(labels);
  metrics.apiLatency.observe({ call: labels.call, result: labels.result }, seconds);
}

/** For the API: a create refused by a limit. */
export function countLimitHit(labels: { tenant: string; limit: "maxMeetings" | "maxAttendees"; scope: "tenant" | "secret" }): void {
  metrics.limitHits.inc(labels);
}

/** For the API: a node that did not answer a create. */
export function countCreateNodeFailure(node: { cluster: string; id: string }): void {
  metrics.createNodeFailures.inc({ cluster: node.cluster, node: node.id });
}

/** Sets the fleet gauges from a stats snapshot (before each scrape), dropping nodes and tenants no longer there. */
export function setFleetGauges(stats: FleetStats, now = Date.now()): void {
  for (const gauge of [metrics.nodeLoad, metrics.nodeCpu, metrics.nodeMeetings, metrics.nodeAttendees, metrics.nodeHealthy, metrics.nodeState, metrics.nodeLastPollAge, metrics.tenantMeetings, metrics.tenantAttendees]) {
    gauge.reset();
  }
  for (const node of stats.nodes) {
    const labels = { cluster: node.cluster, node: node.id };
    metrics.nodeLoad.set(labels, node.poolLoad ?? node.load);
    metrics.nodeCpu.set(labels, node.cpu);
    metrics.nodeMeetings.set(labels, node.meetings);
    metrics.nodeAttendees.set(labels, node.attendees);
    metrics.nodeHealthy.set(labels, node.health === "unhealthy" ? 0 : 1);
    for (const state of nodeStates) metrics.nodeState.set({ ...labels, state }, state === node.state ? 1 : 0);
    if (node.lastSuccessAt !== undefined) metrics.nodeLastPollAge.set(labels, (now - Date.parse(node.lastSuccessAt)) / 1000);
  }
  for (const [tenant, usage] of Object.entries(stats.tenants)) {
    metrics.tenantMeetings.set({ tenant }, usage.meetings);
    metrics.tenantAttendees.set({ tenant }, usage.attendees);
  }
}
