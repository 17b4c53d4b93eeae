import { describe, expect, it } from "vitest";
import { buildBalancerConfig, fleetNodes, parseStackConfig, stackConfigProblems } from "../../config/index.js";
import { stackSettings } from "../../scripts/stackFile.js";

/** The prod stack's settings with a fleet and managed records, and some keys replaced. */
function prodWith(overrides: Record<string, unknown>): Record<string, unknown> {
  const prod = stackSettings("prod");
  const bbb = prod["bbb"] as Record<string, unknown>;
  return {
    ...prod,
    bbb: {
      ...bbb,
      fleet: {
        domain: "bbb.mediaplane.example.org",
        sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3v0Z1tVd9Kq8xXhS4hHk2xP2lq6t9yq8wzq1m5Jv0k ops@example.org",
        groups: [
          { name: "bbb-a", count: 2, vmSize: "Standard_F16s_v2", zone: "1", bbbVersion: "3.0" },
          { name: "large", cluster: "large", count: 1, vmSize: "Standard_F32s_v2", bbbVersion: "3.0" },
        ],
      },
    },
    dns: { zone: "mediaplane.example.org" },
    ...overrides,
  };
}

/** The problems the stack config reports, one line each (none: the config was accepted). */
const errorOf = (raw: Record<string, unknown>): string => stackConfigProblems(raw, "mediaplane").problems.join("\n");

describe("the BBB fleet in stack config", () => {
  it("numbers each group's nodes from 1 and names them under the fleet's domain", () => {
    const settings = parseStackConfig(prodWith({}), "mediaplane");
    expect(fleetNodes(settings).map(({ id, cluster, fqdn }) => ({ id, cluster, fqdn }))).toEqual([
      { id: "bbb-a-1", cluster: "default", fqdn: "bbb-a-1.bbb.mediaplane.example.org" },
      { id: "bbb-a-2", cluster: "default", fqdn: "bbb-a-2.bbb.mediaplane.example.org" },
      { id: "large-1", cluster: "large", fqdn: "large-1.bbb.mediaplane.example.org" },
    ]);
  });

  it("tells the balancer the BBB release its nodes run, for the version document", () => {
    const settings = parseStackConfig(prodWith({}), "mediaplane");
    expect(buildBalancerConfig(settings, { tenantSecrets: {}, nodeSecrets: {} }).bbbVersion).toBe("3.0");
  });

  it("refuses a BBB version the stack cannot install", () => {
    const raw = prodWith({});
    const fleet = (raw["bbb"] as { fleet: { groups: Record<string, unknown>[] } }).fleet;
    fleet.groups[0] = { ...fleet.groups[0], bbbVersion: "2.7" };
    expect(errorOf(raw)).toBe('mediaplane:bbb.fleet.groups[0].bbbVersion: Invalid input: expected "3.0"');
  });

  it("refuses a group in a cluster the balancer does not have", () => {
    const raw = prodWith({});
    const fleet = (raw["bbb"] as { fleet: { groups: Record<string, unknown>[] } }).fleet;
    fleet.groups[1] = { ...fleet.groups[1], cluster: "huge" };
    expect(errorOf(raw)).toBe('mediaplane:bbb.fleet.groups[1].cluster: unknown cluster "huge" (clusters: default, large)');
  });

  it("refuses a node id a referenced node already has", () => {
    const raw = prodWith({});
    const fleet = (raw["bbb"] as { fleet: { groups: Record<string, unknown>[] } }).fleet;
    fleet.groups[0] = { ...fleet.groups[0], name: "bbb", count: 1 };
    expect(errorOf(raw)).toBe('mediaplane:bbb.fleet.groups[0].name: node id "bbb-1" is also a referenced node of bbb.nodes');
  });

  it("needs an admin allow-list, since the nodes are installed over SSH from there", () => {
    expect(errorOf(prodWith({ ingress: { adminAllowList: [] } }))).toBe(
      "mediaplane:ingress.adminAllowList: must list where `pulumi up` runs: bbb.fleet installs its nodes over SSH, open only to these sources",
    );
  });

  it("needs ACME, whose e-mail is the nodes' certificate account, and records need its server", () => {
    expect(errorOf(prodWith({ acme: undefined })).split("\n")).toEqual([
      "mediaplane:bbb.fleet: needs acme: its email is the ACME account of the nodes' certificates",
      "mediaplane:dns: needs acme: records are written to acme.nameserver with its TSIG key",
    ]);
  });
});

describe("managed DNS records in stack config", () => {
  it("refuse a host outside the zone, naming the host's key", () => {
    const domains = { ...(stackSettings("prod")["domains"] as object), turn: "turn.elsewhere.example.net" };
    expect(errorOf(prodWith({ domains }))).toBe('mediaplane:domains.turn: must lie in dns.zone "mediaplane.example.org" to get its record');
  });
});
