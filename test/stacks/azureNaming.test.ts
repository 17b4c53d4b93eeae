import { describe, expect, it } from "vitest";
import { alphanumericName, pinnedIpAnnotations } from "../../components/azure/index.js";

describe("globally unique Azure names", () => {
  it("drops what storage accounts and registries do not allow and keeps within their length", () => {
    expect(alphanumericName("mp-prod", "rec", 24)).toBe("mpprodrec");
    expect(alphanumericName("a-very-long-prefix", "recordings", 24)).toHaveLength(24);
  });
});

describe("Service annotations for a pinned public IP", () => {
  it("names the IP, and nothing else when it lives in the node resource group", () => {
    expect(pinnedIpAnnotations("mpdev-jvb", undefined)).toEqual({ "service.beta.kubernetes.io/azure-pip-name": "mpdev-jvb" });
  });

  it("also names the resource group when the IP lives outside the node resource group", () => {
    expect(pinnedIpAnnotations("mpprod-jvb", "mpprod-rg")).toEqual({
      "service.beta.kubernetes.io/azure-pip-name": "mpprod-jvb",
      "service.beta.kubernetes.io/azure-load-balancer-resource-group": "mpprod-rg",
    });
  });
});
