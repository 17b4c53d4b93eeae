import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";

const secret = "join-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-join", secret });
  await callApi(node, secret, "create", "name=Room&meetingID=room-1&attendeePW=ap&moderatorPW=mp");
  await callApi(node, secret, "create", "name=Small&meetingID=small-1&maxParticipants=1");
});
afterAll(async () => {
  await node.close();
});

function errorsOf(location: string | null): unknown {
  return JSON.parse(new URL(location ?? "").searchParams.get("errors") ?? "");
}

describe("join", () => {
  it("redirects the browser to the HTML5 client with a session token by default", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Ada&meetingID=room-1&role=MODERATOR");
    expect(answer.status).toBe(302);
    expect(answer.location).toMatch(new RegExp(`^${node.apiUrl.replace("bigbluebutton/api/", "")}html5client/join\\?sessionToken=[a-z0-9]{16}$`));
    const page = await fetchAnswer(answer.location ?? "");
    expect(page.status).toBe(200);
    expect(page.contentType).toBe("text/html;charset=utf-8");
  });

  it("answers successfullyJoined as XML with redirect=false", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Bob&meetingID=room-1&password=ap&redirect=false");
    expect(answer.status).toBe(200);
    expect(tag(answer.body, "messageKey")).toBe("successfullyJoined");
    expect(tag(answer.body, "meeting_id")).toBe(node.meeting("room-1")?.internalMeetingId);
    expect(tag(answer.body, "user_id")).toMatch(/^w_[a-z0-9]{12}$/);
    expect(tag(answer.body, "session_token")).toMatch(/^[a-z0-9]{16}$/);
    expect(tag(answer.body, "guestStatus")).toBe("ALLOW");
    expect(tag(answer.body, "url")).toContain(`sessionToken=${tag(answer.body, "session_token")}`);
  });

  it("adds the joined user as an attendee with the role their password gives", async () => {
    await callApi(node, secret, "join", "fullName=Mod+Erator&meetingID=room-1&password=mp&userID=ext-7&redirect=false");
    const attendee = node.meeting("room-1")?.attendees.find((a) => a.userId === "ext-7");
    expect(attendee).toMatchObject({ fullName: "Mod Erator", role: "MODERATOR" });
  });

  it("keeps userdata- parameters as the attendee's custom data", async () => {
    await callApi(node, secret, "join", "fullName=Cus&meetingID=room-1&role=VIEWER&userID=custom-1&userdata-bbb_skip_check_audio=true&userdata-a-b=x&redirect=false");
    const info = await callApi(node, secret, "getMeetingInfo", "meetingID=room-1");
    expect(node.meeting("room-1")?.attendees.find((a) => a.userId === "custom-1")?.customData).toEqual({ bbb_skip_check_audio: "true" });
    expect(info.body).toContain("<customdata><bbb_skip_check_audio>true</bbb_skip_check_audio></customdata>");
  });

  it("redirects an unknown meeting to the logout URL with invalidMeetingIdentifier in errors", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Ada&meetingID=nowhere&role=VIEWER&logoutURL=https%3A%2F%2Flms.example%2Fbye");
    expect(answer.status).toBe(302);
    expect(answer.location?.startsWith("https://lms.example/bye?errors=")).toBe(true);
    expect(errorsOf(answer.location)).toEqual([{ key: "invalidMeetingIdentifier", message: "A meeting with that ID does not exist" }]);
  });

  it("prefers errorRedirectUrl for a failed join", async () => {
    const answer = await callApi(
      node,
      secret,
      "join",
      "fullName=Ada&meetingID=nowhere&role=VIEWER&logoutURL=https%3A%2F%2Flms.example%2Fbye&errorRedirectUrl=https%3A%2F%2Flms.example%2Foops%3Fx%3D1",
    );
    expect(answer.location?.startsWith("https://lms.example/oops?x=1&errors=")).toBe(true);
  });

  it("answers invalidMeetingIdentifier as XML for an unknown meeting with redirect=false", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Ada&meetingID=nowhere&role=VIEWER&redirect=false");
    expect(answer.status).toBe(200);
    expect(tag(answer.body, "messageKey")).toBe("invalidMeetingIdentifier");
  });

  it("answers missingParamFullName without a fullName", async () => {
    const answer = await callApi(node, secret, "join", "meetingID=room-1&role=VIEWER&redirect=false");
    expect(tag(answer.body, "messageKey")).toBe("missingParamFullName");
  });

  it("answers a join with neither a role nor a password as XML, even to a browser", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Ada&meetingID=room-1");
    expect(answer.status).toBe(200);
    expect(tag(answer.body, "returncode")).toBe("FAILED");
    expect(tag(answer.body, "messageKey")).toBe("Params required");
  });

  it("answers a wrong password as XML, even to a browser", async () => {
    const answer = await callApi(node, secret, "join", "fullName=Ada&meetingID=room-1&password=guess");
    expect(answer.status).toBe(200);
    expect(tag(answer.body, "message")).toBe("You must enter a valid password");
  });

  it("lets a valid role decide over the password", async () => {
    await callApi(node, secret, "join", "fullName=Role+Wins&meetingID=room-1&role=viewer&password=mp&userID=role-wins&redirect=false");
    expect(node.meeting("room-1")?.attendees.find((a) => a.userId === "role-wins")?.role).toBe("VIEWER");
  });

  it("answers maxParticipantsReached once the meeting is full", async () => {
    await callApi(node, secret, "join", "fullName=First&meetingID=small-1&role=VIEWER&userID=first&redirect=false");
    const answer = await callApi(node, secret, "join", "fullName=Second&meetingID=small-1&role=VIEWER&redirect=false");
    expect(tag(answer.body, "messageKey")).toBe("maxParticipantsReached");
  });

  it("lets a user already in a full meeting join again with the same userID", async () => {
    const answer = await callApi(node, secret, "join", "fullName=First&meetingID=small-1&role=VIEWER&userID=first&redirect=false");
    expect(tag(answer.body, "messageKey")).toBe("successfullyJoined");
  });

  it("redirects a join with a wrong checksum to the error URL", async () => {
    const answer = await callApi(node, "wrong-secret-0123456789", "join", "fullName=Ada&meetingID=room-1&role=VIEWER");
    expect(answer.status).toBe(302);
    expect(errorsOf(answer.location)).toEqual([{ key: "checksumError", message: "Checksums do not match" }]);
  });
});
