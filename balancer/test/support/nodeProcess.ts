import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { elementText } from "../../src/bbb/xml.js";
import { parseGetMeetings } from "../../src/poller/getMeetingsXml.js";
import { freePort } from "./redis.js";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

/**
 * One simulated BBB node in a process of its own, so a test can do to it what happens to real nodes: kill it
 * (-9), freeze it (SIGSTOP: it accepts connections and answers nothing), let it go on (SIGCONT: it then serves
 * what it received meanwhile), and start it again on the same address with nothing in memory.
 */
export interface NodeProcess {
  readonly id: string;
  readonly secret: string;
  readonly apiUrl: string;
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  /** A fresh process on the same port: a node back from a crash, its meetings gone. */
  restart(): Promise<void>;
  /** The node meeting IDs it runs now (ended ones left out), from its own getMeetings. */
  runningMeetings(): Promise<string[]>;
  close(): Promise<void>;
}

async function spawnNode(port: number, prefix: string, secret: string): Promise<ChildProcess> {
  // Node itself, not the tsx launcher: a signal must reach the process that serves the node.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `${packageDir}src/simulator/cli.ts`, "--nodes", "1", "--secret", secret, "--port", String(port), "--prefix", prefix],
    { stdio: ["ignore", "pipe", "pipe"], cwd: packageDir },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulated node ${prefix} did not start:\n${output}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("\n")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`simulated node ${prefix} exited with ${code}:\n${output}`));
    });
  });
  return child;
}

export async function startNodeProcess(prefix: string, secret: string): Promise<NodeProcess> {
  const port = await freePort();
  const id = `${prefix}1`;
  const apiUrl = `http://127.0.0.1:${port}/${id}/bigbluebutton/api/`;
  let child: ChildProcess | undefined = await spawnNode(port, prefix, secret);
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };
  return {
    id,
    secret,
    apiUrl,
    kill,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async restart() {
      await kill();
      child = await spawnNode(port, prefix, secret);
    },
    async runningMeetings() {
      if (child === undefined) return [];
      const checksum = computeChecksum("sha256", "getMeetings", "", secret);
      const answer = await request(`${apiUrl}getMeetings?checksum=${checksum}`, { signal: AbortSignal.timeout(5_000) });
      const parsed = parseGetMeetings(await answer.body.text());
      if (!parsed.ok) throw new Error(`node ${id}: ${parsed.problem}`);
      return parsed.meetings.filter((meeting) => elementText(meeting.xml, "hasBeenForciblyEnded") !== "true").map((meeting) => meeting.nodeMeetingId);
    },
    async close() {
      child?.kill("SIGCONT");
      await kill();
    },
  };
}
