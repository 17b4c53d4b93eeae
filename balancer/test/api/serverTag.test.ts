import { describe, expect, it } from "vitest";
import { matchesServerTag, parseServerTag } from "../../src/placement/serverTag.js";

/** Scalelite's reading of `meta_server-tag` (blindsidenetworks/scalelite, app/models/server.rb, `find_available`). */
describe("parseServerTag", () => {
  it("reads a tag, and a trailing '!' as required", () => {
    expect(parseServerTag("gpu")).toEqual({ tags: ["gpu"], required: false, text: "gpu" });
    expect(parseServerTag("gpu!")).toEqual({ tags: ["gpu"], required: true, text: "gpu" });
  });

  it("reads a ';' list as any of its tags", () => {
    expect(parseServerTag("gpu;big!")).toEqual({ tags: ["gpu", "big"], required: true, text: "gpu;big" });
  });

  it("asks for nothing when absent, blank, or a lone '!'", () => {
    expect(parseServerTag(null)).toBeUndefined();
    expect(parseServerTag("")).toBeUndefined();
    expect(parseServerTag("  ")).toBeUndefined();
    expect(parseServerTag("!")).toBeUndefined();
  });
});

describe("matchesServerTag", () => {
  it("matches a node whose tag is asked for, and an untagged node only through 'none'", () => {
    const request = parseServerTag("gpu;none")!;
    expect(matchesServerTag(request, "gpu")).toBe(true);
    expect(matchesServerTag(request, undefined)).toBe(true);
    expect(matchesServerTag(request, "big")).toBe(false);
    expect(matchesServerTag(parseServerTag("gpu")!, undefined)).toBe(false);
  });
});
