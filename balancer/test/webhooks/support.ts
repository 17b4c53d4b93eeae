import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningApiServer } from "../../src/apiServer.js";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { get, signedUrl } from "../api/harness.js";

/** Webhooks on, with loopback receivers allowed (tests' receivers listen on 127.0.0.1). */
export function withWebhooks(extra: Partial<NonNullable<BalancerConfigInput["webhooks"]>> = {}) {
  return (config: BalancerConfigInput): BalancerConfigInput => ({
    ...config,
    webhooks: { enabled: true, allowedCallbackNetworks: ["127.0.0.1/32"], ...extra },
  });
}

/** One post a receiver got: its path and query as sent, and its form body. */
export interface ReceivedPost {
  readonly url: string;
  readonly body: string;
  readonly at: number;
}

export type ReceiverBehaviour = "ok" | "hang" | "fail";

/** A tenant's webhook endpoint on loopback: it answers 200, 500, or never, and records every post. */
export interface Receiver {
  readonly url: string;
  readonly posts: ReceivedPost[];
  behaviour: ReceiverBehaviour;
  /** Posts received and not answered (held by `hang`). */
  readonly held: number;
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => resolve(body));
  });
}

export async function startReceiver(behaviour: ReceiverBehaviour = "ok", path = "/hook"): Promise<Receiver> {
  let held = 0;
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      receiver.posts.push({ url: req.url ?? "", body, at: Date.now() });
      if (receiver.behaviour === "hang") {
        held += 1;
        return;
      }
      res.writeHead(receiver.behaviour === "ok" ? 200 : 500).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    posts: [],
    behaviour,
    get held() {
      return held;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
  return receiver;
}

/** The events of the posts a receiver got, in arrival order. */
export function eventsOf(posts: readonly ReceivedPost[]): Array<{ data: { id: string; attributes: { meeting: Record<string, unknown>; user?: Record<string, unknown> } } }> {
  return posts.flatMap((post) => JSON.parse(new URLSearchParams(post.body).get("event") ?? "[]") as []);
}

export async function until(condition: () => boolean | Promise<boolean>, what = "condition"): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A hooks call of a tenant, answered as XML text. */
export async function hooksCall(balancer: RunningApiServer, tenant: { slug: string; secret: string }, call: "create" | "list" | "destroy", params: Record<string, string> = {}): Promise<string> {
  return (await get(signedUrl(balancer, tenant, `hooks/${call}`, params, "sha1"))).body;
}
