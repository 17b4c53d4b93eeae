import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedNode, type StandaloneSimulatedNode } from "../../src/simulator/index.js";
import { callApi, fetchAnswer, tag } from "./support.js";
import { signQuery } from "../../src/bbb/checksum.js";

const secret = "create-secret-0123456789";
let node: StandaloneSimulatedNode;

beforeAll(async () => {
  node = await startSimulatedNode({ id: "bbb-create", secret });
});
afterAll(async () => {
  await node.close();
});

describe("create", () => {
  it("creates a meeting and answers bbb-web's fields in bbb-web's order", async () => {
    const answer = await callApi(node, secret, "create", "name=Maths&meetingID=maths-1&attendeePW=ap&moderatorPW=mp");
    const order = [...answer.body.matchAll(/<(\w+)>/g)].map((m) => m[1]);
    expect(order).toEqual([
      "response", "returncode", "meetingID", "internalMeetingID", "parentMeetingID", "attendeePW", "moderatorPW", "createTime",
      "voiceBridge", "dialNumber", "createDate", "hasUserJoined", "duration", "hasBeenForciblyEnded", "messageKey", "message",
    ]);
    expect(tag(answer.body, "attendeePW")).toBe("ap");
    expect(tag(answer.body, "moderatorPW")).toBe("mp");
  });

  it("derives internalMeetingID from the meetingID's SHA-1 and the create time", async () => {
    const answer = await callApi(node, secret, "create", "name=Internal&meetingID=internal-1");
    const sha1 = createHash("sha1").update("internal-1").digest("hex");
    expect(tag(answer.body, "internalMeetingID")).toBe(`${sha1}-${tag(answer.body, "createTime")}`);
  });

  it("generates passwords and a five-digit voice bridge when none are given", async () => {
    const answer = await callApi(node, secret, "create", "name=Generated&meetingID=generated-1");
    expect(tag(answer.body, "attendeePW")).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(tag(answer.body, "moderatorPW")).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(tag(answer.body, "voiceBridge")).toMatch(/^\d{5}$/);
  });

  it("answers duplicateWarning for a second create with the same passwords, and keeps the meeting", async () => {
    const first = await callApi(node, secret, "create", "name=Dup&meetingID=dup-1&attendeePW=a&moderatorPW=m");
    const second = await callApi(node, secret, "create", "name=Dup&meetingID=dup-1&attendeePW=a&moderatorPW=m");
    expect(tag(second.body, "returncode")).toBe("SUCCESS");
    expect(tag(second.body, "messageKey")).toBe("duplicateWarning");
    expect(tag(second.body, "createTime")).toBe(tag(first.body, "createTime"));
  });

  it("answers duplicateWarning for a second create that gives no passwords", async () => {
    await callApi(node, secret, "create", "name=Dup&meetingID=dup-2&attendeePW=a&moderatorPW=m");
    const second = await callApi(node, secret, "create", "name=Dup&meetingID=dup-2");
    expect(tag(second.body, "messageKey")).toBe("duplicateWarning");
  });

  it("answers idNotUnique for a second create that gives only one of the passwords", async () => {
    await callApi(node, secret, "create", "name=Half&meetingID=half-1&attendeePW=a&moderatorPW=m");
    const second = await callApi(node, secret, "create", "name=Half&meetingID=half-1&attendeePW=a");
    expect(tag(second.body, "messageKey")).toBe("idNotUnique");
  });

  it("answers idNotUnique for a second create with other passwords", async () => {
    await callApi(node, secret, "create", "name=Clash&meetingID=clash-1&attendeePW=a&moderatorPW=m");
    const second = await callApi(node, secret, "create", "name=Clash&meetingID=clash-1&attendeePW=other&moderatorPW=m");
    expect(tag(second.body, "returncode")).toBe("FAILED");
    expect(tag(second.body, "messageKey")).toBe("idNotUnique");
  });

  it("answers missingParamMeetingID without a meetingID", async () => {
    const answer = await callApi(node, secret, "create", "name=NoId");
    expect(tag(answer.body, "messageKey")).toBe("missingParamMeetingID");
  });

  it.each([
    ["too short", "x"],
    ["too long", "x".repeat(257)],
    ["with a comma", "a%2Cb"],
  ])("answers validationError for a meetingID %s", async (_, meetingId) => {
    const answer = await callApi(node, secret, "create", `name=Bad&meetingID=${meetingId}`);
    expect(tag(answer.body, "messageKey")).toBe("validationError");
  });

  it("answers validationError without a name", async () => {
    const answer = await callApi(node, secret, "create", "meetingID=nameless-1");
    expect(tag(answer.body, "messageKey")).toBe("validationError");
    expect(tag(answer.body, "message")).toBe("You must provide a meeting name");
  });

  it("answers validationError for a record flag that is not a boolean", async () => {
    const answer = await callApi(node, secret, "create", "name=Rec&meetingID=rec-bad&record=yes");
    expect(tag(answer.body, "messageKey")).toBe("validationError");
  });

  it("refuses a voice bridge another meeting uses", async () => {
    await callApi(node, secret, "create", "name=Voice&meetingID=voice-1&voiceBridge=71234");
    const answer = await callApi(node, secret, "create", "name=Voice&meetingID=voice-2&voiceBridge=71234");
    expect(tag(answer.body, "returncode")).toBe("FAILED");
    expect(answer.body).toContain('<error key="nonUniqueVoiceBridge"');
  });

  it("keeps every create parameter as received and the metadata with lower-cased keys", async () => {
    await callApi(
      node,
      secret,
      "create",
      "name=Kept&meetingID=kept-1&logo=https%3A%2F%2Flogo.example%2Fa.png&maxParticipants=25&record=true&duration=90&welcome=Hi+%3Cb%3E&meta_BBB-Origin=LMS&meta_endCallbackUrl=https%3A%2F%2Flms.example%2Fend",
    );
    const meeting = node.meeting("kept-1");
    expect(meeting?.params).toMatchObject({ logo: "https://logo.example/a.png", maxParticipants: "25", welcome: "Hi <b>" });
    expect(meeting?.maxParticipants).toBe(25);
    expect(meeting?.record).toBe(true);
    expect(meeting?.duration).toBe(90);
    expect([...(meeting?.metadata ?? [])]).toEqual([
      ["bbb-origin", "LMS"],
      ["endcallbackurl", "https://lms.example/end"],
    ]);
  });

  it("drops meta_ parameters whose names bbb-web does not accept as metadata", async () => {
    await callApi(node, secret, "create", "name=Meta&meetingID=meta-1&meta_good-one=1&meta_with_underscore=2&meta_9lives=3&meta_=4");
    expect([...(node.meeting("meta-1")?.metadata.keys() ?? [])]).toEqual(["good-one"]);
    expect(node.meeting("meta-1")?.params["meta_with_underscore"]).toBe("2");
  });

  it("records the presentation URLs of an XML modules body", async () => {
    const query = signQuery("create", "name=Slides&meetingID=slides-1", secret, "sha1");
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><modules><module name="presentation">' +
      '<document url="https://files.example/deck.pdf?a=1&amp;b=2" filename="deck.pdf"/>' +
      '<document name="inline.pdf">JVBERi0=</document></module></modules>';
    const answer = await fetchAnswer(`${node.apiUrl}create?${query}`, { method: "POST", headers: { "Content-Type": "application/xml" }, body });
    expect(tag(answer.body, "returncode")).toBe("SUCCESS");
    expect(node.meeting("slides-1")?.presentations).toEqual([
      { via: "create", inline: false, url: "https://files.example/deck.pdf?a=1&b=2", filename: "deck.pdf" },
      { via: "create", inline: true, name: "inline.pdf" },
    ]);
  });

  it("escapes names with XML special characters and keeps unicode", async () => {
    // fetch would percent-encode a bare `'` after signing, so the test sends it encoded.
    const name = encodeURIComponent(`Tom & Jerry's <"café"> 🎉`).replaceAll("'", "%27");
    await callApi(node, secret, "create", `name=${name}&meetingID=escape-1`);
    const info = await callApi(node, secret, "getMeetingInfo", "meetingID=escape-1");
    expect(tag(info.body, "meetingName")).toBe("Tom &amp; Jerry&apos;s &lt;&quot;café&quot;&gt; 🎉");
  });
});
