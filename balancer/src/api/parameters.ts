import type { ParameterPolicy } from "../config/schema.js";
import { bbbErrors } from "../bbb/errors.js";
import { maxMeetingIdLength } from "../tenancy/nodeMeetingId.js";

/** The request's parameters as the node will get them: the client's checksum is never passed on. */
export function forwardableParams(params: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.delete("checksum");
  return copy;
}

/** bbb-web's rule: present, 2..256 characters, no comma. */
export function requireMeetingId(params: URLSearchParams): string {
  const meetingId = params.get("meetingID");
  if (meetingId === null || meetingId === "") throw bbbErrors.missingMeetingId();
  if (meetingId.length < 2 || meetingId.length > maxMeetingIdLength || meetingId.includes(",")) throw bbbErrors.invalidMeetingId();
  return meetingId;
}

/** Applies parameter policies (B3LB's modes) to a copy of the parameters; names compare as BBB does, exactly. */
export function applyPolicies(params: URLSearchParams, policies: ReadonlyMap<string, ParameterPolicy>): URLSearchParams {
  if (policies.size === 0) return params;
  const out = new URLSearchParams(params);
  for (const [name, policy] of policies) {
    switch (policy.mode) {
      case "block":
        out.delete(name);
        break;
      case "setIfAbsent":
        if (!out.has(name)) out.set(name, policy.value);
        break;
      case "override":
        out.set(name, policy.value);
        break;
    }
  }
  return out;
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
