import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeChecksum } from "../../src/bbb/checksum.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/startSandbox.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";

let sandbox: Sandbox;
beforeAll(async () => {
  const logger = createLogger({ name: "sandbox", level: "silent", destination: new Writable({ write: (_c, _e, done) => done() }) });
  sandbox = await startSandbox({ apiPort: 0, adminPort: 0, logger });
}, 60_000);
afterAll(async () => {
  await sandbox.close();
});

async function call(name: string, params: Record<string, string>): Promise<string> {
  const tenant = sandbox.tenants[0]!;
  const query = new URLSearchParams(params).toString();
  const checksum = computeChecksum("sha256", name, query, tenant.secret);
  const answer = await fetch(`${sandbox.api.url}/t/${tenant.slug}/bigbluebutton/api/${name}?${query}&checksum=${checksum}`);
  return answer.text();
}

describe("recordings in the sandbox", () => {
  it("a recorded meeting that ends shows up in the tenant's getRecordings, by way of the hook, the upload endpoint and the importer", async () => {
    expect(await call("create", { meetingID: "sandbox-recorded", name: "Recorded", record: "true" })).toContain("<returncode>SUCCESS</returncode>");
    const id = nodeMeetingId("acme", "sandbox-recorded");
    const node = [...sandbox.simulator.nodes.values()].find((candidate) => candidate.meeting(id) !== undefined)!;
    node.addAttendees(id, 2);
    node.startRecording(id);
    await node.endMeeting(id);
    const published = node.recordings.at(-1)!;
    expect(published.hook?.exitCode, published.hook?.output).toBe(0);
    const deadline = Date.now() + 20_000;
    let answer = "";
    while (Date.now() < deadline) {
      answer = await call("getRecordings", { meetingID: "sandbox-recorded" });
      if (answer.includes(published.recordId)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(answer).toContain(`<recordID>${published.recordId}</recordID>`);
    expect(answer).toContain("<meetingID>sandbox-recorded</meetingID>");
  }, 60_000);
});
