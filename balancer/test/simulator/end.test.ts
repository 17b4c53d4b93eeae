import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, tag } from "./support.js";

const secret = "end-secret-0123456789";
let node: StandaloneSimulatedNode;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ method: string; url: string }> = [];
const waiters: Array<() => void> = [];

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-end", secret, endDelayMs: 20 });
  receiver = createServer((request: IncomingMessage, response) => {
    received.push({ method: request.method ?? "", url: request.url ?? "" });
    response.end("ok");
    waiters.shift()?.();
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await node.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const nextCallback = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));

describe("end", () => {
  it("answers sentEndMeetingRequest and the meeting is gone shortly after", async () => {
    await callApi(node, secret, "create", "name=Ending&meetingID=ending-1");
    const answer = await callApi(node, secret, "end", "meetingID=ending-1");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(tag(answer.body, "messageKey")).toBe("sentEndMeetingRequest");
    await expect.poll(() => node.meeting("ending-1")).toBeUndefined();
    const info = await callApi(node, secret, "getMeetingInfo", "meetingID=ending-1");
    expect(tag(info.body, "messageKey")).toBe("notFound");
  });

  it("calls meta_endCallbackUrl with GET, adding recordingmarks and meetingID", async () => {
    received.length = 0;
    const callbackUrl = encodeURIComponent(`${receiverUrl}/hooks/end?tenant=t1`);
    await callApi(node, secret, "create", `name=Callback&meetingID=callback+1&meta_endCallbackUrl=${callbackUrl}`);
    const called = nextCallback();
    await callApi(node, secret, "end", "meetingID=callback+1");
    await called;
    expect(received).toEqual([{ method: "GET", url: "/hooks/end?tenant=t1&recordingmarks=false&meetingID=callback+1" }]);
  });

  it("calls meetingEndedURL as given", async () => {
    received.length = 0;
    await callApi(node, secret, "create", `name=Ended+URL&meetingID=ended-url-1&meetingEndedURL=${encodeURIComponent(`${receiverUrl}/ended?x=1`)}`);
    await node.endMeeting("ended-url-1");
    expect(received.map((r) => r.url)).toEqual(["/ended?x=1"]);
  });

  it("says recordingmarks=true for a recorded meeting that started recording with someone in it", async () => {
    received.length = 0;
    const callback = encodeURIComponent(`${receiverUrl}/end`);
    await callApi(node, secret, "create", `name=Rec&meetingID=rec-1&record=true&autoStartRecording=true&meta_endCallbackUrl=${callback}`);
    node.addAttendees("rec-1", 1, "MODERATOR");
    await node.endMeeting("rec-1");
    expect(received.map((r) => r.url)).toEqual(["/end?recordingmarks=true&meetingID=rec-1"]);
  });

  it("does not call back for a breakout room", async () => {
    received.length = 0;
    const callback = encodeURIComponent(`${receiverUrl}/end`);
    await callApi(node, secret, "create", `name=Breakout&meetingID=breakout-1&isBreakout=true&parentMeetingID=parent-1&meta_endCallbackUrl=${callback}`);
    await node.endMeeting("breakout-1");
    expect(received).toEqual([]);
  });

  it("calls back when a moderator ends the meeting from the client", async () => {
    received.length = 0;
    await callApi(node, secret, "create", `name=Client&meetingID=client-1&meta_endCallbackUrl=${encodeURIComponent(`${receiverUrl}/end`)}`);
    await node.endMeeting("client-1");
    expect(received.map((r) => r.url)).toEqual(["/end?recordingmarks=false&meetingID=client-1"]);
    expect(node.endCallbacks.at(-1)).toMatchObject({ meetingId: "client-1", status: 200 });
  });

  it("answers notFound when ending an unknown meeting", async () => {
    const answer = await callApi(node, secret, "end", "meetingID=unknown-1");
    expect(tag(answer.body, "messageKey")).toBe("notFound");
  });

  it("forgets every meeting, even one being ended, without calling back, as a restarted node", async () => {
    // Ends here wait 2 s, far longer than the answer takes to reach the test on a loaded machine, so the end is
    // still pending when the node forgets.
    const restarting = await startSimulatedNode({ id: "bbb-restarting", secret, endDelayMs: 2_000 });
    try {
      received.length = 0;
      const callback = encodeURIComponent(`${receiverUrl}/end`);
      await callApi(restarting, secret, "create", `name=Lost&meetingID=lost-1&meta_endCallbackUrl=${callback}`);
      await callApi(restarting, secret, "end", "meetingID=lost-1");
      restarting.forgetAllMeetings();
      expect(restarting.meetings()).toEqual([]);
      // An end sent afterwards has the same delay: once its callback is in, the forgotten one's time has passed too.
      await callApi(restarting, secret, "create", `name=After&meetingID=after-1&meta_endCallbackUrl=${callback}`);
      const called = nextCallback();
      await callApi(restarting, secret, "end", "meetingID=after-1");
      await called;
      expect(received.map((r) => r.url)).toEqual(["/end?recordingmarks=false&meetingID=after-1"]);
    } finally {
      await restarting.close();
    }
  });

});

