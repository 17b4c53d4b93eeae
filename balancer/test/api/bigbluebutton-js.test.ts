import bbb from "bigbluebutton-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { get, startFleet, tenants, type Fleet } from "./harness.js";

interface BbbClient {
  administration: {
    create(name: string, id: string, params?: Record<string, string>): string;
    join(fullName: string, meetingId: string, password: string, params?: Record<string, string>): string;
    end(meetingId: string, password: string): string;
  };
  monitoring: { getMeetingInfo(id: string): string; getMeetings(): string; isMeetingRunning(id: string): string };
}
type Parsed = Record<string, unknown> & { returncode: string };
const { api, http } = bbb as unknown as { api(host: string, secret: string): BbbClient; http(url: string): Promise<Parsed> };

let fleet: Fleet;
let clients: { acme: BbbClient; globex: BbbClient };
const meetingId = "shared-room";

beforeAll(async () => {
  fleet = await startFleet();
  const host = (tenant: string): string => `${fleet.balancers[0]!.url}/t/${tenant}/bigbluebutton`;
  clients = { acme: api(host("acme"), tenants.acme.secret), globex: api(host("globex"), tenants.globex.secret) };
});
afterAll(async () => {
  await fleet.close();
});

describe("bigbluebutton-js through the balancer, two tenants with the same meeting ID", () => {
  it("creates the meeting for both tenants", async () => {
    for (const [tenant, client] of Object.entries(clients)) {
      const created = await http(client.administration.create(`${tenant} class`, meetingId, { attendeePW: "ap", moderatorPW: "mp" }));
      expect(created.returncode).toBe("SUCCESS");
      expect(created["meetingID"]).toBe(meetingId);
    }
  });

  it("redirects each tenant's join to the node of its own meeting, signed with that node's secret", async () => {
    for (const [tenant, client] of Object.entries(clients)) {
      const answer = await get(client.administration.join("Ada", meetingId, "mp"));
      expect(answer.status).toBe(302);
      const location = new URL(answer.location ?? "");
      const node = [...fleet.simulator.nodes.values()].find((candidate) => location.href.startsWith(candidate.apiUrl));
      expect(node?.meeting(`${tenant}~${meetingId}`)).toBeDefined();
      const query = location.search.slice(1);
      const [covered, checksum] = query.split("&checksum=") as [string, string];
      const nodeSecret = fleet.config.nodes.find((entry) => entry.id === node?.id)?.secret ?? "";
      expect(checksum).toBe(computeChecksum("sha256", "join", covered, nodeSecret));
      expect(location.searchParams.get("meetingID")).toBe(`${tenant}~${meetingId}`);
    }
  });

  it("answers getMeetingInfo with each tenant's own meeting", async () => {
    const acme = await http(clients.acme.monitoring.getMeetingInfo(meetingId));
    const globex = await http(clients.globex.monitoring.getMeetingInfo(meetingId));
    expect(acme["meetingName"]).toBe("acme class");
    expect(globex["meetingName"]).toBe("globex class");
    expect(acme["meetingID"]).toBe(meetingId);
    expect(JSON.stringify(acme)).not.toMatch(/acme~|globex|mediaplane/);
  });

  it("lists only the tenant's own meeting in getMeetings", async () => {
    const listed = await http(clients.globex.monitoring.getMeetings());
    const meetings = listed["meetings"] as Array<Record<string, unknown>>;
    expect(meetings.map((meeting) => meeting["meetingName"])).toEqual(["globex class"]);
    expect(JSON.stringify(listed)).not.toMatch(/acme|~|mediaplane/);
  });

  it("ends one tenant's meeting and leaves the other's running", async () => {
    const ended = await http(clients.acme.administration.end(meetingId, "mp"));
    expect(ended.returncode).toBe("SUCCESS");
    const acmeMeetings = await http(clients.acme.monitoring.getMeetings());
    expect(acmeMeetings["messageKey"]).toBe("noMeetings");
    const globexInfo = await http(clients.globex.monitoring.getMeetingInfo(meetingId));
    expect(globexInfo.returncode).toBe("SUCCESS");
  });
});
