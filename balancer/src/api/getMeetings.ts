import { successXml } from "../bbb/xml.js";
import { tenantRevision, tenantSummaries } from "../store/meetings.js";
import { type ApiAnswer, type ApiContext, type ApiRequest, xmlAnswer } from "./context.js";

const noMeetings = successXml("<meetings/><messageKey>noMeetings</messageKey><message>no meetings were found on this server</message>");

/**
 * The tenant's meetings from Redis (summaries written at create and refreshed by each poll): no node is asked,
 * so a slow or dead node cannot slow this call down. The assembled answer is reused while the tenant's revision
 * is unchanged, so a repeated getMeetings costs one GET.
 */
export async function getMeetings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const tenant = request.tenant.slug;
  const cached = context.meetingsCache.get(tenant);
  if (cached !== undefined && cached.revision === (await tenantRevision(context.redis, tenant))) return xmlAnswer(cached.body);
  const { revision, meetings } = await tenantSummaries(context.redis, tenant);
  const body = meetings.length === 0 ? noMeetings : successXml(`<meetings>${meetings.join("")}</meetings>`);
  context.meetingsCache.set(tenant, { revision, body });
  return xmlAnswer(body);
}
