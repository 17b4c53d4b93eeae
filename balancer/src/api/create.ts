import { bbbErrors } from "../bbb/errors.js";
import { createdMeetingXml, tenantMetadataParameter, tenantViewOfMeetingFields } from "../bbb/meetingXml.js";
import { chooseCluster, placementCost } from "../placement/load.js";
import { claimMeeting, lowestLoads, placeInCluster, releaseMeeting, storeSummary, undoPlacement } from "../store/meetings.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { endCallbackUrl } from "../tenancy/endCallback.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";
import { mappedNode, nodeParams, returnCode } from "./meetingCalls.js";
import { applyPolicies, requireMeetingId, takeParameterIgnoringCase } from "./parameters.js";

interface Placement {
  node: NodeEntry;
  cost: number;
}

/** Picks and counts the least-loaded eligible node among the tenant's clusters; throws when there is none. */
async function place(context: ApiContext, clusters: readonly string[]): Promise<Placement> {
  let cluster = clusters[0];
  if (clusters.length > 1) cluster = chooseCluster(await lowestLoads(context.redis, clusters), context.random());
  if (cluster === undefined) throw bbbErrors.noServer();
  const tunables = context.directory.clusterLoad.get(cluster);
  if (tunables === undefined) throw bbbErrors.noServer();
  const cost = placementCost(tunables);
  const nodeId = await placeInCluster(context.redis, cluster, cost, context.random());
  if (nodeId === null) throw bbbErrors.noServer();
  const node = context.directory.nodes.get(nodeId);
  if (node === undefined) {
    // A pool member this replica's config does not know (config rolled out unevenly): give the load back.
    await undoPlacement(context.redis, cluster, nodeId, cost);
    throw bbbErrors.noServer();
  }
  return { node, cost };
}

/**
 * What the node receives for a create: the tenant's parameters after policies, the node's meeting ID, the
 * tenant named in metadata, and the balancer's signed end callback in place of the tenant's (which it carries).
 */
function createParams(context: ApiContext, request: ApiRequest, meetingId: string, node: NodeEntry): URLSearchParams {
  const params = applyPolicies(nodeParams(request, meetingId), request.tenant.policies.create);
  const tenantUrl = takeParameterIgnoringCase(params, "meta_endCallbackUrl");
  takeParameterIgnoringCase(params, tenantMetadataParameter);
  params.set(tenantMetadataParameter, request.tenant.slug);
  params.set(
    "meta_endCallbackUrl",
    endCallbackUrl(context.endCallback.baseUrl, context.endCallback.key, { tenant: request.tenant.slug, meetingId, nodeId: node.id, tenantUrl }),
  );
  return params;
}

/**
 * Sends the create to the meeting's node. For a fresh placement (`placement` given), a failed create releases
 * the mapping and gives the load back, and a successful one stores the summary getMeetings serves until the
 * next poll. A create of a live meeting simply reaches its node, which answers `duplicateWarning` or `idNotUnique`.
 */
async function createOnNode(context: ApiContext, request: ApiRequest, meetingId: string, node: NodeEntry, placement?: Placement): Promise<ApiAnswer> {
  const tenant = request.tenant.slug;
  const params = createParams(context, request, meetingId, node);
  const undo = async (): Promise<void> => {
    if (placement === undefined) return;
    await releaseMeeting(context.redis, tenant, meetingId, node);
    await undoPlacement(context.redis, node.cluster, node.id, placement.cost);
  };
  let answer: string;
  try {
    answer = await context.nodes.call(node, "create", params, request.body);
  } catch (error) {
    await undo();
    throw error;
  }
  const { success, messageKey } = returnCode(answer);
  if (success && placement !== undefined) {
    await storeSummary(context.redis, tenant, meetingId, node.id, createdMeetingXml(answer, params, meetingId));
  } else if (!success && messageKey !== "idNotUnique") {
    await undo();
  }
  return xmlAnswer(tenantViewOfMeetingFields(answer, meetingId));
}

/**
 * create, idempotent across replicas: a live meeting's create goes to its node; otherwise the meeting is placed,
 * and of concurrent creates exactly one claims the mapping (HSETNX). The others give their placement back and
 * send their create to the winner's node, as a second create of a live meeting.
 */
export async function create(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const tenant = request.tenant.slug;
  const existing = await mappedNode(context, tenant, meetingId);
  if (existing !== undefined) return createOnNode(context, request, meetingId, existing);
  const placement = await place(context, request.tenant.clusters);
  const claim = await claimMeeting(context.redis, tenant, meetingId, placement.node);
  if (claim.won) return createOnNode(context, request, meetingId, placement.node, placement);
  await undoPlacement(context.redis, placement.node.cluster, placement.node.id, placement.cost);
  const holder = context.directory.nodes.get(claim.holder);
  if (holder === undefined) throw bbbErrors.noServer();
  return createOnNode(context, request, meetingId, holder);
}
