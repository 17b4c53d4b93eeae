import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/config/env.js";

const minimal = { CONFIG_FILE: "/etc/mediaplane/balancer.yaml", REDIS_URL: "redis://redis:6379", BASE_DOMAIN: "bbb.example.org" };

describe("parseEnv", () => {
  it("fills in defaults", () => {
    expect(parseEnv(minimal)).toMatchObject({ LISTEN_HOST: "0.0.0.0", PORT: 8080, TRUSTED_PROXIES: [], MODE: "api" });
  });

  it("splits TRUSTED_PROXIES on commas", () => {
    expect(parseEnv({ ...minimal, TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.1" }).TRUSTED_PROXIES).toEqual(["10.0.0.0/8", "192.168.1.1"]);
  });

  it("takes a Redis Cluster seed as REDIS_URL", () => {
    expect(parseEnv({ ...minimal, REDIS_URL: "rediss+cluster://:secret@cache.example.net:6380" }).REDIS_URL).toBe("rediss+cluster://:secret@cache.example.net:6380");
  });

  it("names a missing variable", () => {
    expect(() => parseEnv({ ...minimal, REDIS_URL: undefined })).toThrow("environment variable REDIS_URL: is required");
  });

  it("names a bad variable and what it must be", () => {
    expect(() => parseEnv({ ...minimal, REDIS_URL: "http://redis" })).toThrow("environment variable REDIS_URL: must be a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL");
    expect(() => parseEnv({ ...minimal, PORT: "eighty" })).toThrow(/environment variable PORT/);
  });
});
