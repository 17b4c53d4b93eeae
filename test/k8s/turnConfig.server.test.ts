import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderTurnServerConfig } from "../../components/k8s/render/coturn.js";
import { freePort } from "../../balancer/test/support/redis.js";
import { eventually, startProcess, type StartedProcess } from "./support/processes.js";
import { TurnClient, transports, turnMethods, turnRestCredentials } from "../support/turnClient.js";

// The rendered turnserver.conf on a real coturn (Debian's turnserver), on a free loopback port.
const magicCookie = 0x2112a442;
let server: StartedProcess;
let port: number;
let dir: string;
const staticAuthSecret = "s".repeat(32);

/** A STUN request of `method` with the given attributes (RFC 5389 framing). */
function stunRequest(method: number, attributes: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(method, 0);
  header.writeUInt16BE(attributes.length, 2);
  header.writeUInt32BE(magicCookie, 4);
  randomBytes(12).copy(header, 8);
  return Buffer.concat([header, attributes]);
}

async function exchange(request: Buffer): Promise<Buffer> {
  const socket = createSocket("udp4");
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no STUN answer")), 500);
      socket.once("message", (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      socket.send(request, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

/** The ERROR-CODE attribute's class*100+number, if the message carries one. */
function errorCode(message: Buffer): number | undefined {
  for (let offset = 20; offset + 4 <= message.length; ) {
    const type = message.readUInt16BE(offset);
    const length = message.readUInt16BE(offset + 2);
    if (type === 0x0009) return message.readUInt8(offset + 6) * 100 + message.readUInt8(offset + 7);
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return undefined;
}

/** A real turnserver on the config rendered for `tcpRelay`; only the listener moves (loopback, a free port). */
async function startTurnServer(tcpRelay: boolean): Promise<{ server: StartedProcess; port: number }> {
  const config = join(dir, `turnserver-${String(tcpRelay)}.conf`);
  const rendered = renderTurnServerConfig({
    realm: "turn.example.org",
    externalIp: "198.51.100.7",
    staticAuthSecret,
    relayPorts: { min: 49152, max: 49160 },
    tls: undefined,
    tcpRelay,
  });
  // The pid file goes into the temp dir instead of the pod's /tmp.
  await writeFile(config, rendered.replace("pidfile=/tmp/turnserver.pid", `pidfile=${join(dir, `turnserver-${String(tcpRelay)}.pid`)}`));
  const listeningPort = await freePort();
  const started = startProcess("turnserver", ["-c", config, "--listening-port", String(listeningPort), "--listening-ip", "127.0.0.1"]);
  await eventually(async () => {
    const probe = TurnClient.udp("127.0.0.1", listeningPort);
    try {
      await probe.request(turnMethods.binding, () => []);
    } finally {
      probe.end();
    }
  });
  return { server: started, port: listeningPort };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mediaplane-turn-"));
  ({ server, port } = await startTurnServer(false));
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the rendered turnserver.conf on a real coturn", () => {
  it("is read without a single unknown option", () => {
    expect(server.output()).not.toMatch(/Bad configuration format/);
  });

  it("answers STUN binding requests (what Janus and the bridges use to learn their address)", async () => {
    const answer = await exchange(stunRequest(0x0001));
    expect(answer.readUInt16BE(0)).toBe(0x0101);
  });

  it("refuses an allocation without credentials: relaying needs TURN REST credentials", async () => {
    const requestedTransport = Buffer.from([0x00, 0x19, 0x00, 0x04, 17, 0, 0, 0]);
    const answer = await exchange(stunRequest(0x0003, requestedTransport));
    expect(answer.readUInt16BE(0)).toBe(0x0113);
    expect(errorCode(answer)).toBe(401);
  });
});

describe("a config rendered for a stack that opts into TCP relays, on a real coturn", () => {
  it("allocates a TCP relay (RFC 6062) that the default config refuses", async () => {
    const optedIn = await startTurnServer(true);
    const client = await TurnClient.tcp("127.0.0.1", optedIn.port);
    try {
      const { username, password } = turnRestCredentials(staticAuthSecret, "guest", 600);
      const answer = await client.allocate(username, password, { transport: transports.tcp });
      expect(answer.errorCode).toBeUndefined();
      expect(answer.success).toBe(true);
    } finally {
      client.end();
      await optedIn.server.stop();
    }
  });
});
