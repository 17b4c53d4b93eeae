import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playbackKey } from "../../src/playback/links.js";
import type { RunningPlaybackServer } from "../../src/playback/server.js";
import { playbackToken } from "../../src/playback/token.js";
import { setRecordingsPublished } from "../../src/recordings/changes.js";
import { importShare } from "../../src/recordings/importer.js";
import { formatDirectory } from "../../src/recordings/share.js";
import type { PublishedRecording } from "../../src/simulator/index.js";
import { callbackSecret, get, signedUrl, tenants } from "../api/harness.js";
import { globexProtectsPlayback, startPlayback, startRecordingFleet, type RecordingFleet } from "./harness.js";

/**
 * Playback from the share, on real recordings made by simulated nodes and indexed in a real Redis: the paths of
 * BBB's players (bbb-playback README: `/playback/presentation/2.3/<recordID>` is the player's index.html, the
 * presentation's files are `/presentation/<recordID>/...`), and protected playback for a tenant that turns it on.
 */

let rf: RecordingFleet;
let server: RunningPlaybackServer;
let playerDir: string;
let acme: PublishedRecording;
let globex: PublishedRecording;
let globexOther: PublishedRecording;
const key = playbackKey(callbackSecret);
const playerPage = "<!doctype html><title>bbb-playback</title>";
const secret = "another tenant's secret file";

