import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxTextTrackBytes } from "../../src/http/body.js";
import type { RunningPlaybackServer } from "../../src/playback/server.js";
import { setRecordingsPublished } from "../../src/recordings/changes.js";
import { importShare } from "../../src/recordings/importer.js";
import { formatDirectory } from "../../src/recordings/share.js";
import type { PublishedRecording } from "../../src/simulator/index.js";
import { get, signedUrl, tenants } from "../api/harness.js";
import { globexProtectsPlayback, startPlayback, startRecordingFleet, type RecordingFleet } from "./harness.js";

/**
 * A recording's text tracks through the balancer, on recordings made by simulated nodes (with live captions typed
 * in the meeting), uploaded to a share in a temporary directory and indexed in a real Redis. bbb-web is the
 * reference (BBB 3.0):
 * - `bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/RecordingController.groovy`: the
 *   checks of both calls in order, their keys and messages;
 * - `bbb-common-web/src/main/scala/org/bigbluebutton/api2/domain/TextTracks.scala` (`Track`: href, kind, label, lang,
 *   source; `GetRecTextTracksResp`, `PutRecTextTrackResp`) as `api2/util/RecMetaXmlHelper.scala` writes them with Gson;
 * - `record-and-playback/core/scripts/utils/gen_webvtt.rb` (live captions: `caption_<locale>.vtt`, `{locale,
 *   localeName}`), `record-and-playback/presentation/scripts/caption/presentation` (an upload in the playback:
 *   `{kind, locale, localeName}`, the same kind and language replaced) and `core/scripts/rap-caption-inbox.rb`.
 */

let rf: RecordingFleet;
let playback: RunningPlaybackServer;
let lecture: PublishedRecording;
let silent: PublishedRecording;
let globexLecture: PublishedRecording;

beforeAll(async () => {
  rf = await startRecordingFleet({ configure: globexProtectsPlayback });
  lecture = (await rf.record("acme", "lecture", { captions: [["en", "English", "Welcome <everyone> & hello"], ["de", "Deutsch", "Willkommen"], ["en", "English", "Second line"]] }))!;
  silent = (await rf.record("acme", "silent"))!;
  globexLecture = (await rf.record("globex", "lecture", { captions: [["fr", "Français", "Bonjour"]] }))!;
  await importShare(rf.context(), rf.importSettings);
  playback = await startPlayback(rf);
}, 60_000);
afterAll(async () => {
  await playback.close();
  await rf.close();
});

type Tenant = keyof typeof tenants;
interface JsonAnswer {
  status: number;
  contentType: string | undefined;
  response: Record<string, unknown>;
}

const balancer = () => rf.fleet.balancers[0]!;

async function textTracks(tenant: Tenant, recordId: string): Promise<JsonAnswer> {
  const answer = await get(signedUrl(balancer(), tenants[tenant], "getRecordingTextTracks", { recordID: recordId }));
  return { status: answer.status, contentType: answer.contentType, response: (JSON.parse(answer.body) as { response: Record<string, unknown> }).response };
}

interface Upload {
  readonly params: Record<string, string>;
  readonly file?: { readonly content: string | Uint8Array; readonly name?: string } | undefined;
}

/** putRecordingTextTrack as BBB clients send it: the parameters in the signed query, the file in a multipart body. */
async function upload(tenant: Tenant, { params, file }: Upload, url = signedUrl(balancer(), tenants[tenant], "putRecordingTextTrack", params)): Promise<{ status: number; body: string }> {
  const form = new FormData();
  if (file !== undefined) form.set("file", new Blob([file.content]), file.name ?? "track.vtt");
  const answer = await fetch(url, { method: "POST", body: form });
  return { status: answer.status, body: await answer.text() };
}

async function uploadJson(tenant: Tenant, upload_: Upload): Promise<Record<string, unknown>> {
  const answer = await upload(tenant, upload_);
  expect(answer.status).toBe(200);
  return (JSON.parse(answer.body) as { response: Record<string, unknown> }).response;
}

/** A track's href fetched from the playback server as the tenant's browser would (the href's host and query). */
async function fetchHref(href: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(href);
  const answer = await request(`http://127.0.0.1:${playback.port}${url.pathname}${url.search}`, { headers: { host: url.host, ...headers } });
  return { status: answer.statusCode, body: await answer.body.text() };
}

