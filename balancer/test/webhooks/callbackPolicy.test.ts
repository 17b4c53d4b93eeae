import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBalancerConfig } from "../../src/config/schema.js";
import { createLogger } from "../../src/observability/logger.js";
import { buildDirectory } from "../../src/tenancy/directory.js";
import { callbackPolicy, checkCallbackUrl } from "../../src/webhooks/callbackPolicy.js";
import { HookDeliveries } from "../../src/webhooks/delivery.js";
import { createHook, listHooks } from "../../src/webhooks/hookStore.js";
import { startRedis, type RedisServer } from "../support/redis.js";
import { startReceiver, until, type Receiver } from "./support.js";

/** The SSRF policy of docs/webhooks.md: what a callback URL may name, and what a delivery may connect to. */

describe("callback addresses", () => {
  const strict = callbackPolicy([]);

  it.each(["10.1.2.3", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "fd00::1", "::ffff:192.168.0.1", "::"])(
    "refuses %s",
    (address) => expect(strict.allowsAddress(address)).toBe(false),
  );

  it.each(["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])("allows the public address %s", (address) => expect(strict.allowsAddress(address)).toBe(true));

  it("allows the networks the operator named, and only those", () => {
    const policy = callbackPolicy(["10.20.0.0/16", "fd00:1::/32"]);
    expect(policy.allowsAddress("10.20.3.4")).toBe(true);
    expect(policy.allowsAddress("10.21.3.4")).toBe(false);
    expect(policy.allowsAddress("fd00:1::5")).toBe(true);
    expect(checkCallbackUrl("http://10.20.3.4:8080/hook", policy)).toMatchObject({ ok: true });
  });

  it("refuses a bad network in the config with the key named", () => {
    expect(() => parseBalancerConfig({ tenants: [{ slug: "acme", secrets: ["acme-secret-0123456789"] }], webhooks: { allowedCallbackNetworks: ["10.0.0.0/33"] } })).toThrow(
      /webhooks\.allowedCallbackNetworks\[0\]: must be a network in CIDR notation/,
    );
  });
});

describe("deliveries to a name that resolves to a refused address", () => {
  let redis: RedisServer;
  let client: Redis;
  let target: Receiver;
  let deliveries: HookDeliveries;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    target = await startReceiver();
  });
  afterAll(async () => {
    await deliveries.close();
    await target.close();
    client.disconnect();
    await redis.close();
  });

  it("never connects, even for a hook stored before the name pointed there (DNS rebinding), and drops the hook", async () => {
    const config = parseBalancerConfig({ tenants: [{ slug: "acme", secrets: ["acme-secret-0123456789"] }], webhooks: { enabled: true, retryIntervalsMs: [10, 10] } });
    const settings = config.webhooks;
    deliveries = new HookDeliveries({ redis: client, settings, policy: callbackPolicy([]), baseDomain: "bbb.test", logger: createLogger({ name: "test", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) }) });
    // `localhost` resolves to 127.0.0.1, where the receiver listens; the stored hook skips the create-time check.
    const outcome = await createHook(client, "acme", { callbackURL: target.url.replace("127.0.0.1", "localhost") }, 10);
    if (outcome.kind !== "created") throw new Error("hook not stored");
    deliveries.enqueue(buildDirectory(config).tenants.get("acme")!, outcome.hook, "[]");
    await until(async () => (await listHooks(client, "acme")).length === 0, "the hook dropped");
    expect(target.posts).toHaveLength(0);
  });
});
