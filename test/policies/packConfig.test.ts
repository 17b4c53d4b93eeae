import { describe, expect, it } from "vitest";
import { parsePolicyPackConfig } from "../../policies/packConfig.js";

describe("policy pack config file", () => {
  it("accepts an enforcement level or an object of level and settings per policy", () => {
    const text = JSON.stringify({
      "k8s-host-network": { exemptions: [{ workload: "mediaplane/janus", reason: "ICE on the node's public IP" }] },
      "k8s-secrets-from-secret-refs": { nonSecretNames: ["RFC2136_TSIG_KEY"] },
      "k8s-pod-disruption-budgets": { enforcementLevel: "advisory" },
    });
    expect(parsePolicyPackConfig(text, "policy-config.json")).toEqual(JSON.parse(text));
  });

  it("names the file and the policy when no policy of that name exists", () => {
    expect(() => parsePolicyPackConfig('{"k8s-pinned-image": "mandatory"}', "policy-config.json")).toThrow(
      "policy-config.json: k8s-pinned-image: no such policy in the pack",
    );
  });

  it("names the policy and the allowed levels when a level is wrong", () => {
    expect(() => parsePolicyPackConfig('{"k8s-pinned-images": {"enforcementLevel": "strict"}}', "policy-config.json")).toThrow(
      "policy-config.json: k8s-pinned-images: enforcement level must be one of advisory, mandatory, remediate, disabled",
    );
  });

  it("refuses a file that is not a JSON object", () => {
    expect(() => parsePolicyPackConfig("[]", "policy-config.json")).toThrow("policy-config.json: must be an object of policy names");
    expect(() => parsePolicyPackConfig("{", "policy-config.json")).toThrow(/^policy-config.json: not JSON/);
  });
});
