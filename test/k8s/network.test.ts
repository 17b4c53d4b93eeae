import { describe, expect, it } from "vitest";
import { internetPeer, nodeAddressPeers, outsideEgressRules, urlEndpoint } from "../../components/k8s/network.js";

describe("egress address helpers", () => {
  it("keep a pod range outside the private ranges out of 'the internet' too", () => {
    expect(internetPeer(["198.18.0.0/15", "10.244.0.0/16"])).toEqual({
      ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "198.18.0.0/15"] },
    });
  });

  it("leave out a private range the pod network fills entirely when naming node addresses", () => {
    expect(nodeAddressPeers(["172.16.0.0/12"])).toEqual([{ ipBlock: { cidr: "10.0.0.0/8" } }, { ipBlock: { cidr: "192.168.0.0/16" } }]);
  });

  it("read the port a URL connects to, the scheme's when none is given", () => {
    expect(urlEndpoint("https://bbb.example.org/bigbluebutton/api/")).toEqual({ host: "bbb.example.org", port: 443, protocol: "TCP" });
    expect(urlEndpoint("http://192.168.5.5:8080/load")).toEqual({ host: "192.168.5.5", port: 8080, protocol: "TCP" });
  });

  it("give an address literal a rule of its own and merge named hosts into one rule per peer", () => {
    const rules = outsideEgressRules([], [
      { host: "a.example.org", port: 443, protocol: "TCP" },
      { host: "b.example.org", port: 443, protocol: "TCP" },
      { host: "192.168.5.5", port: 8080, protocol: "TCP" },
    ]);
    expect(rules).toHaveLength(2);
    expect(rules[0]?.ports).toEqual([{ port: 443, protocol: "TCP" }]);
    expect(rules[1]).toEqual({ to: [{ ipBlock: { cidr: "192.168.5.5/32" } }], ports: [{ port: 8080, protocol: "TCP" }] });
  });
});
