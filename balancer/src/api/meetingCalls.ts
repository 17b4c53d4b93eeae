import { BbbError, bbbErrors, NodeUnansweredError } from "../bbb/errors.js";
import { tenantViewOfMeetingFields } from "../bbb/meetingXml.js";
import { elementText, successXml } from "../bbb/xml.js";
import { deferEndWhileCreating, releaseMeeting } from "../store/meetings.js";
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

/** What a call answers when the meeting's node does not: as bbb-web answers for a meeting it does not have. */
type WhenUnknown = () => ApiAnswer;

/**
 * Sends a call about one meeting to the node that holds it and answers with the node's document in the tenant's
 * view. A node that says the meeting is gone (or an accepted `end`) releases the mapping. A node that does not
 * answer fails the call with `serverUnavailable`, unless the call has an answer for a meeting it does not know
 * (`whenUnanswered`): the node keeps its meetings mapped until polls find it down.
 */
async function forwardToMeetingNode(context: ApiContext, request: ApiRequest, whenUnknown: WhenUnknown, whenUnanswered?: WhenUnknown): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const node = await mappedNode(context, request.tenant.slug, meetingId);
  if (node === undefined) return whenUnknown();
  const query = nodeQuery(request.query, nodeMeetingId(request.tenant.slug, meetingId), noPolicies);
  let answer: string;
  try {
    answer = await context.nodes.call(node, request.call, query, { body: request.body });
  } catch (error) {
    if (whenUnanswered !== undefined && error instanceof NodeUnansweredError) return whenUnanswered();
    throw error;
  }
  const { success, messageKey } = returnCode(answer);
  if ((!success && messageKey !== undefined && meetingGoneKeys.has(messageKey)) || (success && request.call === "end")) {
    await releaseMeeting(context.redis, request.tenant.slug, meetingId, node);
  }
  return xmlAnswer(tenantViewOfMeetingFields(answer, meetingId));
}

function unknownMeeting(): ApiAnswer {
  throw bbbErrors.notFound();
}

const notRunning: WhenUnknown = () => xmlAnswer(successXml("<running>false</running>"));

/** bbb-web's answer to an accepted end: ending is asynchronous. */
const endSent = (): ApiAnswer =>
  xmlAnswer(
    successXml(
      "<messageKey>sentEndMeetingRequest</messageKey><message>A request to end the meeting was sent. Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.</message>",
    ),
  );

export const getMeetingInfo = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, unknownMeeting, unknownMeeting);

/**
 * An end that arrives while the meeting's create is still at its node is marked for the create to carry out
 * once the node has the meeting: the order of an end and a create never leaves a meeting running unmapped.
 */
export async function end(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const nodeId = await context.meetingNodes.nodeOf(request.tenant.slug, meetingId);
  if (nodeId !== null && (await deferEndWhileCreating(context.redis, request.tenant.slug, meetingId, nodeId))) return endSent();
  return forwardToMeetingNode(context, request, unknownMeeting);
}

export const sendChatMessage = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, unknownMeeting);

export const insertDocument = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> => {
  if (request.body === undefined) throw new BbbError("validationError", "insertDocument needs an XML <modules> body (POST)");
  return forwardToMeetingNode(context, request, unknownMeeting);
};

/** An unknown meeting is not running: bbb-web answers SUCCESS/false, not an error; so is one whose node is silent. */
export const isMeetingRunning = (context: ApiContext, request: ApiRequest): Promise<ApiAnswer> =>
  forwardToMeetingNode(context, request, notRunning, notRunning);
