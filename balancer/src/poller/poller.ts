import { randomUUID } from "node:crypto";
import type { RedisClient } from "../store/redisClient.js";
import { asConfigSource, type ConfigSource, type ConfigVersion } from "../config/liveConfig.js";
import type { BalancerConfig } from "../config/schema.js";
import { Versioned } from "../config/versioned.js";
import { NodeClients } from "../nodes/client.js";
import type { Logger } from "../observability/logger.js";
import { balancerMeetingsAmong, endOnNode } from "../fleet/endMeetings.js";
import { retireAfterIntervals, retireUnconfiguredNodes } from "../fleet/retire.js";
import { metrics } from "../observability/metrics.js";
import { adoptUnmapped, settleDuplicate, type SettleDeps } from "./adopt.js";
import { acquireLease, slotEnd, slotOf } from "./lease.js";
import { fetchNodeReport } from "./nodeReport.js";
import { recordPoll } from "./recordPoll.js";
import { settledMeetings } from "./settledMeetings.js";
import type { UnmappedMeeting } from "./reconcile.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { registerOnNode } from "../webhooks/registration.js";

export interface PollerDeps {
  redis: RedisClient;
  /** A config for life, or a live one: each cycle polls with the version in service when it starts. */
  config: BalancerConfig | ConfigSource;
  logger: Logger;
  /** Names this poller in its leases (and logs); unique per process by default. */
  pollerId?: string;
  /** Overrides `config.poller.intervalSeconds`, so tests can run at a fraction of a second. */
  intervalMs?: number;
  /** The balancer's URL as nodes reach it: where nodes post webhook events, when `config.webhooks.enabled`. */
  publicUrl?: string | undefined;
}