const presentationDir = (tenant: Tenant, recording: PublishedRecording): string => formatDirectory(rf.share, tenant, "published", "presentation", recording.recordId);
const vtt = (text: string): string => `WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n${text}\n`;
const failure = (messageKey: string, message: string) => ({ returncode: "FAILED", messageKey, message });

describe("getRecordingTextTracks", () => {
  it("lists the live captions a node made, each field as bbb-web's Track, in the node's order", async () => {
    const answer = await textTracks("acme", lecture.recordId);
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^application\/json/);
    const base = `https://acme.bbb.test/presentation/${lecture.recordId}`;
    expect(answer.response).toEqual({
      returncode: "SUCCESS",
      tracks: [
        { href: `${base}/caption_en.vtt`, kind: "captions", label: "English", lang: "en", source: "live" },
        { href: `${base}/caption_de.vtt`, kind: "captions", label: "Deutsch", lang: "de", source: "live" },
      ],
    });
    // Gson writes a Track's fields in their declared order.
    for (const track of answer.response["tracks"] as object[]) expect(Object.keys(track)).toEqual(["href", "kind", "label", "lang", "source"]);
  });

  it("gives hrefs that serve the node's WebVTT from the tenant's playback host", async () => {
    const [english] = (await textTracks("acme", lecture.recordId)).response["tracks"] as Array<{ href: string }>;
    const served = await fetchHref(english!.href);
    expect(served.status).toBe(200);
    expect(served.body).toBe(await readFile(join(lecture.directory, "caption_en.vtt"), "utf8"));
    expect(served.body).toContain("Welcome &lt;everyone&gt; &amp; hello");
  });

  it("answers a recording without captions with an empty list", async () => {
    expect((await textTracks("acme", silent.recordId)).response).toEqual({ returncode: "SUCCESS", tracks: [] });
  });

  it("answers another tenant's record ID exactly as one that does not exist", async () => {
    const foreign = await textTracks("acme", globexLecture.recordId);
    const missing = await textTracks("acme", "0".repeat(40) + "-1700000000000");
    expect(foreign.response).toEqual(failure("noRecordings", `No recording found for ${globexLecture.recordId}`));
    expect(missing.response).toEqual(failure("noRecordings", `No recording found for ${"0".repeat(40)}-1700000000000`));
  });

  it("answers missingParamRecordID without a record ID", async () => {
    expect((await textTracks("acme", "")).response).toEqual(failure("missingParamRecordID", "You must specify a recordID."));
  });

  it("gives a protecting tenant hrefs with a token that opens the track, and nothing opens it without one", async () => {
    const [french] = (await textTracks("globex", globexLecture.recordId)).response["tracks"] as Array<{ href: string }>;
    expect(new URL(french!.href).searchParams.get("token")).toMatch(/^\d+\.[\w-]+$/);
    expect(await fetchHref(french!.href)).toMatchObject({ status: 200, body: expect.stringContaining("Bonjour") as unknown });
    const bare = new URL(french!.href);
    bare.search = "";
    expect((await fetchHref(bare.toString())).status).toBe(403);
  });
});

