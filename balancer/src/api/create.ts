import { BbbError, bbbErrors, NodeUnansweredError } from "../bbb/errors.js";
import { createdMeetingXml, meetingInfoFields, tenantMeetingXml, tenantMetadataParameter, tenantViewOfMeetingFields } from "../bbb/meetingXml.js";
import { elementText, escapeXml } from "../bbb/xml.js";
import { endOnNode } from "../fleet/endMeetings.js";
import type { NodeRequestBody } from "../nodes/client.js";
import { countCreateNodeFailure, countLimitHit } from "../observability/metrics.js";
import { chooseCluster, placementCost } from "../placement/load.js";
import { matchesServerTag, parseServerTag, type ServerTagRequest } from "../placement/serverTag.js";
import {
  type Claim,
  claimMeeting,
  claimVoiceBridge,
  holdOutNode,
  lowestLoads,
  placeAmong,
  placeInCluster,
  releaseMeeting,
  releaseVoiceBridge,
  storeSummary,
  undoPlacement,
} from "../store/meetings.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { endCallbackUrl } from "../tenancy/endCallback.js";
import { recordingCallbackNames, recordingCallbackUrl, type RecordingCallbackKind } from "../tenancy/recordingCallbacks.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { mappedNode, returnCode } from "./meetingCalls.js";
import { nodeQuery, parameterAfterPolicy, requireMeetingId, takeParameterIgnoringCase } from "./parameters.js";

interface Placement {
  node: NodeEntry;
  /** What the node's load grew by: given back if the create does not go ahead. */
  cost: number;
}

interface Meeting {
  tenant: string;
  meetingId: string;
}

/** What one create may still spend, and the nodes it found not answering. */
interface CreateBudget {
  readonly deadline: number;
  readonly failedNodes: Set<string>;
}

/**
 * bbb-web's answer to a create whose requested voice bridge a running meeting has (ApiController.groovy, create:
 * `createMeeting` refuses it, then `errors.nonUniqueVoiceBridgeError()` in ApiErrors' list form). The balancer
 * keeps voice bridges unique across the fleet, so any running meeting of any tenant holding it counts.
 */
const voiceBridgeInUseXml =
  '<response><returncode>FAILED</returncode><errors><error key="nonUniqueVoiceBridge" message="The selected voice bridge is already in use."/></errors></response>';

/** Scalelite's parameter for placement by node tag. */
const serverTagParameter = "meta_server-tag";

const remainingMs = (budget: CreateBudget): number => budget.deadline - performance.now();

/** The tenant's clusters, the one with the least-loaded node first: the others are where placement goes next. */
async function clusterOrder(context: ApiContext, clusters: readonly string[]): Promise<readonly string[]> {
  if (clusters.length < 2) return clusters;
  const first = chooseCluster(await lowestLoads(context.redis, clusters), context.random());
  return first === undefined ? clusters : [first, ...clusters.filter((cluster) => cluster !== first)];
}

/**
 * Picks and counts the least-loaded eligible node among the tenant's clusters, with the meeting in the node's
 * meeting set; throws when there is none. Nodes held out after a failed create (any replica's) and nodes this
 * create found not answering are passed over. A pool member this replica's config does not name is given back
 * and skipped from then on (see `ApiContext.unconfiguredNodes`), so each such node costs one extra round trip once.
 */
async function placeAnywhere(context: ApiContext, meeting: Meeting, clusters: readonly string[], budget: CreateBudget): Promise<Placement | undefined> {
  for (const cluster of clusters) {
    const tunables = context.directory.clusterLoad.get(cluster);
    if (tunables === undefined) continue;
    const cost = placementCost(tunables);
    // Ends: every round either returns, moves on, or adds a node the script will not pick again.
    for (;;) {
      const skipped = [...context.unconfiguredNodes, ...budget.failedNodes];
      const picked = await placeInCluster(context.redis, cluster, meeting, { cost, random: context.random(), skipped });
      if (picked === null) break;
      const node = context.directory.nodes.get(picked.nodeId);
      if (node !== undefined) return { node, cost: picked.cost };
      context.unconfiguredNodes.add(picked.nodeId);
      await undoPlacement(context.redis, { cluster, nodeId: picked.nodeId, cost: picked.cost, meeting });
    }
  }
  return undefined;
}

