import { describe, expect, it } from "vitest";
import { parseBalancerConfig, type BalancerConfigInput } from "../../src/config/schema.js";
import { importSettingsOf } from "../../src/recordings/importerProcess.js";

const configWith = (retention: unknown): BalancerConfigInput =>
  ({
    tenants: [
      { slug: "acme", secrets: ["acme-secret-0123456789"], recordingRetentionDays: retention },
      { slug: "globex", secrets: ["globex-secret-0123456789"] },
    ],
    nodes: [{ id: "n1", url: "https://bbb1.example.org/bigbluebutton/api/", secret: "node-secret-0123456789" }],
  }) as BalancerConfigInput;

describe("recording retention in the tenant config", () => {
  it("gives the importer each tenant's days, and none to a tenant that keeps its recordings", () => {
    const settings = importSettingsOf(parseBalancerConfig(configWith(30)));
    expect(settings.retentionDays("acme")).toBe(30);
    expect(settings.retentionDays("globex")).toBeUndefined();
    expect([...settings.tenants]).toEqual(["acme", "globex"]);
  });

  it.each([
    [0, "at least 1 day"],
    [1.5, "whole number of days"],
    ["30", "whole number of days"],
  ])("refuses %j, naming the key", (value, message) => {
    expect(() => parseBalancerConfig(configWith(value))).toThrow(/tenants\[0\]\.recordingRetentionDays/);
    expect(() => parseBalancerConfig(configWith(value))).toThrow(message);
  });
});