describe("putRecordingTextTrack", () => {
  it("stores an upload beside the recording's captions and lists it, its href serving the file", async () => {
    const stored = await uploadJson("acme", { params: { recordID: lecture.recordId, kind: "captions", lang: "pt_BR", label: "Português (Brasil)" }, file: { content: vtt("Olá") } });
    expect(stored).toEqual({ returncode: "SUCCESS", recordId: lecture.recordId, messageKey: "upload_text_track_success", message: "Text track uploaded successfully" });
    const tracks = (await textTracks("acme", lecture.recordId)).response["tracks"] as Array<Record<string, string>>;
    const added = tracks.find((track) => track["lang"] === "pt-BR");
    expect(added).toEqual({ href: `https://acme.bbb.test/presentation/${lecture.recordId}/caption_pt-BR.vtt`, kind: "captions", label: "Português (Brasil)", lang: "pt-BR", source: "upload" });
    expect(await fetchHref(added!["href"]!)).toEqual({ status: 200, body: vtt("Olá") });
    // The player's list gains the entry as BBB's caption script writes it.
    const playerList = JSON.parse(await readFile(join(presentationDir("acme", lecture), "captions.json"), "utf8")) as unknown[];
    expect(playerList).toContainEqual({ kind: "captions", locale: "pt-BR", localeName: "Português (Brasil)" });
  });

  it("replaces a track of the same kind and language, labels it with the language's name when no label is given", async () => {
    await uploadJson("acme", { params: { recordID: lecture.recordId, kind: "captions", lang: "de" }, file: { content: vtt("Neu") } });
    const tracks = (await textTracks("acme", lecture.recordId)).response["tracks"] as Array<Record<string, string>>;
    const german = tracks.filter((track) => track["lang"] === "de");
    expect(german).toEqual([expect.objectContaining({ kind: "captions", label: "German", source: "upload" })]);
    expect(tracks.at(-1)).toMatchObject({ lang: "de" });
    expect((await fetchHref(german[0]!["href"]!)).body).toBe(vtt("Neu"));
  });

  it("keeps subtitles out of the player's captions list and lists them after the captions", async () => {
    await uploadJson("acme", { params: { recordID: silent.recordId, kind: "subtitles", lang: "en_GB", label: "English (UK)" }, file: { content: vtt("Cheerio") } });
    expect((await textTracks("acme", silent.recordId)).response).toEqual({
      returncode: "SUCCESS",
      tracks: [{ href: `https://acme.bbb.test/presentation/${silent.recordId}/subtitles_en-GB.vtt`, kind: "subtitles", label: "English (UK)", lang: "en-GB", source: "upload" }],
    });
    expect(JSON.parse(await readFile(join(presentationDir("acme", silent), "captions.json"), "utf8"))).toEqual([]);
  });

  it("converts SubRip to WebVTT, as BBB's ffmpeg step does", async () => {
    const srt = "1\r\n00:00:01,500 --> 00:00:04,000\r\nFirst --> line\r\n\r\n2\r\n00:01:02,000 --> 00:01:05,250\r\n<i>Second</i>\r\n";
    await uploadJson("acme", { params: { recordID: silent.recordId, kind: "captions", lang: "es" }, file: { content: srt, name: "track.srt" } });
    expect(await readFile(join(presentationDir("acme", silent), "caption_es.vtt"), "utf8")).toBe(
      "WEBVTT\n\n00:00:01.500 --> 00:00:04.000\nFirst --&gt; line\n\n00:01:02.000 --> 00:01:05.250\n<i>Second</i>\n",
    );
  });

  it("stores tracks of an unpublished recording where its playback is, and they move with it", async () => {
    await setRecordingsPublished(rf.context(), "acme", [silent.recordId], false);
    try {
      await uploadJson("acme", { params: { recordID: silent.recordId, kind: "captions", lang: "it" }, file: { content: vtt("Ciao") } });
      expect(await readFile(join(formatDirectory(rf.share, "acme", "unpublished", "presentation", silent.recordId), "caption_it.vtt"), "utf8")).toBe(vtt("Ciao"));
    } finally {
      await setRecordingsPublished(rf.context(), "acme", [silent.recordId], true);
    }
    expect(await readFile(join(presentationDir("acme", silent), "caption_it.vtt"), "utf8")).toBe(vtt("Ciao"));
  });

  it("keeps every track when uploads of one recording race", async () => {
    const race = (await rf.record("acme", "race"))!;
    await importShare(rf.context(), rf.importSettings);
    const langs = ["nl", "sv", "fi", "da", "pl", "cs"];
    const answers = await Promise.all(
      [...langs, "nl", "sv"].map((lang, i) => uploadJson("acme", { params: { recordID: race.recordId, kind: "captions", lang }, file: { content: vtt(`${lang} ${i}`) } })),
    );
    expect(answers.every((answer) => answer["returncode"] === "SUCCESS")).toBe(true);
    const tracks = (await textTracks("acme", race.recordId)).response["tracks"] as Array<Record<string, string>>;
    const uploaded = tracks.filter((track) => track["source"] === "upload").map((track) => track["lang"]);
    // Each language once, whichever of its two uploads came last.
    expect([...uploaded].sort()).toEqual([...langs].sort());
    for (const lang of ["nl", "sv"]) expect(await readFile(join(presentationDir("acme", race), `caption_${lang}.vtt`), "utf8")).toMatch(new RegExp(`${lang} (0|1|6|7)`));
  });

  it("refuses another tenant's record ID as one that does not exist, and writes nothing there", async () => {
    const before = await readdir(presentationDir("globex", globexLecture));
    const answer = await uploadJson("acme", { params: { recordID: globexLecture.recordId, kind: "captions", lang: "en" }, file: { content: vtt("Intruder") } });
    expect(answer).toEqual(failure("noRecordings", `No recording was found for ${globexLecture.recordId}`));
    expect(await readdir(presentationDir("globex", globexLecture))).toEqual(before);
  });

  const hostile: ReadonlyArray<[string, () => Upload, (recordId: string) => Record<string, unknown>]> = [
    ["no record ID", () => ({ params: { kind: "captions", lang: "en" }, file: { content: vtt("x") } }), () => failure("paramError", "Missing param recordID.")],
    ["no kind", () => ({ params: { recordID: lecture.recordId, lang: "en" }, file: { content: vtt("x") } }), () => failure("paramError", "Missing param kind.")],
    ["a kind BBB does not take", () => ({ params: { recordID: lecture.recordId, kind: "chapters", lang: "en" }, file: { content: vtt("x") } }), () => failure("invalidKind", "Invalid kind parameter, expected='subtitles|captions' actual=chapters")],
    ["no lang", () => ({ params: { recordID: lecture.recordId, kind: "captions" }, file: { content: vtt("x") } }), () => failure("paramError", "Missing param lang.")],
    ["a hyphenated lang (commons-lang 2 reads ll_CC only)", () => ({ params: { recordID: lecture.recordId, kind: "captions", lang: "en-US" }, file: { content: vtt("x") } }), () => failure("invalidLang", "Malformed lang param, received=en-US")],
    ["a lang that climbs out of the directory", () => ({ params: { recordID: lecture.recordId, kind: "captions", lang: "../../etc" }, file: { content: vtt("x") } }), () => failure("invalidLang", "Malformed lang param, received=../../etc")],
    ["no file", () => ({ params: { recordID: lecture.recordId, kind: "captions", lang: "en" } }), () => failure("empty_uploaded_text_track", "Empty uploaded text track.")],
    ["an empty file", () => ({ params: { recordID: lecture.recordId, kind: "captions", lang: "en" }, file: { content: "" } }), () => failure("empty_uploaded_text_track", "Empty uploaded text track.")],
    [
      "a file that is no text track",
      () => ({ params: { recordID: lecture.recordId, kind: "captions", lang: "en" }, file: { content: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) } }),
      (recordId) => ({ returncode: "FAILED", recordId, messageKey: "upload_text_track_failed", message: "Text track upload failed: the file is neither WebVTT nor SubRip (SRT) text in UTF-8." }),
    ],
  ];
  for (const [what, make, expected] of hostile) {
    it(`answers in JSON with BBB's error for ${what}, and changes nothing`, async () => {
      const before = await readFile(join(presentationDir("acme", lecture), "captions.json"), "utf8");
      expect(await uploadJson("acme", make())).toEqual(expected(lecture.recordId));
      expect(await readFile(join(presentationDir("acme", lecture), "captions.json"), "utf8")).toBe(before);
    });
  }

  it("keeps a hostile label as text in the list, never as a path", async () => {
    const label = '../../../x"}]\u0000<script>';
    await uploadJson("acme", { params: { recordID: silent.recordId, kind: "captions", lang: "hu", label }, file: { content: vtt("Szia") } });
    const tracks = (await textTracks("acme", silent.recordId)).response["tracks"] as Array<Record<string, string>>;
    expect(tracks.find((track) => track["lang"] === "hu")).toMatchObject({ label: label.trim(), href: expect.stringMatching(/\/caption_hu\.vtt$/) as unknown });
  });

  it("refuses a file over the size limit in the call's JSON, before storing anything", async () => {
    const answer = await upload("acme", { params: { recordID: lecture.recordId, kind: "captions", lang: "ro" }, file: { content: new Uint8Array(maxTextTrackBytes + 200 * 1024).fill(65) } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ response: { returncode: "FAILED", messageKey: "validationError", message: expect.stringContaining("larger than") as unknown } });
    await expect(readFile(join(presentationDir("acme", lecture), "caption_ro.vtt"))).rejects.toThrow(/ENOENT/);
  });

  it("answers an upload without a checksum as bbb-web does, in its JSON", async () => {
    const url = signedUrl(balancer(), tenants.acme, "putRecordingTextTrack", { recordID: lecture.recordId, kind: "captions", lang: "en" }).replace(/&?checksum=[0-9a-f]+/, "");
    const answer = await upload("acme", { params: {}, file: { content: vtt("x") } }, url);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ response: failure("paramError", "Missing param checksum.") });
  });

  it("refuses a wrong checksum, or another tenant's, in the call's JSON before reading the upload", async () => {
    const params = { recordID: lecture.recordId, kind: "captions", lang: "en" };
    const forged = signedUrl(balancer(), tenants.acme, "putRecordingTextTrack", params).replace(/checksum=[0-9a-f]+/, "checksum=" + "0".repeat(64));
    const otherTenants = signedUrl(balancer(), tenants.acme, "putRecordingTextTrack", params).replace(`/${tenants.acme.slug}/`, `/${tenants.globex.slug}/`);
    const tracksFile = join(presentationDir("acme", lecture), "captions.json");
    const before = await readFile(tracksFile, "utf8");
    for (const url of [forged, otherTenants]) {
      const answer = await upload("acme", { params: {}, file: { content: vtt("Forged") } }, url);
      expect(answer.status, url).toBe(200);
      expect(JSON.parse(answer.body), url).toEqual({ response: failure("checksumError", "You did not pass the checksum security check") });
    }
    expect(await readFile(tracksFile, "utf8")).toBe(before);
  });

  it("refuses a GET, which bbb-web routes to no upload, with BBB's error", async () => {
    const viaGet = await get(signedUrl(balancer(), tenants.acme, "putRecordingTextTrack", { recordID: lecture.recordId, kind: "captions", lang: "en" }));
    expect(viaGet.status).toBe(200);
    expect(viaGet.body).toContain("<returncode>FAILED</returncode>");
  });

  it("answers any lang with BBB's JSON, and names a stored track only with letters, digits and hyphens", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[a-z]{2}_[A-Z]{2}_[\w./-]{1,10}$/)), async (lang) => {
        const answer = await uploadJson("acme", { params: { recordID: silent.recordId, kind: "subtitles", lang }, file: { content: vtt("p") } });
        expect(["SUCCESS", "FAILED"]).toContain(answer["returncode"]);
        if (answer["returncode"] === "FAILED") expect(["paramError", "invalidLang"]).toContain(answer["messageKey"]);
      }),
      { numRuns: 40 },
    );
    const names = await readdir(presentationDir("acme", silent));
    for (const name of names.filter((file) => file.startsWith("subtitles_"))) expect(name).toMatch(/^subtitles_[A-Za-z0-9-]+\.vtt$/);
    const subtitles = JSON.parse(await readFile(join(presentationDir("acme", silent), "subtitles.json"), "utf8")) as Array<{ locale: string }>;
    expect(new Set(subtitles.map((entry) => entry.locale)).size).toBe(subtitles.length);
  });
});

describe("text tracks on the share", () => {
  it("answers noCaptionsFound for a recording whose captions list cannot be read", async () => {
    const recording = (await rf.record("acme", "broken"))!;
    await importShare(rf.context(), rf.importSettings);
    await writeFile(join(presentationDir("acme", recording), "captions.json"), "{ not json");
    expect((await textTracks("acme", recording.recordId)).response).toEqual(failure("noCaptionsFound", `No captions found for ${recording.recordId}`));
    const refused = await uploadJson("acme", { params: { recordID: recording.recordId, kind: "captions", lang: "en" }, file: { content: vtt("x") } });
    expect(refused).toMatchObject({ returncode: "FAILED", messageKey: "upload_text_track_failed" });
  });
});