/** As `placeAnywhere`, among the configured nodes `eligible` accepts only. */
async function placeOn(
  context: ApiContext,
  meeting: Meeting,
  clusters: readonly string[],
  budget: CreateBudget,
  eligible: (node: NodeEntry) => boolean,
): Promise<Placement | undefined> {
  for (const cluster of clusters) {
    const tunables = context.directory.clusterLoad.get(cluster);
    if (tunables === undefined) continue;
    const candidates = (context.directory.clusterNodes.get(cluster) ?? []).filter((node) => eligible(node) && !budget.failedNodes.has(node.id));
    const picked = await placeAmong(context.redis, cluster, meeting, {
      cost: placementCost(tunables),
      random: context.random(),
      candidates: candidates.map((node) => node.id),
    });
    const node = picked === null ? undefined : context.directory.nodes.get(picked.nodeId);
    if (picked !== null && node !== undefined) return { node, cost: picked.cost };
  }
  return undefined;
}

/**
 * Places a new meeting (see `placeAnywhere`). A create with a server tag goes to a node with that tag, else (the
 * tag not required) to an untagged one, as Scalelite's `Server.find_available` does; a required tag no eligible
 * node has fails with Scalelite's `serverTagUnavailable`.
 */
async function place(context: ApiContext, meeting: Meeting, clusters: readonly string[], budget: CreateBudget, tag: ServerTagRequest | undefined): Promise<Placement> {
  const order = await clusterOrder(context, clusters);
  let placement: Placement | undefined;
  if (tag === undefined) {
    placement = await placeAnywhere(context, meeting, order, budget);
  } else {
    placement = await placeOn(context, meeting, order, budget, (node) => matchesServerTag(tag, node.config.tag));
    if (placement === undefined && tag.required) throw bbbErrors.serverTagUnavailable(tag.text);
    placement ??= await placeOn(context, meeting, order, budget, (node) => node.config.tag === undefined);
  }
  if (placement === undefined) throw bbbErrors.noServer();
  return placement;
}

/**
 * What the node receives for a create: the tenant's parameters after policies, the node's meeting ID, the
 * tenant named in metadata, and the balancer's signed end and recording callbacks in place of the tenant's
 * (which they carry).
 */
function createParams(context: ApiContext, request: ApiRequest, meetingId: string, node: NodeEntry): URLSearchParams {
  const params = new URLSearchParams(nodeQuery(request.query, nodeMeetingId(request.tenant.slug, meetingId), request.tenant.policies.create));
  // As Scalelite: the node learns the tag it was chosen for (its own), not what the create asked for.
  takeParameterIgnoringCase(params, serverTagParameter);
  if (node.config.tag !== undefined) params.set(serverTagParameter, node.config.tag);
  const logo = request.tenant.config.logo;
  if (logo !== undefined && !params.has("logo")) params.set("logo", logo);
  const tenantUrl = takeParameterIgnoringCase(params, "meta_endCallbackUrl");
  takeParameterIgnoringCase(params, tenantMetadataParameter);
  params.set(tenantMetadataParameter, request.tenant.slug);
  params.set(
    "meta_endCallbackUrl",
    endCallbackUrl(context.endCallback.baseUrl, context.endCallback.key, { tenant: request.tenant.slug, meetingId, nodeId: node.id, tenantUrl }),
  );
  const secretId = request.tenant.secretIds[request.secretIndex] ?? "";
  for (const [kind, names] of Object.entries(recordingCallbackNames) as Array<[RecordingCallbackKind, readonly string[]]>) {
    for (const name of names) {
      const given = takeParameterIgnoringCase(params, `meta_${name}`);
      if (given === undefined || given === "") continue;
      const target = { kind, tenant: request.tenant.slug, meetingId, nodeId: node.id, secretId, tenantUrl: given };
      params.set(`meta_${name}`, recordingCallbackUrl(context.endCallback.baseUrl, context.endCallback.key, target));
    }
  }
  return params;
}

/** The tenant's default presentation, for a create that brings no `<modules>` of its own: GET becomes POST. */
function createBody(request: ApiRequest): NodeRequestBody | undefined {
  const presentation = request.tenant.config.presentation;
  if (request.body !== undefined || presentation === undefined) return request.body;
  const modules = `<?xml version="1.0" encoding="UTF-8"?><modules><module name="presentation"><document url="${escapeXml(presentation)}"/></module></modules>`;
  return { contentType: "text/xml", data: Buffer.from(modules) };
}

/** What a fresh placement holds until the node has the meeting: given back if the create fails. */
interface Reservation {
  placement: Placement;
  voiceBridge: string | undefined;
}

type CreateOutcome = { kind: "answered"; answer: ApiAnswer } | { kind: "nodeUnanswered"; node: NodeEntry; error: NodeUnansweredError };

/**
 * Sends the create to the meeting's node. For a fresh placement (`reservation` given), a failed create releases
 * the mapping, the voice bridge and the load, and a node that does not answer is reported for the next attempt;
 * a successful one stores the summary getMeetings serves until the next poll, or, when an end arrived while the
 * node was creating, ends it there. A create of a live meeting simply reaches its node, which answers
 * `duplicateWarning` or `idNotUnique`.
 */
