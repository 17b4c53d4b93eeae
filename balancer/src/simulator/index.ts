/**
 * A faithful stand-in for a fleet of BigBlueButton nodes, for tests, the sandbox and benchmarks.
 *
 * One `node:http` server hosts every node under its own prefix (`http://host:port/<id>/bigbluebutton/api/`),
 * so thousands of nodes cost one port. Each node verifies checksums with its own secret on the raw query,
 * answers bbb-web 2.7/3.0's XML (same element order, `text/xml;charset=utf-8`, HTTP 200 for errors), keeps
 * what it received for inspection, and has knobs for what real nodes do: latency, failures, CPU load,
 * attendees coming and going, a moderator ending a meeting, a restart that forgets everything.
 *
 * ```ts
 * const simulator = await startSimulator({ nodes: [{ id: "bbb1", secret: "s1" }, { id: "bbb2", secret: "s2" }] });
 * const bbb1 = simulator.node("bbb1");          // bbb1.apiUrl, bbb1.loadUrl
 * bbb1.addAttendees("some-meeting", 3, "VIEWER", { video: true });
 * bbb1.setFailure("hang");                      // the poller's next getMeetings never returns
 * bbb1.meeting("some-meeting")?.params["logo"]; // what the balancer sent on create
 * await simulator.close();
 * ```
 */
import { SimulatedNodeState, type SimulatedNode, type SimulatedNodeSpec } from "./node.js";
import { SimulatorServer } from "./server.js";
import type { MeetingExpiry } from "./store.js";
import type { RecordingSettings } from "./recording.js";

export type { FailureMode, SimulatedNode, SimulatedNodeSpec } from "./node.js";
export type { AttendeeMedia, AttendeeRole, PresentationSource, SimulatedAttendee, SimulatedMeeting } from "./model.js";
export type { ReceivedRequest } from "./requestLog.js";
export type { EndCallbackAttempt } from "./endCallback.js";
export type { WebhookAttempt } from "./webhooks.js";
export type { WebhookEvent } from "./webhookEvents.js";
export type { MeetingExpiry } from "./store.js";
export type { PublishedRecording, RecordingSettings } from "./recording.js";

export interface SimulatorOptions {
  /** Every node is served by the one HTTP server, under `/<id>/`. */
  nodes: SimulatedNodeSpec[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** How long after an `end` call the meeting disappears and its end callbacks go out. Default 50 ms. */
  endDelayMs?: number;
  /** How many API requests each node keeps in `requests`. Default 1,000; lower it for thousands of nodes. */
  requestLogSize?: number;
  /** Let nodes end idle meetings by themselves, as bbb-web does; off by default so tests stay deterministic. */
  expiry?: MeetingExpiry;
  /** Recorded meetings are published under `<directory>/<nodeId>/published/` and the post-publish hook runs; off by default. */
  recordings?: RecordingSettings;
  /** The nodes' bbb-webhooks: waits between retries of a failed post (default 100, 500, 1000 ms), and its timeout (5 s). */
  webhooks?: { retryIntervalsMs?: number[]; requestTimeoutMs?: number };
}

/** How often idle meetings are looked for: often enough to honour short test expiries, at most once a second. */
function expirySweepMs(expiry: MeetingExpiry): number {
  return Math.min(1_000, Math.max(10, Math.min(expiry.noUserJoinedMs, expiry.lastUserLeftMs) / 4));
}

export interface Simulator {
  readonly nodes: ReadonlyMap<string, SimulatedNode>;
  /** The node with that id; throws for an unknown id. */
  node(id: string): SimulatedNode;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const host = options.host ?? "127.0.0.1";
  const states = new Map<string, SimulatedNodeState>();
  const ids = new Set<string>();
  for (const spec of options.nodes) {
    if (ids.has(spec.id)) throw new Error(`node id ${spec.id} is given twice`);
    if (spec.id === "" || spec.id.includes("/")) throw new Error(`node id ${JSON.stringify(spec.id)} cannot be a URL path segment`);
    ids.add(spec.id);
  }
  // The server only needs the nodes once requests arrive; their URLs need the port it got.
  const server = new SimulatorServer(states);
  const address = await server.listen(host, options.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  for (const spec of options.nodes) {
    states.set(
      spec.id,
      new SimulatedNodeState(spec, {
        baseUrl: `http://${urlHost}:${address.port}/${encodeURIComponent(spec.id)}`,
        endDelayMs: options.endDelayMs ?? 50,
        requestLogSize: options.requestLogSize ?? 1_000,
        ...(options.recordings === undefined ? {} : { recordings: options.recordings }),
        webhooks: { retryIntervalsMs: options.webhooks?.retryIntervalsMs ?? [100, 500, 1_000], requestTimeoutMs: options.webhooks?.requestTimeoutMs ?? 5_000 },
      }),
    );
  }
  const { expiry } = options;
  const sweeper =
    expiry === undefined
      ? undefined
      : setInterval(() => {
          const now = Date.now();
          for (const node of states.values()) node.endExpired(now, expiry);
        }, expirySweepMs(expiry));
  sweeper?.unref();
  return {
    nodes: states,
    node(id: string): SimulatedNode {
      const node = states.get(id);
      if (node === undefined) throw new Error(`no simulated node ${id}`);
      return node;
    },
    async close(): Promise<void> {
      clearInterval(sweeper);
      await server.close();
      await Promise.all([...states.values()].map((node) => node.shutdown()));
    },
  };
}

/** A simulator with a single node, closed with the node. */
export interface StandaloneSimulatedNode extends SimulatedNode {
  close(): Promise<void>;
}

export async function startSimulatedNode(
  spec: SimulatedNodeSpec & Omit<SimulatorOptions, "nodes">,
): Promise<StandaloneSimulatedNode> {
  const { id, secret, ...options } = spec;
  const simulator = await startSimulator({ ...options, nodes: [{ id, secret }] });
  return Object.assign(simulator.node(id), { close: () => simulator.close() });
}
