import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { verifyEndCallback } from "../tenancy/endCallback.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { MetadataXmlError, parseMetadataXml } from "./metadataXml.js";
import { findShareRecording, formatDirectory, isFormatName, isRecordId, metadataFile, removeDirectory, stagingDirectory } from "./share.js";
import { RecordingOwnershipError, tenantMetaKey, verifyOwnership } from "./tenantView.js";

/**
 * Receiving a published recording from a node, onto the share: files land in the node's staging directory
 * (`<share>/.staging/<node>/<format>/<recordID>/`, each written to a temporary name and renamed once its hash is
 * checked), and a commit with the manifest (`sha256sum` lines) moves the whole directory into the tenant's
 * `published/` by one rename, after checking the manifest against what arrived and metadata.xml's ownership.
 * Nothing under a tenant's directory is ever partial; an upload repeated after its commit changes nothing.
 */

export class UploadRefusal extends Error {
  override readonly name = "UploadRefusal";
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413,
    message: string,
  ) {
    super(message);
  }
}

export interface UploadTarget {
  readonly nodeId: string;
  readonly format: string;
  readonly recordId: string;
}

export interface UploadSettings {
  readonly shareRoot: string;
  /** Verifies the balancer's end callback URL (the proof of which tenant's meeting ran on which node). */
  readonly callbackKey: string;
  readonly tenants: ReadonlySet<string>;
  /** Largest single file accepted. */
  readonly maxFileBytes: number;
}

const pathSegment = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A file path inside a recording: plain segments only, no `..`, no hidden names, not too deep. */
export function checkRecordingPath(path: string): string {
  const segments = path.split("/");
  if (segments.length > 8 || !segments.every((segment) => pathSegment.test(segment) && !segment.endsWith(".tmp"))) {
    throw new UploadRefusal(400, `not a recording file path: ${JSON.stringify(path.slice(0, 200))}`);
  }
  return segments.join("/");
}

export function checkTarget(target: UploadTarget): void {
  if (!isFormatName(target.format)) throw new UploadRefusal(400, "not a recording format name");
  if (!isRecordId(target.recordId)) throw new UploadRefusal(400, "not a record ID");
}

function stagingPath(settings: UploadSettings, target: UploadTarget): string {
  return join(settings.shareRoot, stagingDirectory, target.nodeId, target.format, target.recordId);
}

/** Writes one file of an upload: to a temporary name, hash checked, then renamed to its place in staging. */
export async function receiveFile(settings: UploadSettings, target: UploadTarget, path: string, body: Readable, expectedSha256: string): Promise<void> {
  checkTarget(target);
  const destination = join(stagingPath(settings, target), checkRecordingPath(path));
  await mkdir(dirname(destination), { recursive: true });
  const temporary = `${destination}.${randomBytes(6).toString("hex")}.tmp`;
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    await pipeline(
      body,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          bytes += chunk.length;
          if (bytes > settings.maxFileBytes) throw new UploadRefusal(413, `file larger than ${settings.maxFileBytes} bytes`);
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(temporary),
    );
    if (hash.digest("hex") !== expectedSha256) throw new UploadRefusal(400, "the body does not match its sha256");
    await rename(temporary, destination);
  } finally {
    await rm(temporary, { force: true });
  }
}

