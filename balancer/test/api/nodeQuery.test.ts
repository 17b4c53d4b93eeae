import { describe, expect, it } from "vitest";
import type { ParameterPolicy } from "../../src/config/schema.js";
import { nodeQuery, parameterAfterPolicy } from "../../src/api/parameters.js";

const none = new Map<string, ParameterPolicy>();
const policies = (entries: Record<string, ParameterPolicy>): ReadonlyMap<string, ParameterPolicy> => new Map(Object.entries(entries));

describe("the query a node gets for a meeting's call", () => {
  it("passes the client's parameters on as the client encoded them, in its order", () => {
    expect(nodeQuery("fullName=Ada%20Lovelace&meetingID=m1&role=VIEWER&userdata-x=a+b!'()*", "acme~m1", none)).toBe(
      "fullName=Ada%20Lovelace&meetingID=acme~m1&role=VIEWER&userdata-x=a+b!'()*",
    );
  });

  it("leaves the client's checksum out wherever it stands", () => {
    expect(nodeQuery("checksum=abc&meetingID=m1&fullName=A", "acme~m1", none)).toBe("meetingID=acme~m1&fullName=A");
    expect(nodeQuery("meetingID=m1&checksum=abc&fullName=A", "acme~m1", none)).toBe("meetingID=acme~m1&fullName=A");
    expect(nodeQuery("meetingID=m1&fullName=A&checksum=abc", "acme~m1", none)).toBe("meetingID=acme~m1&fullName=A");
  });

  it("puts the node's meeting ID, encoded, where the tenant's stood and drops a repeated one", () => {
    expect(nodeQuery("fullName=A&meetingID=a%20b&meetingID=other", "acme~a b", none)).toBe("fullName=A&meetingID=acme~a%20b");
  });

  it("recognises a parameter whose name the client percent-encoded", () => {
    expect(nodeQuery("meeting%49D=m1&check%73um=abc&fullName=A", "acme~m1", none)).toBe("meetingID=acme~m1&fullName=A");
  });

  it("adds the node's meeting ID when the query has none (a form-only POST is serialised before)", () => {
    expect(nodeQuery("", "acme~m1", none)).toBe("meetingID=acme~m1");
  });

  it("drops every pair of a blocked parameter", () => {
    expect(nodeQuery("meetingID=m1&bannerText=a&bannerText=b", "acme~m1", policies({ bannerText: { mode: "block" } }))).toBe("meetingID=acme~m1");
  });

  it("overrides a parameter in place, or appends it when the client sent none", () => {
    const record = policies({ record: { mode: "override", value: "true" } });
    expect(nodeQuery("record=false&meetingID=m1&record=no", "acme~m1", record)).toBe("record=true&meetingID=acme~m1");
    expect(nodeQuery("meetingID=m1", "acme~m1", record)).toBe("meetingID=acme~m1&record=true");
  });

  it("keeps the client's value of a setIfAbsent parameter and supplies the policy's when absent", () => {
    const mute = policies({ muteOnStart: { mode: "setIfAbsent", value: "true" } });
    expect(nodeQuery("meetingID=m1&muteOnStart=false", "acme~m1", mute)).toBe("meetingID=acme~m1&muteOnStart=false");
    expect(nodeQuery("meetingID=m1", "acme~m1", mute)).toBe("meetingID=acme~m1&muteOnStart=true");
  });

  it("encodes a value a policy supplies", () => {
    expect(nodeQuery("meetingID=m1", "acme~m1", policies({ welcome: { mode: "override", value: "Hi & bye" } }))).toBe(
      "meetingID=acme~m1&welcome=Hi%20%26%20bye",
    );
  });
});

describe("a parameter as the node will read it", () => {
  const modes: Record<string, ParameterPolicy | undefined> = {
    "no policy": undefined,
    override: { mode: "override", value: "false" },
    setIfAbsent: { mode: "setIfAbsent", value: "false" },
    block: { mode: "block" },
  };
  for (const [mode, policy] of Object.entries(modes)) {
    for (const query of ["meetingID=m1&redirect=true", "meetingID=m1&redirect=", "meetingID=m1"]) {
      it(`is the value the node's query carries (${mode}, ${query})`, () => {
        const applied = policy === undefined ? none : policies({ redirect: policy });
        const seenByNode = new URLSearchParams(nodeQuery(query, "acme~m1", applied)).get("redirect");
        expect(parameterAfterPolicy(new URLSearchParams(query), "redirect", applied)).toBe(seenByNode);
      });
    }
  }
});
