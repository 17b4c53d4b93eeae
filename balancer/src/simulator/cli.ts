/**
 * Starts simulated BigBlueButton nodes and prints their URLs, one node per line:
 *
 *   npx tsx balancer/src/simulator/cli.ts --nodes 3 --secret s3cret --port 8090 [--host 127.0.0.1] [--prefix bbb]
 *
 * Runs until interrupted.
 */
import { parseArgs } from "node:util";
import { startSimulator } from "./index.js";

function positiveInteger(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "1" },
      secret: { type: "string" },
      port: { type: "string" },
      host: { type: "string", default: "127.0.0.1" },
      prefix: { type: "string", default: "bbb" },
    },
  });
  if (values.secret === undefined || values.secret === "") throw new Error("--secret is required (every node shares it)");
  const count = positiveInteger(values.nodes, "nodes", 1);
  const secret = values.secret;
  const simulator = await startSimulator({
    nodes: Array.from({ length: count }, (_, i) => ({ id: `${values.prefix}${i + 1}`, secret })),
    host: values.host,
    port: positiveInteger(values.port, "port", 0),
  });
  for (const node of simulator.nodes.values()) process.stdout.write(`${node.id}\t${node.apiUrl}\t${node.loadUrl}\n`);
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
