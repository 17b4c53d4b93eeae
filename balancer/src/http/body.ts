import type { IncomingMessage } from "node:http";
import { bbbErrors } from "../bbb/errors.js";
import type { NodeRequestBody } from "../nodes/client.js";

/** bbb-web's (nginx's) limit for a create or insertDocument body. */
export const maxBodyBytes = 2 * 1024 * 1024;

export type RequestBody =
  | { kind: "none" }
  | { kind: "form"; params: URLSearchParams }
  | { kind: "xml"; body: NodeRequestBody };

async function readLimited(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw bbbErrors.bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw bbbErrors.bodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A `<modules>` document, as create and insertDocument take (checked for shape, passed on byte for byte). */
function looksLikeModules(text: string): boolean {
  return /^\s*(?:<\?xml[^>]*\?>\s*)?<modules[\s>/]/.test(text) && /(?:<\/modules>|<modules[^>]*\/>)\s*$/.test(text);
}

/** Reads a POST body: form parameters, or an XML `<modules>` document; anything else is a BBB validation error. */
export async function readBody(req: IncomingMessage): Promise<RequestBody> {
  const data = await readLimited(req, maxBodyBytes);
  if (data.length === 0) return { kind: "none" };
  const contentType = (req.headers["content-type"] ?? "").toLowerCase();
  if (contentType.startsWith("application/x-www-form-urlencoded")) {
    return { kind: "form", params: new URLSearchParams(data.toString("utf8")) };
  }
  if (contentType.startsWith("text/xml") || contentType.startsWith("application/xml")) {
    if (!looksLikeModules(data.toString("utf8"))) throw bbbErrors.malformedBody("expected an XML <modules> document");
    return { kind: "xml", body: { contentType: "text/xml", data } };
  }
  throw bbbErrors.malformedBody(`unsupported content type "${contentType || "none"}"`);
}
