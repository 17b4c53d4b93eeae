import { BbbError, bbbErrors } from "../bbb/errors.js";
import type { ParameterPolicy } from "../config/schema.js";
import { signedNodeUrl } from "../nodes/client.js";
import { releaseMeeting } from "../store/meetings.js";
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

/**
 * The hot path: one Redis read (the meeting's node), then the node's join URL re-signed in-process. The browser
 * goes to the node itself (the node sets its session cookie there); the balancer never performs the join.
 */
export async function join(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const meetingId = requireMeetingId(request.params);
  const policies = request.tenant.policies.join;
  const fullName = parameterAfterPolicy(request.params, "fullName", policies);
  if (fullName === null || fullName === "") throw bbbErrors.missingFullName();
  const node = await mappedNode(context, request.tenant.slug, meetingId);
  if (node === undefined) throw bbbErrors.joinNotFound();
  const query = nodeQuery(request.query, nodeMeetingId(request.tenant.slug, meetingId), policies);
  if (joinRedirects(request.params, policies)) return { kind: "redirect", location: signedNodeUrl(node, "join", query) };
  const answer = await context.nodes.call(node, "join", query);
  const { success, messageKey } = returnCode(answer);
  if (!success && messageKey === "invalidMeetingIdentifier") await releaseMeeting(context.redis, request.tenant.slug, meetingId, node);
  return xmlAnswer(answer);
}
