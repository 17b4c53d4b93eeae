import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { metadataXml, parseMetadataXml, type RecordingDocument } from "../../src/recordings/metadataXml.js";
import { checkRecordingPath, parseManifest, UploadRefusal } from "../../src/recordings/upload.js";
import { authenticateUpload, uploadSignature } from "../../src/recordings/uploadAuth.js";
import { endCallbackUrl } from "../../src/tenancy/endCallback.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { indexedRecording } from "../../src/recordings/tenantView.js";
import { createHash } from "node:crypto";

describe("file paths a node sends", () => {
  it("never lead outside the recording's directory, whatever the node sends", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom("..", ".", "", "a", ".hidden", "x.tmp", "%2e%2e", "/", "\\"), fc.string()), { minLength: 1, maxLength: 10 }), (segments) => {
        const path = segments.join("/");
        let accepted: string | undefined;
        try {
          accepted = checkRecordingPath(path);
        } catch (error) {
          expect(error).toBeInstanceOf(UploadRefusal);
          return;
        }
        for (const segment of accepted.split("/")) {
          expect(segment).not.toBe("..");
          expect(segment).not.toBe(".");
          expect(segment.startsWith(".")).toBe(false);
          expect(segment).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
        }
      }),
    );
  });

  it("refuses a manifest naming a path twice or a path that climbs out", () => {
    const hash = "a".repeat(64);
    expect(() => parseManifest(`${hash}  metadata.xml\n${hash}  metadata.xml\n`)).toThrow(/twice/);
    expect(() => parseManifest(`${hash}  metadata.xml\n${hash}  ../other/metadata.xml\n`)).toThrow(UploadRefusal);
    expect(() => parseManifest(`${hash}  shapes.svg\n`)).toThrow(/no metadata.xml/);
  });
});

describe("upload signatures", () => {
  const secret = "node-secret-0123456789";
  const signed = { method: "PUT", path: "/_mediaplane/recordings/presentation/r-1/files/a.png", date: 1_700_000_000, contentSha256: "b".repeat(64) };
  const headers = (overrides: Record<string, string> = {}): Record<string, string> => ({
    "x-mediaplane-node": "n1",
    "x-mediaplane-date": String(signed.date),
    "x-mediaplane-content-sha256": signed.contentSha256,
    authorization: `Mediaplane-HMAC ${uploadSignature(secret, signed)}`,
    ...overrides,
  });
  const secretOf = (node: string): string | undefined => (node === "n1" ? secret : undefined);

  it("accept the node's own signature within the clock skew", () => {
    expect(authenticateUpload(headers(), signed.method, signed.path, signed.date + 299, secretOf)).toEqual({ ok: true, nodeId: "n1", contentSha256: signed.contentSha256 });
  });

  it("refuse a replay after the clock skew, another path, another node name, or any changed header", () => {
    expect(authenticateUpload(headers(), signed.method, signed.path, signed.date + 301, secretOf).ok).toBe(false);
    expect(authenticateUpload(headers(), signed.method, `${signed.path}x`, signed.date, secretOf).ok).toBe(false);
    expect(authenticateUpload(headers({ "x-mediaplane-node": "n2" }), signed.method, signed.path, signed.date, (node) => (node === "n2" ? "other-secret-0123456789" : undefined)).ok).toBe(false);
    fc.assert(
      fc.property(fc.constantFrom("x-mediaplane-node", "x-mediaplane-date", "x-mediaplane-content-sha256", "authorization"), fc.string(), (name, value) => {
        fc.pre(value !== headers()[name]);
        expect(authenticateUpload(headers({ [name]: value }), signed.method, signed.path, signed.date, secretOf).ok).toBe(false);
      }),
    );
  });
});

describe("a recording of a meeting ID too long for BBB", () => {
  it("is indexed under the tenant's own meeting ID, recovered from the balancer's signed callback in its metadata", () => {
    const meetingId = `course-${"x".repeat(300)}`;
    const externalId = nodeMeetingId("acme", meetingId);
    expect(externalId).toMatch(/^acme#[0-9a-f]{64}$/);
    const recordId = `${createHash("sha1").update(externalId).digest("hex")}-1700000000000`;
    const document: RecordingDocument = {
      id: recordId,
      state: "published",
      published: true,
      startTime: 1_700_000_000_000,
      endTime: 1_700_000_600_000,
      participants: 2,
      rawSize: 10,
      meeting: { id: recordId, externalId, name: "Course", breakout: false },
      meta: [
        ["isBreakout", "false"],
        ["meetingId", externalId],
        ["mediaplane-tenant", "acme"],
        ["endcallbackurl", endCallbackUrl("https://bbb.test", "key-0123456789abcdef", { tenant: "acme", meetingId, nodeId: "n1" })],
      ],
      breakoutRooms: [],
      playback: { format: "presentation", link: `https://n1.example.org/playback/presentation/2.3/${recordId}`, processingTime: 1, duration: 600_000, size: 5, previewImages: [] },
    };
    const recording = indexedRecording("acme", "published", [parseMetadataXml(metadataXml(document))]);
    expect(recording.meetingId).toBe(meetingId);
    expect(recording.metadata).toEqual({ isBreakout: "false", meetingId });
    expect(() => indexedRecording("globex", "published", [document])).toThrow(/names tenant "acme", not globex/);
  });
});
