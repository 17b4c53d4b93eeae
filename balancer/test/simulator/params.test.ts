import { describe, expect, it } from "vitest";
import { javaUrlEncode, parseForm, parseModulesDocuments, sortedFormQuery } from "../../src/simulator/params.js";
import { javaDateString } from "../../src/simulator/responses.js";
import { escapeXml } from "../../src/simulator/xml.js";

describe("parameter parsing", () => {
  it("decodes + and %20 as spaces and keeps the first of a repeated name", () => {
    expect(parseForm("a=x+y&b=x%20y&a=second&flag")).toEqual({ a: "x y", b: "x y", flag: "" });
  });

  it("keeps a malformed escape as sent instead of failing", () => {
    expect(parseForm("name=100%&x=1")).toEqual({ name: "100%", x: "1" });
  });

  it("encodes as Java's URLEncoder does", () => {
    expect(javaUrlEncode("a b!'()~*._-é")).toBe("a+b%21%27%28%29%7E*._-%C3%A9");
  });

  it("sorts form parameters by name and leaves the checksum out", () => {
    expect(sortedFormQuery({ name: "B b", checksum: "c", meetingID: "m" })).toBe("meetingID=m&name=B+b");
  });

  it("finds nothing in a body that is not a modules document", () => {
    expect(parseModulesDocuments("name=x", "create")).toBeUndefined();
  });
});

describe("XML and dates", () => {
  it("escapes the five XML specials and drops characters XML cannot carry", () => {
    expect(escapeXml(`<a href="x">'&'</a>\u0001`)).toBe("&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;");
  });

  it("writes createDate as Java's Date.toString in UTC", () => {
    expect(javaDateString(Date.UTC(2026, 0, 5, 7, 8, 9))).toBe("Mon Jan 05 07:08:09 UTC 2026");
  });
});
