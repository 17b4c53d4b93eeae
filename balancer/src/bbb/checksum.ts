import { createHash, timingSafeEqual } from "node:crypto";
import type { ChecksumAlgorithm } from "../config/schema.js";

/** bbb-web tells the algorithm by the checksum's length in hex digits. */
const algorithmByLength: ReadonlyMap<number, ChecksumAlgorithm> = new Map([
  [40, "sha1"],
  [64, "sha256"],
  [96, "sha384"],
  [128, "sha512"],
]);

export function algorithmOf(checksum: string): ChecksumAlgorithm | undefined {
  return /^[0-9a-fA-F]+$/.test(checksum) ? algorithmByLength.get(checksum.length) : undefined;
}

export function computeChecksum(algorithm: ChecksumAlgorithm, callName: string, query: string, secret: string): string {
  return createHash(algorithm).update(callName + query + secret).digest("hex");
}

/** The first `checksum` parameter's raw value, undecoded, as a servlet container hands it to bbb-web. */
function rawChecksumParameter(rawQuery: string): string | undefined {
  for (const pair of rawQuery.split("&")) {
    if (pair.startsWith("checksum=")) return pair.slice("checksum=".length);
  }
  return undefined;
}

/**
 * Splits a raw query string into the checksum and the query it covers, by the same string surgery as bbb-web:
 * nothing is decoded or re-encoded, so any client encoder (`%20` or `+`, escaped `!'()*` or not) verifies.
 */
export function splitChecksum(rawQuery: string): { checksum: string | undefined; query: string } {
  const checksum = rawChecksumParameter(rawQuery);
  if (checksum === undefined) return { checksum: undefined, query: rawQuery };
  const query = rawQuery
    .replaceAll(`&checksum=${checksum}`, "")
    .replaceAll(`checksum=${checksum}&`, "")
    .replaceAll(`checksum=${checksum}`, "");
  return { checksum, query };
}

export type ChecksumVerdict =
  | { ok: true; secretIndex: number; algorithm: ChecksumAlgorithm }
  | { ok: false; reason: "missing" | "mismatch" };

export interface VerifyChecksumArgs {
  callName: string;
  /** The query string exactly as the client sent it (checksum included). */
  rawQuery: string;
  /** Every secret that may have signed it (key rollover): the index of the one that did is returned. */
  secrets: readonly string[];
  allowed: readonly ChecksumAlgorithm[];
}

export function verifyChecksum({ callName, rawQuery, secrets, allowed }: VerifyChecksumArgs): ChecksumVerdict {
  const { checksum, query } = splitChecksum(rawQuery);
  if (checksum === undefined || checksum === "") return { ok: false, reason: "missing" };
  const algorithm = algorithmOf(checksum);
  if (algorithm === undefined || !allowed.includes(algorithm)) return { ok: false, reason: "mismatch" };
  const given = Buffer.from(checksum.toLowerCase(), "latin1");
  // Every secret is tried even after a match, so the time taken does not tell which one matched.
  let secretIndex = -1;
  secrets.forEach((secret, i) => {
    const expected = Buffer.from(computeChecksum(algorithm, callName, query, secret), "latin1");
    if (timingSafeEqual(expected, given) && secretIndex === -1) secretIndex = i;
  });
  return secretIndex === -1 ? { ok: false, reason: "mismatch" } : { ok: true, secretIndex, algorithm };
}

/** Appends the checksum for `secret` to an (already encoded) query string. */
export function signQuery(callName: string, query: string, secret: string, algorithm: ChecksumAlgorithm): string {
  const checksum = computeChecksum(algorithm, callName, query, secret);
  return query === "" ? `checksum=${checksum}` : `${query}&checksum=${checksum}`;
}
