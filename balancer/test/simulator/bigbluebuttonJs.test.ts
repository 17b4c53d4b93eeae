import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";

/** The part of bigbluebutton-js (untyped CommonJS) this test uses. */
interface BigBlueButtonJs {
  api(host: string, secret: string): {
    administration: {
      create(name: string, meetingId: string, options?: Record<string, string | number | boolean>): string;
      join(fullName: string, meetingId: string, password: string, options?: Record<string, string | boolean>): string;
      end(meetingId: string, password: string): string;
    };
    monitoring: { getMeetings(): string; getMeetingInfo(meetingId: string): string; isMeetingRunning(meetingId: string): string };
  };
  http(url: string): Promise<Record<string, unknown>>;
}

const bbb = createRequire(import.meta.url)("bigbluebutton-js") as BigBlueButtonJs;
const secret = "outside-client-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-js", secret });
});
afterAll(async () => {
  await node.close();
});

describe("an outside client (bigbluebutton-js)", () => {
  it("creates, joins, lists and ends a meeting", async () => {
    // bigbluebutton-js appends /api/<call> to the host it is given.
    const api = bbb.api(node.apiUrl.replace(/\/api\/$/, ""), secret);
    const created = await bbb.http(api.administration.create("Client (first) meeting!", "js-1", { attendeePW: "ap", moderatorPW: "mp", record: false }));
    expect(created).toMatchObject({ returncode: "SUCCESS", meetingID: "js-1", attendeePW: "ap" });

    const joined = await bbb.http(api.administration.join("Ada Lovelace", "js-1", "mp", { redirect: false }));
    expect(joined).toMatchObject({ returncode: "SUCCESS", messageKey: "successfullyJoined" });

    const listed = await bbb.http(api.monitoring.getMeetings());
    expect(listed["meetings"]).toMatchObject([{ meetingID: "js-1", meetingName: "Client (first) meeting!", participantCount: 1 }]);

    const running = await bbb.http(api.monitoring.isMeetingRunning("js-1"));
    expect(running).toMatchObject({ returncode: "SUCCESS", running: true });

    const ended = await bbb.http(api.administration.end("js-1", "mp"));
    expect(ended).toMatchObject({ returncode: "SUCCESS", messageKey: "sentEndMeetingRequest" });
    await expect.poll(() => node.meeting("js-1")).toBeUndefined();
  });

  it("refuses its create when the name has an apostrophe, as a real node does", async () => {
    // Its transport escapes ' after signing, so the raw query no longer matches the checksum.
    const api = bbb.api(node.apiUrl.replace(/\/api\/$/, ""), secret);
    const created = await bbb.http(api.administration.create("Client's meeting", "js-2"));
    expect(created).toMatchObject({ returncode: "FAILED", messageKey: "checksumError" });
  });
});
