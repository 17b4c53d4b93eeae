import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { successXml } from "../bbb/xml.js";
import { tenantRevision, tenantSummaries } from "../store/meetings.js";
import type { ApiAnswer, ApiContext, ApiRequest, PreparedXml } from "./context.js";

const noMeetings = successXml("<meetings/><messageKey>noMeetings</messageKey><message>no meetings were found on this server</message>");
// On the thread pool: compressing a 2,000-meeting answer takes milliseconds the event loop should not wait for.
const gzipOffLoop = promisify(gzip);

async function prepareAnswer(context: ApiContext, tenant: string): Promise<PreparedXml> {
  const { meetings } = await tenantSummaries(context.redis, tenant);
  // Bytes, not a string: a string would be UTF-8-encoded again for every request that sends it.
  const identity = Buffer.from(meetings.length === 0 ? noMeetings : successXml(`<meetings>${meetings.join("")}</meetings>`));
  return { identity, gzipped: await gzipOffLoop(identity) };
}

/**
 * The tenant's meetings from Redis (summaries written at create and refreshed by each poll): no node is asked,
 * so a slow or dead node cannot slow this call down. The answer is prepared once per tenant revision (with its
 * gzip copy) and shared by every call until the revision changes, so a repeated getMeetings costs one GET.
 */
export async function getMeetings(context: ApiContext, request: ApiRequest): Promise<ApiAnswer> {
  const tenant = request.tenant.slug;
  const revision = await tenantRevision(context.redis, tenant);
  let cached = context.meetingsCache.get(tenant);
  if (cached?.revision !== revision) {
    // Cached before it is ready, so calls arriving meanwhile share one preparation. The summaries are read after
    // the revision, so they are at least as new as the revision the entry is kept under.
    const entry = { revision, answer: prepareAnswer(context, tenant) };
    context.meetingsCache.set(tenant, entry);
    // A failed preparation (Redis down) is forgotten, so the next call tries again instead of failing forever.
    entry.answer.catch(() => context.meetingsCache.get(tenant) === entry && context.meetingsCache.delete(tenant));
    cached = entry;
  }
  return { kind: "preparedXml", body: await cached.answer };
}