async function filesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(relative(root, path));
    }
  };
  await walk(root);
  return found.sort();
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** `sha256sum` output: `<hex>  <path>` (or `<hex> *<path>`) per line. */
export function parseManifest(text: string): Map<string, string> {
  const manifest = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (match === null) throw new UploadRefusal(400, `manifest line is not "<sha256>  <path>": ${JSON.stringify(line.slice(0, 120))}`);
    const path = checkRecordingPath((match[2] ?? "").replace(/^\.\//, ""));
    if (manifest.has(path)) throw new UploadRefusal(400, `manifest names ${path} twice`);
    manifest.set(path, match[1] ?? "");
  }
  if (!manifest.has(metadataFile)) throw new UploadRefusal(400, "manifest has no metadata.xml");
  return manifest;
}

/**
 * Which tenant's recording the staged metadata.xml is, proven by the balancer's signed end callback URL that the
 * create put in its metadata: signed for this node, this tenant, and the meeting the recording is of. A node can
 * claim only recordings of meetings the balancer placed on it.
 */
function ownerOf(settings: UploadSettings, target: UploadTarget, xml: string): string {
  let document;
  try {
    document = parseMetadataXml(xml);
  } catch (error) {
    if (error instanceof MetadataXmlError) throw new UploadRefusal(400, error.message);
    throw error;
  }
  if (document.id !== target.recordId) throw new UploadRefusal(400, `metadata.xml is of recording ${document.id}, not ${target.recordId}`);
  if (document.playback.format !== target.format) throw new UploadRefusal(400, `metadata.xml is of format ${document.playback.format}, not ${target.format}`);
  const callback = document.meta.find(([name]) => name === "endcallbackurl")?.[1];
  let signed;
  try {
    signed = callback === undefined ? undefined : verifyEndCallback(new URL(callback).searchParams, settings.callbackKey);
  } catch {
    signed = undefined;
  }
  if (signed === undefined) throw new UploadRefusal(403, "the recording's metadata carries no meeting the balancer placed");
  if (signed.nodeId !== target.nodeId) throw new UploadRefusal(403, "the recording's meeting was not placed on this node");
  if (!settings.tenants.has(signed.tenant)) throw new UploadRefusal(403, "the recording's tenant is not configured");
  const claimed = document.meta.find(([name]) => name === tenantMetaKey)?.[1];
  if (claimed !== signed.tenant || document.meeting.externalId !== nodeMeetingId(signed.tenant, signed.meetingId)) {
    throw new UploadRefusal(403, "the recording's tenant or meeting differs from the meeting the balancer placed");
  }
  try {
    verifyOwnership(signed.tenant, document);
  } catch (error) {
    if (error instanceof RecordingOwnershipError) throw new UploadRefusal(403, error.message);
    throw error;
  }
  return signed.tenant;
}

export type CommitOutcome = { kind: "published"; tenant: string } | { kind: "alreadyThere"; tenant: string };

/**
 * Makes a staged upload visible: every file of the manifest present with its hash and nothing else, metadata.xml
 * the node's own recording, then one rename into `<share>/<tenant>/published/<format>/<recordID>`. When the share
 * already has this format of the recording (a repeated hook, or a tenant that has since unpublished it), the
 * share keeps what it has and the staging is dropped.
 */
export async function commitUpload(settings: UploadSettings, target: UploadTarget, manifestText: string): Promise<CommitOutcome> {
  checkTarget(target);
  const manifest = parseManifest(manifestText);
  const staged = stagingPath(settings, target);
  const xml = await readFile(join(staged, metadataFile), "utf8").catch(() => {
    throw new UploadRefusal(409, "metadata.xml has not been uploaded");
  });
  const tenant = ownerOf(settings, target, xml);
  const existing = await findShareRecording(settings.shareRoot, tenant, target.recordId);
  if (existing?.formats.some((entry) => entry.format === target.format) === true) {
    await removeDirectory(settings.shareRoot, staged);
    return { kind: "alreadyThere", tenant };
  }
  const files = (await filesUnder(staged)).filter((path) => !path.endsWith(".tmp"));
  const missing = [...manifest.keys()].filter((path) => !files.includes(path));
  const extra = files.filter((path) => !manifest.has(path));
  if (missing.length > 0 || extra.length > 0) {
    throw new UploadRefusal(409, `staged files differ from the manifest (missing: ${missing.slice(0, 5).join(", ") || "none"}; not listed: ${extra.slice(0, 5).join(", ") || "none"})`);
  }
  for (const [path, sha256] of manifest) {
    if ((await sha256Of(join(staged, path))) !== sha256) throw new UploadRefusal(409, `${path} differs from its manifest hash`);
  }
  const destination = formatDirectory(settings.shareRoot, tenant, "published", target.format, target.recordId);
  await mkdir(dirname(destination), { recursive: true });
  try {
    await rename(staged, destination);
  } catch (error) {
    // A commit of the same recording from another request got there first: the share has it whole.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    await removeDirectory(settings.shareRoot, staged);
    return { kind: "alreadyThere", tenant };
  }
  return { kind: "published", tenant };
}
