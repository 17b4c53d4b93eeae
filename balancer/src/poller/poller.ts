import { randomUUID } from "node:crypto";
import type { RedisClient } from "../store/redisClient.js";
import type { BalancerConfig } from "../config/schema.js";
import { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { balancerMeetingsAmong, endOnNode } from "../fleet/endMeetings.js";
import { retireAfterIntervals, retireUnconfiguredNodes } from "../fleet/retire.js";
import { metrics } from "../observability/metrics.js";
import { adoptUnmapped, settleDuplicate, type SettleDeps } from "./adopt.js";
import { acquireLease, slotEnd, slotOf } from "./lease.js";
import { fetchNodeReport } from "./nodeReport.js";
import { recordPoll } from "./recordPoll.js";
import type { UnmappedMeeting } from "./reconcile.js";
import { buildDirectory, type NodeEntry } from "../tenancy/directory.js";
import { registerOnNode } from "../webhooks/registration.js";

export interface PollerDeps {
  redis: RedisClient;
  config: BalancerConfig;
  logger: Logger;
  /** Names this poller in its leases (and logs); unique per process by default. */
  pollerId?: string;
  /** Overrides `config.poller.intervalSeconds`, so tests can run at a fraction of a second. */
  intervalMs?: number;
  /** The balancer's URL as nodes reach it: where nodes post webhook events, when `config.webhooks.enabled`. */
  publicUrl?: string | undefined;
}

export interface CycleSummary {
  /** The slot the cycle started in (by this host's clock). */
  slot: number;
  /** The nodes this poller polled, each with the slot it won the node's lease for. */
  polled: Array<{ node: string; slot: number }>;
  failed: number;
}

export interface Poller {
  readonly pollerId: string;
  /** Polls this poller's share of the fleet for the current slot. The loop calls it once per slot. */
  runCycle(): Promise<CycleSummary>;
  /** Finishes the cycle under way, then stops. */
  stop(): Promise<void>;
  /** Resolves after each completed cycle with its summary (for operators' tooling and tests). */
  onCycle(listener: (summary: CycleSummary) => void): void;
}

/** Each poller walks the fleet from its own random starting point, so concurrent pollers split the leases. */
function rotated<T>(items: readonly T[]): T[] {
  const start = Math.floor(Math.random() * items.length);
  return [...items.slice(start), ...items.slice(0, start)];
}

export function startPoller({ redis, config, logger, pollerId = randomUUID(), intervalMs = config.poller.intervalSeconds * 1000, publicUrl }: PollerDeps): Poller {
  const { timeoutMs, concurrency, unhealthyAfter, healthyAfter } = config.poller;
  const thresholds = { unhealthyAfter, healthyAfter };
  const directory = buildDirectory(config);
  const nodes = [...directory.nodes.values()];
  const clients = new NodeClients(nodes, { timeoutMs });
  const listeners: Array<(summary: CycleSummary) => void> = [];
  const configured = { nodes, tenants: [...directory.tenants.keys()] };
  const log = logger.child({ pollerId });
  const tenants: ReadonlySet<string> = new Set(directory.tenants.keys());
  const settleDeps: SettleDeps = { redis, clients, directory, rule: config.poller.duplicateMeetings, logger: log };

  /**
   * A panic ends the node's meetings once, from the admin call; an end the node missed then (unreachable,
   * restarting) is sent again by each poll that still finds the meeting there.
   */
  async function endLeftInPanic(node: NodeEntry, meetings: ReadonlyMap<string, string>): Promise<void> {
    if (meetings.size === 0) return;
    const outcome = await endOnNode(clients, node, meetings);
    log.warn({ node: node.id, ended: outcome.ended, failed: outcome.failed }, "node in panic still had meetings: ended them on it");
  }

  /** Maps again what the node runs unmapped, and settles each meeting found on two nodes. */
  async function adoptFromNode(node: NodeEntry, unmapped: readonly UnmappedMeeting[]): Promise<void> {
    const { adopted, duplicates } = await adoptUnmapped(redis, node, unmapped, tenants);
    if (adopted > 0) log.warn({ node: node.id, adopted }, "node runs meetings Redis did not map: mapped them again");
    for (const duplicate of duplicates) await settleDuplicate(settleDeps, node, duplicate);
  }

  /** Keeps the balancer's hook on a node that answers: a node that lost it gets it again. */
  async function keepEventsHook(node: NodeEntry): Promise<void> {
    if (!config.webhooks.enabled || publicUrl === undefined) return;
    const registration = await registerOnNode(clients, node, publicUrl);
    if (registration === "created") log.info({ node: node.id }, "webhook events hook registered on node");
    if (registration === "failed") log.warn({ node: node.id }, "webhook events hook not registered on node (bbb-webhooks >= 3.4.0 missing?)");
  }

  async function pollOne(node: NodeEntry): Promise<boolean> {
    const started = performance.now();
    const report = await fetchNodeReport(clients, node, timeoutMs);
    const tunables = directory.clusterLoad.get(node.cluster);
    if (tunables === undefined) throw new Error(`node ${node.id}: unknown cluster ${node.cluster}`);
    const pollMs = performance.now() - started;
    const record = await recordPoll(redis, node, report, { thresholds, tunables, now: Date.now(), pollMs });
    metrics.pollDuration.observe({ cluster: node.cluster, outcome: report.ok ? "ok" : "failed" }, pollMs / 1000);
    if (!report.ok) {
      metrics.pollFailures.inc({ cluster: node.cluster, node: node.id, reason: report.reason });
      log.debug({ node: node.id, reason: report.reason, problem: report.problem }, "poll failed");
    }
    if (record.released > 0) {
      const why = record.healthy === false ? "unhealthy" : record.state === "panic" ? "panic" : "gone";
      metrics.meetingsReleased.inc({ cluster: node.cluster, node: node.id, why }, record.released);
    }
    if (record.state === "panic" && report.ok) await endLeftInPanic(node, balancerMeetingsAmong(report.meetings));
    if (record.unmapped.length > 0) await adoptFromNode(node, record.unmapped);
    if (report.ok) await keepEventsHook(node);
    if (record.healthChange === "becameUnhealthy") {
      log.warn({ node: node.id, released: record.released, problem: report.ok ? undefined : report.problem }, "node unhealthy: out of the pool, meetings released");
    } else if (record.healthChange === "becameHealthy") {
      log.info({ node: node.id, state: record.state }, "node healthy");
    }
    return report.ok;
  }

  /** Nodes gone from every running config are evidence the balancer no longer uses them: none may linger. */
  async function retireRemovedNodes(): Promise<void> {
    try {
      for (const node of await retireUnconfiguredNodes(redis, configured, retireAfterIntervals * intervalMs)) {
        if (node.movedTo !== undefined) {
          log.info({ node: node.id, cluster: node.cluster, movedTo: node.movedTo }, "node moved to another cluster: its old cluster's records removed");
          continue;
        }
        if (node.released > 0) metrics.meetingsReleased.inc({ cluster: node.cluster, node: node.id, why: "removed" }, node.released);
        log.warn({ node: node.id, cluster: node.cluster, released: node.released }, "node no longer configured: out of the pool, record deleted, meetings released");
      }
    } catch (error) {
      log.error({ err: error }, "removed nodes not retired this cycle (Redis unreachable?)");
    }
  }

  async function runCycle(): Promise<CycleSummary> {
    const started = performance.now();
    await retireRemovedNodes();
    const slot = slotOf(Date.now(), intervalMs);
    const queue = rotated(nodes);
    const summary: CycleSummary = { slot, polled: [], failed: 0 };
    const worker = async (): Promise<void> => {
      for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
        if (slotOf(Date.now(), intervalMs) !== slot) return; // the rest belongs to the next slot's leases
        const lease = await acquireLease(redis, node.id, pollerId, intervalMs);
        if (!lease.won) {
          if (lease.slotClosing) return;
          continue;
        }
        summary.polled.push({ node: node.id, slot: lease.slot });
        try {
          if (!(await pollOne(node))) summary.failed += 1;
        } catch (error) {
          summary.failed += 1;
          log.error({ node: node.id, err: error }, "poll not recorded");
        }
      }
    };
    // Every worker is awaited, even after one failed, so no poll of this cycle runs on into the next.
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure !== undefined) log.error({ err: failure.reason }, "poll cycle cut short: leases unavailable (Redis unreachable?)");
    metrics.pollCycleDuration.observe((performance.now() - started) / 1000);
    for (const listener of listeners) listener(summary);
    return summary;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    const now = Date.now();
    timer = setTimeout(() => {
      current = runCycle().finally(schedule);
    }, slotEnd(slotOf(now, intervalMs), intervalMs) - now);
  };
  current = runCycle().finally(schedule);
  log.info({ nodes: nodes.length, intervalMs, concurrency }, "poller started");

  return {
    pollerId,
    runCycle,
    onCycle: (listener) => listeners.push(listener),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await current;
      await clients.close();
    },
  };
}