beforeAll(async () => {
  rf = await startRecordingFleet({ configure: globexProtectsPlayback });
  acme = (await rf.record("acme", "talk"))!;
  globex = (await rf.record("globex", "talk"))!;
  globexOther = (await rf.record("globex", "other"))!;
  await importShare(rf.context(), rf.importSettings);
  playerDir = await mkdtemp(join(tmpdir(), "mediaplane-player-"));
  await writeFile(join(playerDir, "index.html"), playerPage);
  await mkdir(join(playerDir, "static", "js"), { recursive: true });
  await writeFile(join(playerDir, "static", "js", "main.js"), "console.log('player')");
  await writeFile(join(rf.share, "secret.txt"), secret);
  await symlink(join(rf.share, "secret.txt"), join(formatDirectory(rf.share, "acme", "published", "presentation", acme.recordId), "escape.txt"));
  server = await startPlayback(rf, playerDir);
}, 60_000);
afterAll(async () => {
  await server.close();
  await rf.close();
  await rm(playerDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

async function fetchPath(path: string, host: string, headers: Record<string, string> = {}): Promise<Answer> {
  const answer = await request(`http://127.0.0.1:${server.port}${path}`, { headers: { host, ...headers } });
  return { status: answer.statusCode, body: Buffer.from(await answer.body.arrayBuffer()), headers: answer.headers };
}

const presentationFile = (recording: PublishedRecording, tenant: string, file: string): Promise<Buffer> =>
  readFile(join(formatDirectory(rf.share, tenant, "published", "presentation", recording.recordId), file));

describe("playback on the tenant's host", () => {
  it("serves the 2.3 player for a recording and the presentation's files from the share", async () => {
    expect((await fetchPath(`/playback/presentation/2.3/${acme.recordId}`, "acme.bbb.test")).body.toString()).toBe(playerPage);
    expect((await fetchPath("/playback/presentation/2.3/static/js/main.js", "acme.bbb.test")).status).toBe(200);
    const metadata = await fetchPath(`/presentation/${acme.recordId}/metadata.xml`, "acme.bbb.test");
    expect(metadata.status).toBe(200);
    expect(metadata.headers["content-type"]).toBe("application/xml");
    expect(metadata.body).toEqual(await presentationFile(acme, "acme", "metadata.xml"));
  });

  it("answers a byte range of a video, as the player seeks", async () => {
    const whole = await presentationFile(acme, "acme", "video/webcams.webm");
    const part = await fetchPath(`/presentation/${acme.recordId}/video/webcams.webm`, "acme.bbb.test", { range: "bytes=2-5" });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 2-5/${whole.length}`);
    expect(part.body).toEqual(whole.subarray(2, 6));
  });

  it("serves a recording only on its own tenant's host", async () => {
    expect((await fetchPath(`/presentation/${acme.recordId}/metadata.xml`, "globex.bbb.test")).status).toBe(404);
    expect((await fetchPath(`/presentation/${acme.recordId}/metadata.xml`, "bbb.test")).status).toBe(404);
  });

  it("serves nothing of an unpublished recording", async () => {
    await setRecordingsPublished(rf.context(), "globex", [globexOther.recordId], false);
    const token = playbackToken(key, globexOther.recordId, Math.floor(Date.now() / 1000) + 60);
    expect((await fetchPath(`/presentation/${globexOther.recordId}/metadata.xml?token=${token}`, "globex.bbb.test")).status).toBe(404);
    await setRecordingsPublished(rf.context(), "globex", [globexOther.recordId], true);
  });

  it("never serves a file outside the recording's directory, however the path is spelled", async () => {
    const inside = `/presentation/${acme.recordId}/`;
    const segment = fc.oneof(
      fc.constantFrom("..", ".", "%2e%2e", "%2E%2E", "..%2f", "%2f", "%5c..", "secret.txt", "acme", "globex", "published", "presentation", globex.recordId, "metadata.xml", "", "%00", ".staging"),
      fc.string({ maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 6 }), async (segments) => {
        const answer = await fetchPath(`${inside}${segments.join("/")}`, "acme.bbb.test");
        expect(answer.body.toString()).not.toContain(secret);
        if (answer.status === 200) {
          expect(answer.body).toEqual(await presentationFile(acme, "acme", segments.map(decodeURIComponent).join("/")));
        } else {
          expect([400, 404]).toContain(answer.status);
        }
      }),
      { numRuns: 200 },
    );
    expect((await fetchPath(`${inside}escape.txt`, "acme.bbb.test")).status).toBe(404);
  });
});

describe("protected playback", () => {
  const playbackPath = async (recording: PublishedRecording): Promise<string> => {
    const answer = await get(signedUrl(rf.fleet.balancers[0]!, tenants.globex, "getRecordings", { recordID: recording.recordId }));
    const url = new URL(/<url>([^<]+)<\/url>/.exec(answer.body)?.[1]?.replace(/&amp;/g, "&") ?? "");
    return `${url.pathname}${url.search}`;
  };

  it("refuses the player and the files without a token", async () => {
    expect((await fetchPath(`/playback/presentation/2.3/${globex.recordId}`, "globex.bbb.test")).status).toBe(403);
    expect((await fetchPath(`/presentation/${globex.recordId}/metadata.xml`, "globex.bbb.test")).status).toBe(403);
  });

  it("trades getRecordings' token for a cookie that opens that recording's files", async () => {
    const entry = await fetchPath(await playbackPath(globex), "globex.bbb.test");
    expect(entry.status).toBe(200);
    const setCookie = String(entry.headers["set-cookie"]);
    expect(setCookie).toMatch(new RegExp(`^mp_playback_${globex.recordId}=[^;]+; Path=/presentation/${globex.recordId}/; Max-Age=\\d+; HttpOnly; Secure; SameSite=Strict$`));
    const cookie = setCookie.split(";")[0] ?? "";
    const file = await fetchPath(`/presentation/${globex.recordId}/shapes.svg`, "globex.bbb.test", { cookie });
    expect(file.status).toBe(200);
    expect(file.body).toEqual(await presentationFile(globex, "globex", "shapes.svg"));
    const renamed = cookie.replace(globex.recordId, globexOther.recordId);
    expect((await fetchPath(`/presentation/${globexOther.recordId}/shapes.svg`, "globex.bbb.test", { cookie: renamed })).status).toBe(403);
  });

  it("refuses an expired token and another recording's token", async () => {
    const expired = playbackToken(key, globex.recordId, Math.floor(Date.now() / 1000) - 1);
    expect((await fetchPath(`/presentation/${globex.recordId}/metadata.xml?token=${expired}`, "globex.bbb.test")).status).toBe(403);
    const others = new URL(await playbackPath(globexOther), "http://x").searchParams.get("token") ?? "";
    expect((await fetchPath(`/presentation/${globex.recordId}/metadata.xml?token=${others}`, "globex.bbb.test")).status).toBe(403);
    expect((await fetchPath(`/presentation/${globex.recordId}/metadata.xml`, "globex.bbb.test", { cookie: `mp_playback_${globex.recordId}=${others}` })).status).toBe(403);
  });

  it("refuses a token signed with another key", async () => {
    const forged = playbackToken("not the platform's key", globex.recordId, Math.floor(Date.now() / 1000) + 600);
    expect((await fetchPath(`/presentation/${globex.recordId}/metadata.xml?token=${forged}`, "globex.bbb.test")).status).toBe(403);
  });
});