/** What one cycle polls with: one config version's nodes, tenants and settings, and clients for its nodes. */
interface CycleConfig {
  readonly version: ConfigVersion;
  readonly nodes: readonly NodeEntry[];
  readonly clients: NodeClients;
  readonly tenants: ReadonlySet<string>;
  readonly intervalMs: number;
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

export function startPoller({ redis, config, logger, pollerId = randomUUID(), intervalMs: fixedIntervalMs, publicUrl }: PollerDeps): Poller {
  const source = asConfigSource(config);
  const cycleConfig = (version: ConfigVersion): CycleConfig => ({
    version,
    nodes: [...version.directory.nodes.values()],
    clients: new NodeClients(version.directory.nodes.values(), { timeoutMs: version.config.poller.timeoutMs }),
    tenants: new Set(version.directory.tenants.keys()),
    intervalMs: fixedIntervalMs ?? version.config.poller.intervalSeconds * 1000,
  });
  const cycles = new Versioned(cycleConfig(source.current()), ({ clients }) => clients.close());
  const stopFollowing = source.onChange(async (version) => cycles.replace(cycleConfig(version)));
  const listeners: Array<(summary: CycleSummary) => void> = [];
  const log = logger.child({ pollerId });

  /**
   * A panic ends the node's meetings once, from the admin call; an end the node missed then (unreachable,
   * restarting) is sent again by each poll that still finds the meeting there.
   */
  async function endLeftInPanic(cycle: CycleConfig, node: NodeEntry, meetings: ReadonlyMap<string, string>): Promise<void> {
    if (meetings.size === 0) return;
    const outcome = await endOnNode(cycle.clients, node, meetings);
    log.warn({ node: node.id, ended: outcome.ended, failed: outcome.failed }, "node in panic still had meetings: ended them on it");
  }

  /** Maps again what the node runs unmapped, and settles each meeting found on two nodes. */
  async function adoptFromNode(cycle: CycleConfig, node: NodeEntry, unmapped: readonly UnmappedMeeting[]): Promise<void> {
    const { adopted, duplicates } = await adoptUnmapped(redis, node, unmapped, cycle.tenants);
    if (adopted > 0) log.warn({ node: node.id, adopted }, "node runs meetings Redis did not map: mapped them again");
    const settleDeps: SettleDeps = { redis, clients: cycle.clients, directory: cycle.version.directory, rule: cycle.version.config.poller.duplicateMeetings, logger: log };
    for (const duplicate of duplicates) await settleDuplicate(settleDeps, node, duplicate);
  }

  /** Keeps the balancer's hook on a node that answers: a node that lost it gets it again. */
  async function keepEventsHook(cycle: CycleConfig, node: NodeEntry): Promise<void> {
    if (!cycle.version.config.webhooks.enabled || publicUrl === undefined) return;
    const registration = await registerOnNode(cycle.clients, node, publicUrl);
    if (registration === "created") log.info({ node: node.id }, "webhook events hook registered on node");
    if (registration === "failed") log.warn({ node: node.id }, "webhook events hook not registered on node (bbb-webhooks >= 3.4.0 missing?)");
  }

  async function pollOne(cycle: CycleConfig, node: NodeEntry): Promise<boolean> {
    const { timeoutMs, unhealthyAfter, healthyAfter } = cycle.version.config.poller;
    const settled = await settledMeetings(redis, node);
    const started = performance.now();
    const report = await fetchNodeReport(cycle.clients, node, timeoutMs);
    const tunables = cycle.version.directory.clusterLoad.get(node.cluster);
    if (tunables === undefined) throw new Error(`node ${node.id}: unknown cluster ${node.cluster}`);
    const pollMs = performance.now() - started;
    const record = await recordPoll(redis, node, report, { thresholds: { unhealthyAfter, healthyAfter }, tunables, now: Date.now(), pollMs, settled });
    metrics.pollDuration.observe({ cluster: node.cluster, outcome: report.ok ? "ok" : "failed" }, pollMs / 1000);
    if (!report.ok) {
      metrics.pollFailures.inc({ cluster: node.cluster, node: node.id, reason: report.reason });
      log.debug({ node: node.id, reason: report.reason, problem: report.problem }, "poll failed");
    }
    if (record.released > 0) {
      const why = record.healthy === false ? "unhealthy" : record.state === "panic" ? "panic" : "gone";
      metrics.meetingsReleased.inc({ cluster: node.cluster, node: node.id, why }, record.released);
    }
    if (record.state === "panic" && report.ok) await endLeftInPanic(cycle, node, balancerMeetingsAmong(report.meetings));
    if (record.unmapped.length > 0) await adoptFromNode(cycle, node, record.unmapped);
    if (report.ok) await keepEventsHook(cycle, node);
    if (record.healthChange === "becameUnhealthy") {
      log.warn({ node: node.id, released: record.released, problem: report.ok ? undefined : report.problem }, "node unhealthy: out of the pool, meetings released");
    } else if (record.healthChange === "becameHealthy") {
      log.info({ node: node.id, state: record.state }, "node healthy");
    }
    return report.ok;
  }

  /** Nodes gone from every running config are evidence the balancer no longer uses them: none may linger. */
  async function retireRemovedNodes(cycle: CycleConfig): Promise<void> {
    const configured = { nodes: cycle.nodes, tenants: [...cycle.tenants] };
    try {
      for (const node of await retireUnconfiguredNodes(redis, configured, retireAfterIntervals * cycle.intervalMs)) {
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

  async function runCycleOn(cycle: CycleConfig): Promise<CycleSummary> {
    const { intervalMs } = cycle;
    const started = performance.now();
    await retireRemovedNodes(cycle);
    const slot = slotOf(Date.now(), intervalMs);
    const queue = rotated(cycle.nodes);
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
          if (!(await pollOne(cycle, node))) summary.failed += 1;
        } catch (error) {
          summary.failed += 1;
          log.error({ node: node.id, err: error }, "poll not recorded");
        }
      }
    };
    // Every worker is awaited, even after one failed, so no poll of this cycle runs on into the next.
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(cycle.version.config.poller.concurrency, queue.length) }, worker));
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure !== undefined) log.error({ err: failure.reason }, "poll cycle cut short: leases unavailable (Redis unreachable?)");
    metrics.pollCycleDuration.observe((performance.now() - started) / 1000);
    for (const listener of listeners) listener(summary);
    return summary;
  }

  const runCycle = (): Promise<CycleSummary> => cycles.use(runCycleOn);

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  const schedule = (): void => {
    if (stopped) return;
    const now = Date.now();
    // The interval of the version in service: a reloaded interval applies from the next cycle.
    const { intervalMs } = cycles.current;
    timer = setTimeout(() => {
      current = runCycle().finally(schedule);
    }, slotEnd(slotOf(now, intervalMs), intervalMs) - now);
  };
  current = runCycle().finally(schedule);
  log.info({ nodes: cycles.current.nodes.length, intervalMs: cycles.current.intervalMs, concurrency: cycles.current.version.config.poller.concurrency }, "poller started");

  return {
    pollerId,
    runCycle,
    onCycle: (listener) => listeners.push(listener),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      stopFollowing();
      clearTimeout(timer);
      await current;
      await cycles.close();
    },
  };
}