describe("a meeting being ended", () => {
  let slow: StandaloneSimulatedNode;
  beforeAll(async () => {
    slow = await startSimulatedNode({ id: "bbb-slow-end", secret, endDelayMs: 60_000 });
  });
  afterAll(async () => {
    await slow.close();
  });

  it("shows hasBeenForciblyEnded with nobody in it until it is gone", async () => {
    await callApi(slow, secret, "create", "name=Closing&meetingID=closing-1");
    slow.addAttendees("closing-1", 4);
    await callApi(slow, secret, "end", "meetingID=closing-1");
    const info = await callApi(slow, secret, "getMeetingInfo", "meetingID=closing-1");
    expect(tag(info.body, "hasBeenForciblyEnded")).toBe("true");
    expect(tag(info.body, "participantCount")).toBe("0");
    expect(tag(info.body, "running")).toBe("false");
  });

  it("refuses joins with meetingForciblyEnded", async () => {
    await callApi(slow, secret, "create", "name=Closed&meetingID=closed-1");
    await callApi(slow, secret, "end", "meetingID=closed-1");
    const answer = await callApi(slow, secret, "join", "fullName=Late&meetingID=closed-1&role=VIEWER&redirect=false");
    expect(tag(answer.body, "messageKey")).toBe("meetingForciblyEnded");
  });

  it("is replaced by a fresh meeting when its ID is created again, after its end callback", async () => {
    received.length = 0;
    await callApi(slow, secret, "create", `name=Again&meetingID=again-1&meta_endCallbackUrl=${encodeURIComponent(`${receiverUrl}/end`)}`);
    await callApi(slow, secret, "end", "meetingID=again-1");
    const called = nextCallback();
    const recreated = await callApi(slow, secret, "create", "name=Again&meetingID=again-1");
    expect(tag(recreated.body, "messageKey")).toBe("");
    expect(tag(recreated.body, "hasBeenForciblyEnded")).toBe("false");
    await called;
    expect(received.map((r) => r.url)).toEqual(["/end?recordingmarks=false&meetingID=again-1"]);
  });
});

describe("meetings a node ends by itself", () => {
  let idle: StandaloneSimulatedNode;
  beforeAll(async () => {
    idle = await startSimulatedNode({ id: "bbb-idle", secret, expiry: { noUserJoinedMs: 100, lastUserLeftMs: 100 } });
  });
  afterAll(async () => {
    await idle.close();
  });

  it("ends a meeting nobody joined, and calls back", async () => {
    received.length = 0;
    await callApi(idle, secret, "create", `name=Nobody&meetingID=nobody-1&meta_endCallbackUrl=${encodeURIComponent(`${receiverUrl}/end`)}`);
    await expect.poll(() => idle.meeting("nobody-1")).toBeUndefined();
    await expect.poll(() => received.map((r) => r.url)).toEqual(["/end?recordingmarks=false&meetingID=nobody-1"]);
  });

  it("ends a meeting once its last user has left", async () => {
    await callApi(idle, secret, "create", "name=Left&meetingID=left-1");
    idle.addAttendees("left-1", 2);
    idle.removeAttendees("left-1", 2);
    await expect.poll(() => idle.meeting("left-1")).toBeUndefined();
  });

  it("keeps a meeting while someone is in it", async () => {
    await callApi(idle, secret, "create", "name=Busy&meetingID=busy-1");
    idle.addAttendees("busy-1", 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(idle.meeting("busy-1")).toBeDefined();
  });
});
