import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, tag, tags } from "./support.js";

const secret = "meetings-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-meetings", secret });
});
afterAll(async () => {
  await node.close();
});

const meetingFieldOrder = [
  "meetingName", "meetingID", "internalMeetingID", "createTime", "createDate", "voiceBridge", "dialNumber", "attendeePW",
  "moderatorPW", "running", "duration", "hasUserJoined", "recording", "hasBeenForciblyEnded", "startTime", "endTime",
  "participantCount", "listenerCount", "voiceParticipantCount", "videoCount", "maxUsers", "moderatorCount", "attendees",
  "attendee", "userID", "fullName", "role", "isPresenter", "isListeningOnly", "hasJoinedVoice", "hasVideo", "clientType",
  "customdata", "metadata", "origin", "isBreakout",
];

describe("getMeetings", () => {
  it("answers noMeetings on an empty node", async () => {
    node.forgetAllMeetings();
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(answer.body).toBe(
      "<response><returncode>SUCCESS</returncode><meetings></meetings><messageKey>noMeetings</messageKey><message>no meetings were found on this server</message></response>",
    );
  });

  it("lists every meeting with bbb-web's fields in bbb-web's order", async () => {
    node.forgetAllMeetings();
    await callApi(node, secret, "create", "name=Listed&meetingID=listed-1&meta_origin=lms");
    node.addAttendees("listed-1", 1, "MODERATOR");
    const answer = await callApi(node, secret, "getMeetings", "");
    const inner = /<meeting>(.*)<\/meeting>/.exec(answer.body)?.[1] ?? "";
    const order = [...inner.matchAll(/<(\w+)>/g)].map((m) => m[1]);
    expect(order).toEqual(meetingFieldOrder);
  });

  it("reflects attendees added after a previous poll", async () => {
    node.forgetAllMeetings();
    await callApi(node, secret, "create", "name=Growing&meetingID=growing-1");
    const before = await callApi(node, secret, "getMeetings", "");
    node.addAttendees("growing-1", 3);
    const after = await callApi(node, secret, "getMeetings", "");
    expect(tag(before.body, "participantCount")).toBe("0");
    expect(tag(after.body, "participantCount")).toBe("3");
    expect(tag(after.body, "running")).toBe("true");
  });

  it("counts webcams, microphones and listen-only attendees", async () => {
    node.forgetAllMeetings();
    await callApi(node, secret, "create", "name=Media&meetingID=media-1");
    node.addAttendees("media-1", 2, "VIEWER", { video: true, voice: true });
    node.addAttendees("media-1", 3, "VIEWER", { listenOnly: true });
    node.addAttendees("media-1", 1, "MODERATOR");
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(tag(answer.body, "participantCount")).toBe("6");
    expect(tag(answer.body, "videoCount")).toBe("2");
    expect(tag(answer.body, "voiceParticipantCount")).toBe("2");
    expect(tag(answer.body, "listenerCount")).toBe("3");
    expect(tag(answer.body, "moderatorCount")).toBe("1");
  });

  it("drops the attendees who leave", async () => {
    node.forgetAllMeetings();
    await callApi(node, secret, "create", "name=Leaving&meetingID=leaving-1");
    node.addAttendees("leaving-1", 5);
    await callApi(node, secret, "getMeetings", "");
    node.removeAttendees("leaving-1", 2);
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(tag(answer.body, "participantCount")).toBe("3");
  });

  it("lists several meetings", async () => {
    node.forgetAllMeetings();
    await callApi(node, secret, "create", "name=One&meetingID=one-1");
    await callApi(node, secret, "create", "name=Two&meetingID=two-2");
    const answer = await callApi(node, secret, "getMeetings", "");
    expect(tags(answer.body, "meetingID")).toEqual(["one-1", "two-2"]);
  });
});

describe("getMeetingInfo", () => {
  it("answers the meeting with its attendees and metadata", async () => {
    await callApi(node, secret, "create", "name=Info&meetingID=info-1&meta_bbb-context=Course+7");
    node.addAttendees("info-1", 2, "VIEWER");
    const answer = await callApi(node, secret, "getMeetingInfo", "meetingID=info-1");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(tag(answer.body, "participantCount")).toBe("2");
    expect(tags(answer.body, "role")).toEqual(["VIEWER", "VIEWER"]);
    expect(tag(answer.body, "bbb-context")).toBe("Course 7");
  });

  it("answers notFound for an unknown meeting", async () => {
    const answer = await callApi(node, secret, "getMeetingInfo", "meetingID=unknown-1");
    expect(tag(answer.body, "returncode")).toBe("FAILED");
    expect(tag(answer.body, "messageKey")).toBe("notFound");
  });
});

describe("isMeetingRunning", () => {
  it("says false for a meeting nobody joined yet", async () => {
    await callApi(node, secret, "create", "name=Empty&meetingID=empty-1");
    const answer = await callApi(node, secret, "isMeetingRunning", "meetingID=empty-1");
    expect(tag(answer.body, "running")).toBe("false");
  });

  it("says true once someone is in", async () => {
    await callApi(node, secret, "create", "name=Busy&meetingID=busy-1");
    node.addAttendees("busy-1", 1);
    const answer = await callApi(node, secret, "isMeetingRunning", "meetingID=busy-1");
    expect(tag(answer.body, "running")).toBe("true");
  });

  it("says false for an unknown meeting", async () => {
    const answer = await callApi(node, secret, "isMeetingRunning", "meetingID=unknown-2");
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(tag(answer.body, "running")).toBe("false");
  });
});
