import { describe, expect, it } from "vitest";
import { algorithmOf, computeChecksum, signQuery, splitChecksum, verifyChecksum } from "../src/bbb/checksum.js";
import { checksumAlgorithms } from "../src/config/schema.js";

const secret = "639259d4-9dd8-4b25-bf01-95f9567eaf4b";
const query = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444";

describe("checksum", () => {
  it("matches the known SHA-1 answer", () => {
    expect(computeChecksum("sha1", "create", query, secret)).toBe("1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17");
  });

  it("matches the known SHA-256 answer", () => {
    expect(computeChecksum("sha256", "create", query, secret)).toBe(
      "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e",
    );
  });

  it.each(checksumAlgorithms)("verifies a %s-signed request by the checksum's length", (algorithm) => {
    const verdict = verifyChecksum({ callName: "create", rawQuery: signQuery("create", query, secret, algorithm), secrets: [secret], allowed: checksumAlgorithms });
    expect(verdict).toEqual({ ok: true, secretIndex: 0, algorithm });
  });

  it("tells SHA-384 and SHA-512 by their lengths", () => {
    expect(algorithmOf(computeChecksum("sha384", "create", query, secret))).toBe("sha384");
    expect(algorithmOf(computeChecksum("sha512", "create", query, secret))).toBe("sha512");
  });

  it("refuses a SHA-1 request when the allow-list excludes SHA-1", () => {
    const rawQuery = signQuery("create", query, secret, "sha1");
    expect(verifyChecksum({ callName: "create", rawQuery, secrets: [secret], allowed: ["sha256", "sha512"] })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("accepts a request signed with any of the tenant's secrets and says which", () => {
    const rawQuery = signQuery("getMeetings", "", "second-secret-0123456789", "sha256");
    expect(verifyChecksum({ callName: "getMeetings", rawQuery, secrets: ["first-secret-0123456789", "second-secret-0123456789"], allowed: ["sha256"] })).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it("compares case-insensitively, as bbb-web does", () => {
    const rawQuery = `${query}&checksum=1FCBB0C4FC1F039F73AA6D697D2DB9BA7F803F17`;
    expect(verifyChecksum({ callName: "create", rawQuery, secrets: [secret], allowed: ["sha1"] }).ok).toBe(true);
  });

  it("verifies the raw query whatever the client's encoder did", () => {
    const raw = "name=It%27s%20(ours)!&meetingID=a%2Bb";
    const verdict = verifyChecksum({ callName: "create", rawQuery: signQuery("create", raw, secret, "sha1"), secrets: [secret], allowed: ["sha1"] });
    expect(verdict.ok).toBe(true);
  });

  it("finds the checksum wherever it stands in the query", () => {
    const checksum = computeChecksum("sha1", "end", "meetingID=x1", secret);
    expect(splitChecksum(`checksum=${checksum}&meetingID=x1`)).toEqual({ checksum, query: "meetingID=x1" });
    expect(splitChecksum(`meetingID=x1&checksum=${checksum}`)).toEqual({ checksum, query: "meetingID=x1" });
  });

  it("reports a missing checksum apart from a wrong one", () => {
    expect(verifyChecksum({ callName: "end", rawQuery: "meetingID=x1", secrets: [secret], allowed: ["sha1"] })).toEqual({ ok: false, reason: "missing" });
    expect(verifyChecksum({ callName: "end", rawQuery: "meetingID=x1&checksum=abc", secrets: [secret], allowed: ["sha1"] })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses a checksum computed for another call", () => {
    const rawQuery = signQuery("end", "meetingID=x1", secret, "sha256");
    expect(verifyChecksum({ callName: "create", rawQuery, secrets: [secret], allowed: ["sha256"] }).ok).toBe(false);
  });
});
