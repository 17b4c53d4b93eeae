import type { ParameterPolicy } from "../config/schema.js";
import { bbbErrors } from "../bbb/errors.js";
import { parameterKey } from "../bbb/parameterNames.js";
import { maxMeetingIdLength } from "../tenancy/nodeMeetingId.js";

/** For calls no tenant policy applies to (and requests of no known tenant). */
export const noPolicies: ReadonlyMap<string, ParameterPolicy> = new Map();

/** bbb-web's rule: present, 2..256 characters, no comma. */
export function requireMeetingId(params: URLSearchParams): string {
  const meetingId = params.get("meetingID");
  if (meetingId === null || meetingId === "") throw bbbErrors.missingMeetingId();
  if (meetingId.length < 2 || meetingId.length > maxMeetingIdLength || meetingId.includes(",")) throw bbbErrors.invalidMeetingId();
  return meetingId;
}

/** A parameter name as a servlet container decodes it: `+` is a space, `%XX` an octet; a malformed one stays raw. */
function decodedName(raw: string): string {
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    return raw;
  }
}

function encodedPair(name: string, value: string): string {
  return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/**
 * The query a node gets for a call about one meeting, built from the call's own query by string surgery: the
 * client's checksum left out, the node's meeting ID in place of the tenant's, the tenant's parameter policies
 * (B3LB's modes) applied to each parameter as the node will read its name (`parameterKey`: decoded, metadata
 * lower-cased). Every other pair is passed on as the client encoded it, in its order; nothing is parsed into
 * objects, since this runs on every join. Policies' own names are `parameterKey`s (see `tenancy/policies.ts`).
 */
export function nodeQuery(query: string, nodeMeetingId: string, policies: ReadonlyMap<string, ParameterPolicy>): string {
  const out: string[] = [];
  let meetingIdPassed = false;
  let policiesMet: Set<string> | undefined;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const name = decodedName(equals === -1 ? pair : pair.slice(0, equals));
    if (name === "checksum") continue;
    if (name === "meetingID") {
      if (!meetingIdPassed) out.push(encodedPair(name, nodeMeetingId));
      meetingIdPassed = true;
      continue;
    }
    const key = parameterKey(name);
    const policy = policies.get(key);
    if (policy === undefined) {
      out.push(pair);
      continue;
    }
    policiesMet ??= new Set();
    const firstOfName = !policiesMet.has(key);
    policiesMet.add(key);
    if (policy.mode === "override" && firstOfName) out.push(encodedPair(key, policy.value));
    if (policy.mode === "setIfAbsent") out.push(pair);
  }
  if (!meetingIdPassed) out.push(encodedPair("meetingID", nodeMeetingId));
  for (const [name, policy] of policies) {
    if (policy.mode !== "block" && policiesMet?.has(name) !== true) out.push(encodedPair(name, policy.value));
  }
  return out.join("&");
}

/**
 * A parameter as the node reads it from `nodeQuery`'s output: the client's value with the tenant's policy for it
 * applied. What the balancer decides from a parameter (whether a join redirects, where its errors go) follows the
 * same value the node will see.
 */
export function parameterAfterPolicy(params: URLSearchParams, name: string, policies: ReadonlyMap<string, ParameterPolicy>): string | null {
  const policy = policies.get(parameterKey(name));
  switch (policy?.mode) {
    case undefined:
      return params.get(name);
    case "override":
      return policy.value;
    case "block":
      return null;
    case "setIfAbsent":
      return params.get(name) ?? policy.value;
  }
}

/** Removes every spelling of a parameter whose name BBB reads case-insensitively (metadata), returning the first value. */
export function takeParameterIgnoringCase(params: URLSearchParams, name: string): string | undefined {
  const lower = name.toLowerCase();
  let found: string | undefined;
  for (const key of [...params.keys()]) {
    if (key.toLowerCase() !== lower) continue;
    found ??= params.get(key) ?? undefined;
    params.delete(key);
  }
  return found;
}
