import { beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig } from "../../config/index.js";
import { revealSecrets } from "../../scripts/mockRuntime.js";
import { runProgramOnStack } from "../../scripts/offlineProgram.js";
import { loadOfflineStack, stackSettings } from "../../scripts/stackFile.js";
import { configErrorOf as errorOf, devWith } from "./support/configError.js";

const turnWith = (turn: Record<string, unknown>) => devWith({ turn: { enabled: true, ...turn } });

describe("TCP relays in the stack config", () => {
  it("are off unless a stack opts in", () => {
    for (const stack of ["dev", "prod"]) expect(parseStackConfig(stackSettings(stack), "mediaplane").turn.tcpRelay).toBe(false);
    expect(parseStackConfig(turnWith({ tcpRelay: true }), "mediaplane").turn.tcpRelay).toBe(true);
  });

  it("name the key and the allowed type for a value that is not a boolean", () => {
    expect(errorOf(turnWith({ tcpRelay: "yes" }))).toBe("mediaplane:turn.tcpRelay: Invalid input: expected boolean, received string");
  });
});

describe("a stack that opts into TCP relays", () => {
  let turnserverConf: string;

  beforeAll(async () => {
    const dev = loadOfflineStack("dev");
    const run = await runProgramOnStack({ ...dev, config: { ...dev.config, "mediaplane:turn": JSON.stringify({ enabled: true, tcpRelay: true }) } });
    const secret = run.resources.find((resource) => resource.type === "kubernetes:core/v1:Secret" && resource.name === "mediaplane-turn-config");
    turnserverConf = (revealSecrets(secret?.inputs) as { stringData: Record<string, string> }).stringData["turnserver.conf"] ?? "";
  }, 60_000);

  it("gets a coturn config without no-tcp-relay, its peer ranges still denied", () => {
    expect(turnserverConf.split("\n")).not.toContain("no-tcp-relay");
    expect(turnserverConf).toContain("denied-peer-ip=10.0.0.0-10.255.255.255\n");
  });
});