async function createOnNode(
  context: ApiContext,
  request: ApiRequest,
  meetingId: string,
  node: NodeEntry,
  budget: CreateBudget,
  reservation?: Reservation,
): Promise<CreateOutcome> {
  const tenant = request.tenant.slug;
  const params = createParams(context, request, meetingId, node);
  if (reservation?.voiceBridge !== undefined) params.set("voiceBridge", reservation.voiceBridge);
  const undo = async (): Promise<void> => {
    if (reservation === undefined) return;
    await releaseMeeting(context.redis, tenant, meetingId, node, { byCreate: true });
    if (reservation.voiceBridge !== undefined) await releaseVoiceBridge(context.redis, tenant, meetingId, reservation.voiceBridge);
    // releaseMeeting took the meeting out of the node's set already.
    await undoPlacement(context.redis, { cluster: node.cluster, nodeId: node.id, cost: reservation.placement.cost });
  };
  let answer: string;
  try {
    answer = await context.nodes.call(node, "create", params.toString(), { body: createBody(request), timeoutMs: remainingMs(budget) });
  } catch (error) {
    await undo();
    if (reservation !== undefined && error instanceof NodeUnansweredError) return { kind: "nodeUnanswered", node, error };
    throw error;
  }
  const { success, messageKey } = returnCode(answer);
  if (reservation !== undefined && (success || messageKey === "idNotUnique")) {
    const summary = success ? await createdSummary(context, node, { tenant, meetingId }, { params, answer }, budget) : undefined;
    if ((await storeSummary(context.redis, tenant, meetingId, node.id, summary)) === "endRequested") await endCreatedMeeting(context, tenant, meetingId, node, answer);
  } else if (!success && messageKey !== "idNotUnique") {
    await undo();
  }
  return { kind: "answered", answer: xmlAnswer(tenantViewOfMeetingFields(answer, meetingId)) };
}

/**
 * What getMeetings serves of a meeting just created, until the next poll: the node's own getMeetingInfo of it
 * (`recording`, `startTime`, ... as bbb-web reports them; the create answer lacks them), in the tenant's view.
 * Should the node not give it in time, the fields of its create answer stand in.
 */
async function createdSummary(
  context: ApiContext,
  node: NodeEntry,
  meeting: Meeting,
  create: { params: URLSearchParams; answer: string },
  budget: CreateBudget,
): Promise<string> {
  const query = new URLSearchParams({ meetingID: nodeMeetingId(meeting.tenant, meeting.meetingId) }).toString();
  try {
    const fields = meetingInfoFields(await context.nodes.call(node, "getMeetingInfo", query, { timeoutMs: Math.max(remainingMs(budget), 1) }));
    if (fields !== undefined) return tenantMeetingXml(`<meeting>${fields}</meeting>`, meeting.tenant, meeting.meetingId);
  } catch {
    // The node did not answer, or answered about another meeting: the meeting exists on the node all the same,
    // and a summary from its create answer beats failing the create.
  }
  return createdMeetingXml(create.answer, create.params, meeting.meetingId);
}

/**
 * The end that arrived while the node was creating the meeting, carried out now that it has it. Should the node
 * not take it, the meeting stays mapped (it runs, and joins and a later end find it).
 */
async function endCreatedMeeting(context: ApiContext, tenant: string, meetingId: string, node: NodeEntry, createAnswer: string): Promise<void> {
  const id = nodeMeetingId(tenant, meetingId);
  const outcome = await endOnNode(context.nodes, node, new Map([[id, elementText(createAnswer, "moderatorPW") ?? ""]]));
  if (outcome.ended.includes(id)) await releaseMeeting(context.redis, tenant, meetingId, node);
}

function limitError(limit: "maxMeetings" | "maxAttendees", scope: "tenant" | "secret", max: number | undefined): BbbError {
  const what = limit === "maxMeetings" ? "concurrent meetings" : "attendees";
  const whose = scope === "tenant" ? "this tenant" : "this API secret";
  return new BbbError(`${limit}Reached`, `The limit of ${max ?? "?"} ${what} for ${whose} is reached; try again when a meeting has ended`);
}

/**
 * One attempt: place, claim, create. Of concurrent creates exactly one claims the mapping (HSETNX, limits
 * checked in the same script). The others, and every create of a live meeting, give their placement back and
 * send their create to the holder's node, which answers `duplicateWarning` or `idNotUnique`.
 */
