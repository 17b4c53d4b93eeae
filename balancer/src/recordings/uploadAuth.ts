import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How a node proves an upload is its own: `Authorization: Mediaplane-HMAC <hex>`, HMAC-SHA256 keyed with the
 * node's BBB secret over `<METHOD>\n<path>\n<unix seconds>\n<sha256 hex of the body>`, with the node ID, the time
 * and the body's hash in `X-Mediaplane-Node`, `-Date` and `-Content-Sha256`. The body's hash is checked against
 * what arrives, so a signature covers exactly one content; the time bounds a replay to the skew window, and a
 * replayed upload writes the same bytes again (every step is idempotent).
 */

export const uploadHeaders = {
  node: "x-mediaplane-node",
  date: "x-mediaplane-date",
  contentSha256: "x-mediaplane-content-sha256",
} as const;
export const uploadAuthScheme = "Mediaplane-HMAC";
export const maxClockSkewSeconds = 300;

export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly date: number;
  readonly contentSha256: string;
}

export function uploadSignature(secret: string, request: SignedRequest): string {
  return createHmac("sha256", secret).update(`${request.method}\n${request.path}\n${request.date}\n${request.contentSha256}`).digest("hex");
}

export type UploadAuthentication = { ok: true; nodeId: string; contentSha256: string } | { ok: false; reason: string };

/**
 * Checks a request's headers against the node's secret. `secretOf` gives the secret of a configured node,
 * `undefined` for any other name; unknown nodes and bad signatures are refused alike.
 */
export function authenticateUpload(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  method: string,
  path: string,
  nowSeconds: number,
  secretOf: (nodeId: string) => string | undefined,
): UploadAuthentication {
  const header = (name: string): string | undefined => {
    const value = headers[name];
    return typeof value === "string" ? value : undefined;
  };
  const nodeId = header(uploadHeaders.node);
  const dateText = header(uploadHeaders.date);
  const contentSha256 = header(uploadHeaders.contentSha256)?.toLowerCase();
  const authorization = header("authorization");
  if (nodeId === undefined || dateText === undefined || contentSha256 === undefined || authorization === undefined) return { ok: false, reason: "missing authentication headers" };
  if (!/^\d{1,12}$/.test(dateText) || Math.abs(nowSeconds - Number(dateText)) > maxClockSkewSeconds) return { ok: false, reason: "date outside the allowed clock skew" };
  if (!/^[0-9a-f]{64}$/.test(contentSha256)) return { ok: false, reason: "content hash is not a sha256 hex digest" };
  const [scheme, given] = authorization.split(" ", 2);
  const secret = secretOf(nodeId);
  if (scheme !== uploadAuthScheme || given === undefined || secret === undefined) return { ok: false, reason: "bad signature" };
  const expected = Buffer.from(uploadSignature(secret, { method, path, date: Number(dateText), contentSha256 }), "latin1");
  const actual = Buffer.from(given.toLowerCase(), "latin1");
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: "bad signature" };
  return { ok: true, nodeId, contentSha256 };
}
