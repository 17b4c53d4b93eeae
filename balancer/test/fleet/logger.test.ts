import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, scrubUrl } from "../../src/observability/logger.js";

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => string } {
  let output = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  return { logger: createLogger({ name: "test", level: "debug", destination }), lines: () => output };
}

const secret = "s3cr3t-node-secret-0123456789";
const checksum = "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e";

describe("log lines", () => {
  it("never carry a secret logged under a secret's key", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ node: { id: "bbb1", secret }, secrets: [secret], adminToken: secret }, "node loaded");
    expect(lines()).not.toContain(secret);
    expect(lines()).toContain("bbb1");
  });

  it("never carry a checksum from a logged URL", () => {
    const { logger, lines } = capturedLogger();
    logger.warn({ url: `http://node/bigbluebutton/api/getMeetings?checksum=${checksum}` }, `GET /api/create?name=a&checksum=${checksum}`);
    expect(lines()).not.toContain(checksum);
    expect(lines()).toContain("getMeetings?checksum=[Redacted]");
  });

  it("never carry a checksum quoted in an error", () => {
    const { logger, lines } = capturedLogger();
    logger.error({ err: new Error(`fetch failed: http://node/api/end?meetingID=a&password=mp&checksum=${checksum}`) }, "end failed");
    expect(lines()).not.toContain(checksum);
    expect(lines()).not.toContain("password=mp");
  });

  it("never carry an authorization header", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ req: { headers: { authorization: `Bearer ${secret}` } } }, "admin request");
    expect(lines()).not.toContain(secret);
  });
});

describe("scrubUrl", () => {
  it("keeps the call and the other parameters", () => {
    expect(scrubUrl("/api/join?fullName=Ann&checksum=abc&redirect=false")).toBe("/api/join?fullName=Ann&checksum=[Redacted]&redirect=false");
  });
});
