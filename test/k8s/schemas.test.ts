import { describe, expect, it } from "vitest";
import { validateAgainstSchema } from "./support/schemas.js";

// The schema check the stack manifest tests rely on must itself catch what it claims to.
describe("validateAgainstSchema", () => {
  it("rejects a traefik TLSOption whose minVersion is not a string", async () => {
    await expect(
      validateAgainstSchema({ apiVersion: "traefik.io/v1alpha1", kind: "TLSOption", metadata: { name: "default" }, spec: { minVersion: 12 } }),
    ).rejects.toThrow(/TLSOption default: .*minVersion must be string/);
  });

  it("rejects a Service port given as a string", async () => {
    await expect(
      validateAgainstSchema({ apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: [{ port: "443" }] } }),
    ).rejects.toThrow(/Service x: .*port must be integer/);
  });

  it("refuses a kind it has no schema for instead of passing it", async () => {
    await expect(validateAgainstSchema({ apiVersion: "v1", kind: "Gadget", metadata: { name: "x" } })).rejects.toThrow(/no schema for v1 Gadget/);
  });

  it("accepts a valid traefik Middleware", async () => {
    await expect(
      validateAgainstSchema({
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: { name: "admins" },
        spec: { ipAllowList: { sourceRange: ["203.0.113.0/24"] } },
      }),
    ).resolves.toBeUndefined();
  });

  it("rejects a cert-manager Certificate without the Secret it issues into", async () => {
    await expect(
      validateAgainstSchema({
        apiVersion: "cert-manager.io/v1",
        kind: "Certificate",
        metadata: { name: "ingress" },
        spec: { dnsNames: ["*.api.example.org"], issuerRef: { name: "acme-dns01" } },
      }),
    ).rejects.toThrow(/Certificate ingress: .*secretName/);
  });
});
