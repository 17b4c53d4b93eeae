import { hash } from "node:crypto";
import type { ChecksumAlgorithm } from "../config/schema.js";

/** bbb-web tells the algorithm by the checksum's length in hex digits. */
const algorithmByLength: ReadonlyMap<number, ChecksumAlgorithm> = new Map([
  [40, "sha1"],
  [64, "sha256"],
  [96, "sha384"],
  [128, "sha512"],
]);

export function algorithmOf(checksum: string): ChecksumAlgorithm | undefined {
  const algorithm = algorithmByLength.get(checksum.length);
  return algorithm !== undefined && /^[0-9a-fA-F]+$/.test(checksum) ? algorithm : undefined;
}

// One-shot hashing: a checksum is computed twice on every join, and createHash's object costs more than the hash.
export function computeChecksum(algorithm: ChecksumAlgorithm, callName: string, query: string, secret: string): string {
  return hash(algorithm, callName + query + secret, "hex");
}

const checksumPair = "checksum=";

/** The first `checksum` parameter's raw value, undecoded, as a servlet container hands it to bbb-web. */
function rawChecksumParameter(rawQuery: string): string | undefined {
  const start = rawQuery.startsWith(checksumPair) ? 0 : rawQuery.indexOf(`&${checksumPair}`) + 1;
  if (start === 0 && !rawQuery.startsWith(checksumPair)) return undefined;
  const valueStart = start + checksumPair.length;
  const end = rawQuery.indexOf("&", valueStart);
  return rawQuery.slice(valueStart, end === -1 ? undefined : end);
}

/**
 * Splits a raw query string into the checksum and the query it covers, by the same string surgery as bbb-web:
 * nothing is decoded or re-encoded, so any client encoder (`%20` or `+`, escaped `!'()*` or not) verifies.
 */
export function splitChecksum(rawQuery: string): { checksum: string | undefined; query: string } {
  const checksum = rawChecksumParameter(rawQuery);
  if (checksum === undefined) return { checksum: undefined, query: rawQuery };
  const pair = checksumPair + checksum;
  let query = rawQuery;
  for (const surgery of [`&${pair}`, `${pair}&`, pair]) {
    if (query.includes(surgery)) query = query.replaceAll(surgery, "");
  }
  return { checksum, query };
}

/**
 * Whether a computed (lower-case) hex digest equals a given one in either case, in time independent of where they
 * differ. `| 0x20` lower-cases hex letters and leaves digits as they are; `given` is known to be hex.
 */
function sameDigest(expected: string, given: string): boolean {
  let difference = expected.length ^ given.length;
  for (let i = 0; i < expected.length; i += 1) difference |= expected.charCodeAt(i) ^ (given.charCodeAt(i) | 0x20);
  return difference === 0;
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
  // Every secret is tried even after a match, so the time taken does not tell which one matched.
  let secretIndex = -1;
  secrets.forEach((secret, i) => {
    if (sameDigest(computeChecksum(algorithm, callName, query, secret), checksum) && secretIndex === -1) secretIndex = i;
  });
  return secretIndex === -1 ? { ok: false, reason: "mismatch" } : { ok: true, secretIndex, algorithm };
}

/** Appends the checksum for `secret` to an (already encoded) query string. */
export function signQuery(callName: string, query: string, secret: string, algorithm: ChecksumAlgorithm): string {
  const checksum = computeChecksum(algorithm, callName, query, secret);
  return query === "" ? `checksum=${checksum}` : `${query}&checksum=${checksum}`;
}