async function attemptCreate(context: ApiContext, request: ApiRequest, meetingId: string, budget: CreateBudget): Promise<CreateOutcome> {
  const tenant = request.tenant;
  // Most creates are of new meetings: they place first and learn of a live meeting from the claim, a Redis round
  // trip less than a lookup before. With nowhere to place, a live meeting is looked up so it still reaches its node.
  let placement: Placement;
  try {
    const tag = parseServerTag(parameterAfterPolicy(request.params, serverTagParameter, tenant.policies.create));
    placement = await place(context, { tenant: tenant.slug, meetingId }, tenant.clusters, budget, tag);
  } catch (error) {
    const existing = await mappedNode(context, tenant.slug, meetingId);
    if (existing === undefined) throw error;
    return createOnNode(context, request, meetingId, existing, budget);
  }
  const secretLimits = tenant.secretLimits[request.secretIndex] ?? {};
  const claimPlacement = (): Promise<Claim> =>
    claimMeeting(context.redis, {
      tenant: tenant.slug,
      meetingId,
      node: placement.node,
      secretId: tenant.secretIds[request.secretIndex] ?? "",
      limits: {
        tenantMaxMeetings: tenant.limits.maxMeetings,
        secretMaxMeetings: secretLimits.maxMeetings,
        tenantMaxAttendees: tenant.limits.maxAttendees,
        secretMaxAttendees: secretLimits.maxAttendees,
      },
      createBudgetMs: Math.ceil(remainingMs(budget)),
    });
  let claim = await claimPlacement();
  if (claim.outcome === "lost" && !context.directory.nodes.has(claim.holder)) {
    // The holder is a node this replica's config does not name (removed from the config): the lookup releases
    // that mapping, and the meeting, new again, gets one more claim for the same placement.
    const current = await mappedNode(context, tenant.slug, meetingId);
    claim = current === undefined ? await claimPlacement() : { outcome: "lost", holder: current.id };
  }
  if (claim.outcome === "won") {
    const requested = parameterAfterPolicy(request.params, "voiceBridge", tenant.policies.create) ?? undefined;
    const voiceBridge = await claimVoiceBridge(context.redis, tenant.slug, meetingId, requested, context.random);
    if (voiceBridge.outcome === "taken") {
      await releaseMeeting(context.redis, tenant.slug, meetingId, placement.node, { byCreate: true });
      await undoPlacement(context.redis, { cluster: placement.node.cluster, nodeId: placement.node.id, cost: placement.cost });
      return { kind: "answered", answer: xmlAnswer(voiceBridgeInUseXml) };
    }
    const reserved = voiceBridge.outcome === "claimed" ? voiceBridge.voiceBridge : undefined;
    return createOnNode(context, request, meetingId, placement.node, budget, { placement, voiceBridge: reserved });
  }
  // A winner on the same node holds the meeting's member of its set: only a member of our own is taken out.
  const heldHere = claim.outcome === "lost" && claim.holder === placement.node.id;
  await undoPlacement(context.redis, {
    cluster: placement.node.cluster,
    nodeId: placement.node.id,
    cost: placement.cost,
    meeting: heldHere ? undefined : { tenant: tenant.slug, meetingId },
  });
  if (claim.outcome === "refused") {
    countLimitHit({ tenant: tenant.slug, limit: claim.limit, scope: claim.scope });
    const limits = claim.scope === "tenant" ? tenant.limits : secretLimits;
    throw limitError(claim.limit, claim.scope, limits[claim.limit]);
  }
  const holder = context.directory.nodes.get(claim.holder) ?? (await mappedNode(context, tenant.slug, meetingId));
  // Still held by nodes this replica does not know after a second claim: replicas with different configs (a
  // rolling update) are placing it; the client's retry will find the update further along.
  if (holder === undefined) throw bbbErrors.noServer();
  return createOnNode(context, request, meetingId, holder, budget);
}

/**
 * create, idempotent across replicas, and kept going while nodes die: a node that does not answer a fresh
 * create is held out of placement (every replica, `placement.holdOutSeconds`) and the create moves on to the next
 * least-loaded node, up to `placement.createAttempts` nodes within `placement.createBudgetMs`.
 */
export async function create(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const settings = context.directory.placement;
  const budget: CreateBudget = { deadline: performance.now() + settings.createBudgetMs, failedNodes: new Set() };
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await attemptCreate(context, request, meetingId, budget);
    if (outcome.kind === "answered") return outcome.answer;
    countCreateNodeFailure(outcome.node);
    budget.failedNodes.add(outcome.node.id);
    await holdOutNode(context.redis, outcome.node, settings.holdOutSeconds * 1_000);
    if (attempt >= settings.createAttempts || remainingMs(budget) <= 0) throw outcome.error;
  }
}
