import { escapeXml, failedXml, successXml } from "../bbb/xml.js";

/**
 * bbb-webhooks' answers to `hooks/create`, `hooks/list` and `hooks/destroy`, element for element
 * (bbb-webhooks v3.4.0, src/out/webhooks/api/responses.js and the list built in api.js), without the whitespace
 * its `cleanupXML` strips. Served by the balancer to tenants and by the simulator as a node's bbb-webhooks.
 */

/** A hook as bbb-webhooks lists it. */
export interface HookView {
  readonly hookID: string;
  readonly callbackURL: string;
  /** The meeting it is for; absent for a global hook. */
  readonly meetingID?: string | undefined;
  /** Lower-cased event IDs it is limited to (`eventID=a,b`); absent: every event. */
  readonly eventID?: readonly string[] | undefined;
  readonly permanentHook: boolean;
  readonly rawData: boolean;
}

/** bbb-webhooks' message keys and texts. */
export const hookErrors = {
  checksumError: { key: "checksumError", message: "You did not pass the checksum security check." },
  createHookError: { key: "createHookError", message: "An error happened while creating your hook. Check the logs." },
  destroyHookError: { key: "destroyHookError", message: "An error happened while removing your hook. Check the logs." },
  destroyMissingHook: { key: "destroyMissingHook", message: "The hook informed was not found." },
  missingParamCallbackURL: { key: "missingParamCallbackURL", message: "You must specify a callbackURL in the parameters." },
  missingParamHookID: { key: "missingParamHookID", message: "You must specify a hookID in the parameters." },
  listHookError: { key: "listHookError", message: "An error happened while listing registered hooks. Check the logs." },
} as const;

export function hookFailureXml(error: { key: string; message: string }): string {
  return failedXml(error.key, error.message);
}

/** A CDATA section holding any text, `]]>` included. */
function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
}

export function hookCreatedXml(hook: HookView): string {
  return successXml(`<hookID>${escapeXml(hook.hookID)}</hookID><permanentHook>${hook.permanentHook}</permanentHook><rawData>${hook.rawData}</rawData>`);
}

/** A second create for a callback URL already registered: SUCCESS, the existing hook's ID, a warning. */
export function hookDuplicatedXml(hookID: string): string {
  return successXml(
    `<hookID>${escapeXml(hookID)}</hookID><messageKey>duplicateWarning</messageKey><message>There is already a hook for this callback URL.</message>`,
  );
}

export const hookDestroyedXml = successXml("<removed>true</removed>");

export function hookListXml(hooks: readonly HookView[]): string {
  const items = hooks.map(
    (hook) =>
      `<hook><hookID>${escapeXml(hook.hookID)}</hookID><callbackURL>${cdata(hook.callbackURL)}</callbackURL>` +
      (hook.meetingID === undefined ? "" : `<meetingID>${cdata(hook.meetingID)}</meetingID>`) +
      (hook.eventID === undefined ? "" : `<eventID>${escapeXml(hook.eventID.join(","))}</eventID>`) +
      `<permanentHook>${hook.permanentHook}</permanentHook><rawData>${hook.rawData}</rawData></hook>`,
  );
  return successXml(`<hooks>${items.join("")}</hooks>`);
}
