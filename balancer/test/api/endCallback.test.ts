import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keys } from "../../src/store/keys.js";
import { endCallbackUrl } from "../../src/tenancy/endCallback.js";
import { freePort } from "../support/redis.js";
import { field, get, signedUrl, startFleet, tenants, type Fleet } from "./harness.js";

let fleet: Fleet;
let tenantSite: Server;
let tenantSiteUrl: string;
const received: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  fleet = await startFleet({ nodeIds: ["n1"], port, publicUrl: `http://127.0.0.1:${port}` });
  tenantSite = createServer((req, res) => {
    received.push(req.url ?? "");
    res.end("ok");
  });
  tenantSite.listen(0, "127.0.0.1");
  await once(tenantSite, "listening");
  tenantSiteUrl = `http://127.0.0.1:${(tenantSite.address() as AddressInfo).port}`;
});
afterAll(async () => {
  tenantSite.close();
  await fleet.close();
});

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await condition()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("end callback", () => {
  it("gives the node the balancer's signed callback instead of the tenant's", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.acme, "create", { name: "cb", meetingID: "cb-1", meta_endCallbackUrl: `${tenantSiteUrl}/ended` }));
    const url = fleet.simulator.node("n1").meeting("acme~cb-1")?.metadata.get("endcallbackurl") ?? "";
    expect(url.startsWith(`${fleet.balancers[0]!.url}/t/_mediaplane/end?`)).toBe(true);
    expect(new URL(url).searchParams.get("s")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("shows the tenant its own callback URL in getMeetingInfo", async () => {
    const answer = await get(signedUrl(fleet.balancers[0]!, tenants.acme, "getMeetingInfo", { meetingID: "cb-1" }));
    expect(field(answer.body, "endcallbackurl")).toBe(`${tenantSiteUrl}/ended`);
  });

  it("forwards the end to the tenant's URL with the tenant's meeting ID and releases the meeting", async () => {
    await fleet.simulator.node("n1").endMeeting("acme~cb-1");
    await until(() => received.length > 0);
    const forwarded = new URL(received[0] ?? "", tenantSiteUrl);
    expect(forwarded.pathname).toBe("/ended");
    expect(forwarded.searchParams.get("meetingID")).toBe("cb-1");
    expect(forwarded.searchParams.has("recordingmarks")).toBe(true);
    expect(forwarded.search).not.toMatch(/acme~|_mediaplane/);
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("acme"), "cb-1")).toBeNull();
  });

  it("releases a meeting whose tenant gave no callback when the node reports its end", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.globex, "create", { name: "quiet", meetingID: "cb-2" }));
    await fleet.simulator.node("n1").endMeeting("globex~cb-2");
    await until(async () => (await fleet.balancers[0]!.redis.hget(keys.meetings("globex"), "cb-2")) === null);
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("globex"), "cb-2")).toBeNull();
    expect((await get(signedUrl(fleet.balancers[0]!, tenants.globex, "getMeetings", {}))).body).toContain("noMeetings");
  });

  it("keeps a meeting created again when a late callback of its earlier instance arrives", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.globex, "create", { name: "again", meetingID: "cb-4" }));
    const late = endCallbackUrl(fleet.balancers[0]!.url, "test-callback-secret-0123", { tenant: "globex", meetingId: "cb-4", nodeId: "n1" });
    expect((await get(`${late}&recordingmarks=false&meetingID=globex~cb-4`)).status).toBe(200);
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("globex"), "cb-4")).toBe("n1");
  });

  it("refuses a callback whose signature is not the balancer's, and releases nothing", async () => {
    await get(signedUrl(fleet.balancers[0]!, tenants.globex, "create", { name: "kept", meetingID: "cb-3" }));
    const forged = `${fleet.balancers[0]!.url}/t/_mediaplane/end?t=globex&m=cb-3&n=n1&s=${"0".repeat(64)}`;
    expect((await get(forged)).status).toBe(404);
    expect(await fleet.balancers[0]!.redis.hget(keys.meetings("globex"), "cb-3")).toBe("n1");
  });
});
