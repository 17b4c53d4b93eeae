import { describe, expect, it } from "vitest";
import { createdMeetingXml, tenantMeetingXml } from "../../src/bbb/meetingXml.js";
import { endCallbackUrl } from "../../src/tenancy/endCallback.js";

const callback = endCallbackUrl("https://lb.example.org", "k", { tenant: "acme", meetingId: "m1", nodeId: "n1", tenantUrl: "https://acme.example/ended?x=1" });

function nodeMeeting(meetingId: string, metadata: string): string {
  return `<meeting><meetingName>Demo</meetingName><meetingID>${meetingId}</meetingID><internalMeetingID>abc-1</internalMeetingID><metadata>${metadata}</metadata><isBreakout>false</isBreakout></meeting>`;
}

describe("tenantMeetingXml", () => {
  it("shows the tenant's own meeting ID instead of the node's", () => {
    const xml = tenantMeetingXml(nodeMeeting("acme~m1", ""), "acme", "m1");
    expect(xml).toContain("<meetingID>m1</meetingID>");
    expect(xml).not.toContain("acme~");
  });

  it("removes the balancer's own metadata", () => {
    const xml = tenantMeetingXml(nodeMeeting("acme~m1", "<mediaplane-tenant>acme</mediaplane-tenant><course>7</course>"), "acme", "m1");
    expect(xml).toContain("<metadata><course>7</course></metadata>");
  });

  it("shows the tenant's own end callback URL where the node holds the balancer's", () => {
    const xml = tenantMeetingXml(nodeMeeting("acme~m1", `<endcallbackurl>${callback.replaceAll("&", "&amp;")}</endcallbackurl>`), "acme", "m1");
    expect(xml).toContain("<endcallbackurl>https://acme.example/ended?x=1</endcallbackurl>");
    expect(xml).not.toContain("_mediaplane");
  });

  it("drops the balancer's end callback URL when the tenant gave none", () => {
    const own = endCallbackUrl("https://lb.example.org", "k", { tenant: "acme", meetingId: "m1", nodeId: "n1" });
    const xml = tenantMeetingXml(nodeMeeting("acme~m1", `<endcallbackurl><![CDATA[${own}]]></endcallbackurl>`), "acme", "m1");
    expect(xml).toContain("<metadata></metadata>");
  });

  it("refuses a meeting of another tenant", () => {
    expect(() => tenantMeetingXml(nodeMeeting("other~m1", ""), "acme", "m1")).toThrow(/not acme's/);
  });
});

describe("createdMeetingXml", () => {
  it("summarises a new meeting in getMeetings' shape from the create answer and parameters", () => {
    const answer = "<response><returncode>SUCCESS</returncode><meetingID>acme~m1</meetingID><internalMeetingID>i-1</internalMeetingID><createTime>1700</createTime><voiceBridge>71234</voiceBridge><attendeePW>ap</attendeePW><moderatorPW>mp</moderatorPW></response>";
    const params = new URLSearchParams({ name: "Class <1>", meetingID: "acme~m1", meta_Course: "7", [`meta_mediaplane-tenant`]: "acme", meta_endCallbackUrl: callback });
    const xml = createdMeetingXml(answer, params, "m1");
    expect(xml).toMatch(/^<meeting><meetingName>Class &lt;1&gt;<\/meetingName><meetingID>m1<\/meetingID><internalMeetingID>i-1<\/internalMeetingID><createTime>1700<\/createTime>/);
    expect(xml).toContain("<voiceBridge>71234</voiceBridge>");
    expect(xml).toContain("<metadata><course>7</course><endcallbackurl>https://acme.example/ended?x=1</endcallbackurl></metadata>");
  });
});
