import type { IncomingMessage } from "node:http";

/** Console forms are a few short fields; anything longer is not one of them. */
const maxFormBytes = 16 * 1024;

export class FormError extends Error {}

/** Reads an `application/x-www-form-urlencoded` body (the console's only kind), bounded in size. */
export async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new FormError("expected a form (application/x-www-form-urlencoded)");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > maxFormBytes) throw new FormError("form too large");
    chunks.push(bytes);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
