import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../config/index.js";
import { stackSettings } from "../../scripts/stackFile.js";
import { configErrorOf as errorOf, devWith } from "./support/configError.js";

function jitsiWith(jitsi: Record<string, unknown>): Record<string, unknown> {
  return devWith({ jitsi: { enabled: true, ...jitsi } });
}

describe("Jitsi authentication in the stack config", () => {
  it("is on unless a stack turns it off: prosody accounts, guests admitted to opened rooms", () => {
    expect(parseStackConfig(jitsiWith({}), "mediaplane").jitsi.authentication).toEqual({ type: "internal", guests: true });
  });

  it("is off only when a stack says so", () => {
    expect(parseStackConfig(jitsiWith({ authentication: { type: "none" } }), "mediaplane").jitsi.authentication).toEqual({ type: "none" });
  });

  it("uses signed tokens in the prod stack", () => {
    expect(parseStackConfig(stackSettings("prod"), "mediaplane").jitsi.authentication).toEqual({ type: "jwt", appId: "mediaplane-lms", guests: false });
  });

  it("names the key and the allowed types for an unknown type", () => {
    expect(errorOf(jitsiWith({ authentication: { type: "ldap" } }))).toBe('mediaplane:jitsi.authentication.type: must have type "none", "internal" or "jwt"');
  });

  it("says which key a token setup is missing", () => {
    expect(errorOf(jitsiWith({ authentication: { type: "jwt" } }))).toBe("mediaplane:jitsi.authentication.appId: is required (string)");
  });

  it("rejects settings of another type", () => {
    expect(errorOf(jitsiWith({ authentication: { type: "none", guests: true } }))).toMatch(/^mediaplane:jitsi\.authentication: .*guests/);
  });
});

describe("origins that may embed Jitsi", () => {
  it("are none by default", () => {
    expect(parseStackConfig(jitsiWith({}), "mediaplane").jitsi.embeddingOrigins).toEqual([]);
  });

  it("must be https origins, each named by its index", () => {
    expect(errorOf(jitsiWith({ embeddingOrigins: ["https://lms.example.edu", "http://intranet.example.org"] }))).toBe(
      "mediaplane:jitsi.embeddingOrigins[1]: must be an https origin such as https://app.example.org (scheme and host, no path or trailing slash)",
    );
    expect(errorOf(jitsiWith({ embeddingOrigins: ["https://lms.example.edu/course"] }))).toMatch(/^mediaplane:jitsi\.embeddingOrigins\[0\]: must be an https origin/);
    expect(errorOf(jitsiWith({ embeddingOrigins: ["*"] }))).toMatch(/^mediaplane:jitsi\.embeddingOrigins\[0\]: /);
  });
});

describe("the TURN credential lifetime", () => {
  it("defaults to four hours, far below the image's day", () => {
    expect(parseStackConfig(jitsiWith({}), "mediaplane").jitsi.turnCredentialTtlSeconds).toBe(14_400);
  });

  it("is bounded, naming the key", () => {
    expect(errorOf(jitsiWith({ turnCredentialTtlSeconds: 604_800 }))).toMatch(/^mediaplane:jitsi\.turnCredentialTtlSeconds: /);
  });
});
