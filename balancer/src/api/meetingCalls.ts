import { BbbError, bbbErrors } from "../bbb/errors.js";
import { tenantViewOfMeetingFields } from "../bbb/meetingXml.js";
import { elementText, successXml } from "../bbb/xml.js";
import { releaseMeeting } from "../store/meetings.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";
import { noPolicies, nodeQuery, requireMeetingId } from "./parameters.js";

/** messageKeys with which a node says it does not have a meeting: evidence the mapping is stale. */
const meetingGoneKeys: ReadonlySet<string> = new Set(["notFound", "invalidMeetingIdentifier"]);

export function returnCode(answer: string): { success: boolean; messageKey: string | undefined } {
  return { success: elementText(answer, "returncode") === "SUCCESS", messageKey: elementText(answer, "messageKey") };
}

/**
 * The node of a mapped meeting. A mapping to a node no longer in the config file counts as no meeting, and is
 * released: no poll will ever reconcile a node nobody polls.
 */
export async function mappedNode(context: ApiContext, tenant: string, meetingId: string): Promise<NodeEntry | undefined> {
  const nodeId = await context.meetingNodes.nodeOf(tenant, meetingId);
  if (nodeId === null) return undefined;
  const node = context.directory.nodes.get(nodeId);
  if (node === undefined) await releaseMeeting(context.redis, tenant, meetingId, { id: nodeId, cluster: removedNodeCluster });
  return node;
}

/** Stands in for the unknown cluster of a removed node: its meeting set is no longer read by anyone. */
const removedNodeCluster = "-removed";

/**
 * Sends a call about one meeting to the node that holds it and answers with the node's document in the tenant's
 * view. A node that says the meeting is gone (or an accepted `end`) releases the mapping.
 */
async function forwardToMeetingNode(context: ApiContext, request: ApiRequest, whenUnknown: () => ApiAnswer): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const node = await mappedNode(context, request.tenant.slug, meetingId);
  if (node === undefined) return whenUnknown();
  const answer = await context.nodes.call(node, request.call, nodeQuery(request.query, nodeMeetingId(request.tenant.slug, meetingId), noPolicies), request.body);
  const { success, messageKey } = returnCode(answer);
  if ((!success && messageKey !== undefined && meetingGoneKeys.has(messageKey)) || (success && request.call === "end")) {
    await releaseMeeting(context.redis, request.tenant.slug, meetingId, node);
  }
  return xmlAnswer(tenantViewOfMeetingFields(answer, meetingId));
}

function unknownMeeting(): ApiAnswer {
  throw bbbErrors.notFound();
}

export const getMeetingInfo = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, unknownMeeting);

export const end = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> => forwardToMeetingNode(context, request, unknownMeeting);

export const sendChatMessage = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, unknownMeeting);

export const insertDocument = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> => {
  if (request.body === undefined) throw new BbbError("validationError", "insertDocument needs an XML <modules> body (POST)");
  return forwardToMeetingNode(context, request, unknownMeeting);
};

/** An unknown meeting is not running: bbb-web answers SUCCESS/false, not an error. */
export const isMeetingRunning = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, () => xmlAnswer(successXml("<running>false</running>")));
