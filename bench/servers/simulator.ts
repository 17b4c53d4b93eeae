import { startSimulator } from "../../balancer/src/simulator/index.js";
import { fleetNodes } from "../fleet.js";
import { onStop, tellRunner, type Ready } from "./ipc.js";

/** The simulated fleet in a process of its own, so node answers do not compete with the load generator. */
const count = Number(process.env["BENCH_NODES"]);
if (!Number.isInteger(count) || count < 1) throw new Error(`BENCH_NODES must be a positive integer, got ${process.env["BENCH_NODES"]}`);

// The request log is for tests that inspect what a node received; the benchmark only needs the answers.
const simulator = await startSimulator({ nodes: fleetNodes(count), requestLogSize: 0 });
const [first] = simulator.nodes.values();
if (first === undefined) throw new Error("the simulator started without nodes");
tellRunner({ type: "ready", port: Number(new URL(first.apiUrl).port) } satisfies Ready);
onStop(() => simulator.close());
