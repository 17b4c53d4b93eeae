import { BbbError, bbbErrors } from "../bbb/errors.js";
import type { ParameterPolicy } from "../config/schema.js";
import { signedNodeUrl } from "../nodes/client.js";
import { countLimitHit } from "../observability/metrics.js";
import { joinCost } from "../placement/load.js";
import { admitJoin, type AttendeeLimits, giveBackJoin, releaseMeeting } from "../store/meetings.js";
import type { NodeEntry, TenantEntry } from "../tenancy/directory.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";
import { nodeMeetingId } from "../tenancy/nodeMeetingId.js";
import { mappedNode, returnCode } from "./meetingCalls.js";
import { nodeQuery, parameterAfterPolicy, requireMeetingId } from "./parameters.js";

type JoinPolicies = ReadonlyMap<string, ParameterPolicy>;

/** bbb-web redirects a join unless `redirect` is given and is not the literal `true`. */
export function joinRedirects(params: URLSearchParams, policies: JoinPolicies): boolean {
  const redirect = parameterAfterPolicy(params, "redirect", policies);
  return redirect === null || redirect === "true";
}

/**
 * Where bbb-web sends the browser of a failed redirecting join: `errorRedirectUrl`, else `logoutURL` (a tenant's
 * policy may give either), with an `errors` parameter holding `[{"key":..,"message":..}]`. `undefined` when
 * neither is given: the balancer has no default logout page of its own, so the client gets the XML error.
 */
export function joinErrorRedirect(params: URLSearchParams, policies: JoinPolicies, error: BbbError): string | undefined {
  for (const name of ["errorRedirectUrl", "logoutURL"]) {
    const target = parameterAfterPolicy(params, name, policies);
    if (target === null || target === "") continue;
    try {
      const url = new URL(target);
      if (url.protocol !== "http:" && url.protocol !== "https:") continue;
      url.searchParams.append("errors", JSON.stringify([{ key: error.messageKey, message: error.message }]));
      return url.toString();
    } catch {
      continue;
    }
  }
  return undefined;
}

/** The tenant's attendee limits, or undefined when it has none (its joins are not counted against any). */
function attendeeLimitsOf(tenant: TenantEntry): AttendeeLimits | undefined {
  const bySecret = tenant.secretLimits.flatMap((limits, i): Array<readonly [string, number]> => {
    const max = limits.maxAttendees;
    return max === undefined ? [] : [[tenant.secretIds[i] ?? "", max]];
  });
  if (tenant.limits.maxAttendees === undefined && bySecret.length === 0) return undefined;
  return { tenant: tenant.limits.maxAttendees, bySecret };
}

/**
 * The node of the meeting a join is for. Under an attendee limit the join is also counted, in the same script
 * that checks the limit (`admitJoin`), and refused with bbb-web's answer for a full meeting when it is reached.
 */
async function joinedNode(context: ApiContext, tenant: TenantEntry, meetingId: string, limits: AttendeeLimits | undefined): Promise<NodeEntry | undefined> {
  if (limits === undefined) return mappedNode(context, tenant.slug, meetingId);
  const admission = await admitJoin(context.redis, tenant.slug, meetingId, limits);
  if (admission.outcome === "unmapped") return undefined;
  if (admission.outcome === "refused") {
    countLimitHit({ tenant: tenant.slug, limit: "maxAttendees", scope: admission.scope });
    throw bbbErrors.maxParticipantsReached();
  }
  // A node no longer configured: the lookup releases its mapping, as for any call.
  return context.directory.nodes.get(admission.nodeId) ?? mappedNode(context, tenant.slug, meetingId);
}

/**
 * The hot path: one Redis read (the meeting's node; under an attendee limit, one script that also counts the
 * join), then the node's join URL re-signed in-process; the join is counted on the node's load after the answer
 * (`store/joinCharges.ts`). The browser goes to
 * the node itself (the node sets its session cookie there); the balancer never performs the join.
 */
export async function join(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const tenant = request.tenant;
  const policies = tenant.policies.join;
  const fullName = parameterAfterPolicy(request.params, "fullName", policies);
  if (fullName === null || fullName === "") throw bbbErrors.missingFullName();
  const limits = attendeeLimitsOf(tenant);
  const node = await joinedNode(context, tenant, meetingId, limits);
  if (node === undefined) throw bbbErrors.joinNotFound();
  const tunables = context.directory.clusterLoad.get(node.cluster);
  if (tunables !== undefined) context.joinCharges.charge(node, joinCost(tunables, node.config.loadMultiplier));
  const query = nodeQuery(request.query, nodeMeetingId(tenant.slug, meetingId), policies);
  if (joinRedirects(request.params, policies)) return { kind: "redirect", location: signedNodeUrl(node, "join", query) };
  const answer = await context.nodes.call(node, "join", query);
  const { success, messageKey } = returnCode(answer);
  if (!success && limits !== undefined) await giveBackJoin(context.redis, tenant.slug, meetingId);
  if (!success && messageKey === "invalidMeetingIdentifier") await releaseMeeting(context.redis, tenant.slug, meetingId, node);
  return xmlAnswer(answer);
}
