import { describe, expect, it } from "vitest";
import { BbbError, bbbErrors } from "../../src/bbb/errors.js";

describe("BBB errors", () => {
  it("carry bbb-web's message key and message", () => {
    const error = bbbErrors.joinNotFound();
    expect(error).toBeInstanceOf(BbbError);
    expect(error.messageKey).toBe("invalidMeetingIdentifier");
    expect(error.message).not.toBe("");
  });

  it("are answers, not faults: they capture no stack", () => {
    expect(bbbErrors.joinNotFound().stack).not.toMatch(/\n\s+at /);
  });

  it("leave the stacks of every other error as they were", () => {
    const before = Error.stackTraceLimit;
    bbbErrors.checksumMismatch();
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("a fault").stack).toMatch(/\n\s+at /);
  });
});
