import type { ApiAnswer, ApiContext, ApiRequest } from "../api/context.js";
import { xmlAnswer } from "../api/context.js";
import { BbbError } from "../bbb/errors.js";
import { maxMeetingIdLength } from "../tenancy/nodeMeetingId.js";
import { checkCallbackUrl } from "./callbackPolicy.js";
import { createHook, destroyHook, hooksForMeeting, hookView, listHooks, type StoredHook } from "./hookStore.js";
import { hookCreatedXml, hookDestroyedXml, hookDuplicatedXml, hookErrors, hookFailureXml, hookListXml } from "./hookXml.js";

/**
 * A tenant's `hooks/create`, `hooks/list` and `hooks/destroy`, answered as bbb-webhooks v3.4.0 answers them
 * (src/out/webhooks/api/api.js), on the tenant's own hooks only. Where bbb-webhooks would store nonsense or crash
 * (an empty or non-http callbackURL, `getRaw=maybe`), the tenant gets `createHookError` with the reason.
 */

const maxEventIds = 64;

function refusedCreate(reason: string): ApiAnswer {
  return xmlAnswer(hookFailureXml({ key: hookErrors.createHookError.key, message: reason }));
}

function requireEnabled(context: ApiContext): void {
  if (!context.webhooks.settings.enabled) throw new BbbError("unsupportedRequest", "Webhooks are not enabled on this server.");
}

/** `eventID=a,B` as bbb-webhooks keeps it: lower-cased and split at commas. */
function eventIds(raw: string | null): string[] | undefined | { invalid: string } {
  if (raw === null) return undefined;
  const ids = raw.toLowerCase().split(",");
  if (ids.length > maxEventIds || ids.some((id) => !/^[a-z0-9-]{1,64}$/.test(id))) {
    return { invalid: `eventID must be a comma-separated list of at most ${maxEventIds} event IDs (a-z, 0-9, '-')` };
  }
  return ids;
}

export async function hooksCreate(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  requireEnabled(context);
  const { params, tenant } = request;
  const callbackURL = params.get("callbackURL");
  if (callbackURL === null) return xmlAnswer(hookFailureXml(hookErrors.missingParamCallbackURL));
  const verdict = checkCallbackUrl(callbackURL, context.webhooks.policy);
  if (!verdict.ok) return refusedCreate(verdict.reason);
  const getRaw = params.get("getRaw")?.toLowerCase();
  if (getRaw === "true") return refusedCreate("This server relays BigBlueButton's mapped events only: register without getRaw=true");
  if (getRaw !== undefined && getRaw !== "false") return refusedCreate("getRaw must be true or false");
  const meetingID = params.get("meetingID") ?? undefined;
  if (meetingID !== undefined && (meetingID.length === 0 || meetingID.length > maxMeetingIdLength)) {
    return refusedCreate(`meetingID must be 1..${maxMeetingIdLength} characters`);
  }
  const events = eventIds(params.get("eventID"));
  if (events !== undefined && !Array.isArray(events)) return refusedCreate(events.invalid);
  try {
    const outcome = await createHook(context.redis, tenant.slug, { callbackURL, meetingID, eventID: events }, context.webhooks.settings.maxHooksPerTenant);
    if (outcome.kind === "duplicate") return xmlAnswer(hookDuplicatedXml(outcome.hookID));
    if (outcome.kind === "full") return refusedCreate(`This tenant has ${context.webhooks.settings.maxHooksPerTenant} hooks, the most it may have: destroy one first`);
    return xmlAnswer(hookCreatedXml(hookView(outcome.hook)));
  } catch {
    return xmlAnswer(hookFailureXml(hookErrors.createHookError));
  }
}

function byHookId(a: StoredHook, b: StoredHook): number {
  return a.hookID < b.hookID ? -1 : a.hookID > b.hookID ? 1 : 0;
}

export async function hooksList(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  requireEnabled(context);
  const meetingID = request.params.get("meetingID");
  try {
    const hooks = await listHooks(context.redis, request.tenant.slug);
    // With a meetingID: the hooks that get its events, sorted by ID (v3.4.0); without: all, in creation order.
    const shown = meetingID === null ? hooks : hooksForMeeting(hooks, meetingID).sort(byHookId);
    return xmlAnswer(hookListXml(shown.map(hookView)));
  } catch {
    return xmlAnswer(hookFailureXml(hookErrors.listHookError));
  }
}

export async function hooksDestroy(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  requireEnabled(context);
  const hookID = request.params.get("hookID");
  if (hookID === null) return xmlAnswer(hookFailureXml(hookErrors.missingParamHookID));
  try {
    const removed = await destroyHook(context.redis, request.tenant.slug, hookID);
    return xmlAnswer(removed ? hookDestroyedXml : hookFailureXml(hookErrors.destroyMissingHook));
  } catch {
    return xmlAnswer(hookFailureXml(hookErrors.destroyHookError));
  }
}

/** bbb-webhooks' answer to a hooks call whose checksum does not verify. */
export const hooksChecksumError = (): BbbError => new BbbError(hookErrors.checksumError.key, hookErrors.checksumError.message);
