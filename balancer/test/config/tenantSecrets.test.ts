import { describe, expect, it } from "vitest";
import { parseBalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";

const configWithSecret = (secret: unknown): BalancerConfigInput =>
  ({
    tenants: [{ slug: "acme", secrets: ["acme-secret-0123456789", secret] }],
    nodes: [{ id: "n1", url: "https://bbb1.example.org/bigbluebutton/api/", secret: "node-secret-0123456789" }],
  }) as BalancerConfigInput;

describe("a tenant secret in the config", () => {
  it("may be the bare string, with no limits of its own", () => {
    const [tenant] = parseBalancerConfig(configWithSecret("second-secret-0123456789")).tenants;
    expect(tenant?.secrets[1]).toEqual({ secret: "second-secret-0123456789", limits: {} });
  });

  it("may be an object carrying limits for the requests signed with it", () => {
    const [tenant] = parseBalancerConfig(configWithSecret({ secret: "second-secret-0123456789", limits: { maxMeetings: 3 } })).tenants;
    expect(tenant?.secrets[1]).toEqual({ secret: "second-secret-0123456789", limits: { maxMeetings: 3 } });
  });

  it.each([
    ["a bare string that is too short", "short", "tenants[0].secrets[1].secret: must be at least 16 characters"],
    ["an object whose secret is too short", { secret: "short" }, "tenants[0].secrets[1].secret: must be at least 16 characters"],
    ["an object with a limit that is not a count", { secret: "second-secret-0123456789", limits: { maxMeetings: 0 } }, "tenants[0].secrets[1].limits.maxMeetings"],
    ["an object with an unknown key", { secret: "second-secret-0123456789", limit: 3 }, 'tenants[0].secrets[1]: Unrecognized key: "limit"'],
  ])("refuses %s, naming the key and what is wrong", (_, secret, message) => {
    expect(() => parseBalancerConfig(configWithSecret(secret))).toThrow(message);
  });
});
