import type { IncomingMessage } from "node:http";
import { bbbErrors } from "../bbb/errors.js";
import type { NodeRequestBody } from "../nodes/client.js";

/** A form's parameters are a few kilobytes at most; an unsigned form is read to verify it, so it stays small. */
export const maxFormBytes = 64 * 1024;
/** bbb-web's (nginx's) limit for a create's or insertDocument's `<modules>` document. */
export const maxModulesBytes = 2 * 1024 * 1024;
/** A body still arriving after this is refused: a slow client does not hold a request open. */
export const bodyReadTimeoutMs = 10_000;

/** The largest text track putRecordingTextTrack takes: hours of captions are a few hundred kilobytes. */
export const maxTextTrackBytes = 8 * 2 ** 20;

/**
 * What a call takes from a POST body: form parameters only, or also an XML `<modules>` document, or a
 * `multipart/form-data` upload (putRecordingTextTrack's file).
 */
export type BodyUse = "form" | "formOrModules" | "multipart";

export type RequestBody =
  | { kind: "none" }
  | { kind: "form"; params: URLSearchParams }
  | { kind: "modules"; body: NodeRequestBody }
  | { kind: "multipart"; form: FormData };

/** Reads at most `limit` bytes within `bodyReadTimeoutMs`; past either the rest is left unread (the caller closes). */
export function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? "0") > limit) return Promise.reject(bbbErrors.bodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      req.off("data", onData).off("end", onEnd).off("error", finish).off("close", onClose);
      if (error === undefined) return resolve(Buffer.concat(chunks));
      req.pause();
      reject(error);
    };
    const timer = setTimeout(() => finish(bbbErrors.bodyTimeout(bodyReadTimeoutMs)), bodyReadTimeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(bbbErrors.bodyTooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onClose = (): void => finish(bbbErrors.malformedBody("the client closed the connection before sending all of it"));
    req.on("data", onData).on("end", onEnd).on("error", finish).on("close", onClose);
  });
}

/** A `<modules>` document, as create and insertDocument take (checked for shape, passed on byte for byte). */
function looksLikeModules(text: string): boolean {
  return /^\s*(?:<\?xml[^>]*\?>\s*)?<modules[\s>/]/.test(text) && /(?:<\/modules>|<modules[^>]*\/>)\s*$/.test(text);
}

/**
 * A `multipart/form-data` upload, parsed by the runtime's own (fetch) parser, at most `maxTextTrackBytes` of file
 * and a form's worth of parts around it. A body of another type carries no file: it is left unread.
 */
async function readMultipart(req: IncomingMessage, contentType: string): Promise<RequestBody> {
  if (!contentType.startsWith("multipart/form-data")) return { kind: "none" };
  const data = await readLimited(req, maxTextTrackBytes + maxFormBytes);
  try {
    const form = await new Response(data, { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
    return { kind: "multipart", form };
  } catch {
    throw bbbErrors.malformedBody("not a multipart/form-data body");
  }
}

/** Whether the request announces no body at all (neither a length nor chunks): nothing to read. */
function hasNoBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] === undefined : Number(length) === 0;
}

/**
 * Reads a POST body as `use` allows: form parameters (at most `maxFormBytes`), or for `formOrModules` also an
 * XML `<modules>` document (at most `maxModulesBytes`). Any other content type is refused before a byte of the
 * body is read.
 */
export async function readBody(req: IncomingMessage, use: BodyUse): Promise<RequestBody> {
  if (hasNoBody(req)) return { kind: "none" };
  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  if (use === "multipart") return readMultipart(req, contentType);
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    const data = await readLimited(req, maxFormBytes);
    return data.length === 0 ? { kind: "none" } : { kind: "form", params: new URLSearchParams(data.toString("utf8")) };
  }
  const xml = contentType.startsWith("text/xml") || contentType.startsWith("application/xml");
  if (use === "formOrModules" && xml) {
    const data = await readLimited(req, maxModulesBytes);
    if (data.length === 0) return { kind: "none" };
    if (!looksLikeModules(data.toString("utf8"))) throw bbbErrors.malformedBody("expected an XML <modules> document");
    return { kind: "modules", body: { contentType: "text/xml", data } };
  }
  const accepted = use === "formOrModules" ? "application/x-www-form-urlencoded or text/xml" : "application/x-www-form-urlencoded";
  throw bbbErrors.malformedBody(`unsupported content type "${contentType || "none"}" (expected ${accepted})`);
}
