import { internalMetadataPrefix } from "../bbb/meetingXml.js";
import { tenantViewOfCallbackUrl } from "../tenancy/endCallback.js";

/**
 * bbb-webhooks' mapped event (example/events/mapped-events.json, src/process/event.js): `{ data: { type: "event",
 * id, attributes: { meeting: { "internal-meeting-id", "external-meeting-id", ... }, user?: {...} }, event: { ts } } }`.
 * Only what the balancer reads or rewrites is typed; everything else passes through untouched.
 */
export interface MappedEvent {
  readonly data: {
    readonly id: string;
    readonly attributes: { readonly meeting: Readonly<Record<string, unknown>> & { readonly "external-meeting-id": string } } & Readonly<Record<string, unknown>>;
  } & Readonly<Record<string, unknown>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The events of a post's `event` field that the balancer can route: mapped ones naming their meeting. */
export function mappedEvents(json: string): MappedEvent[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed.filter((event): event is MappedEvent => {
    if (!isRecord(event) || !isRecord(event["data"])) return false;
    const data = event["data"];
    const attributes = data["attributes"];
    return typeof data["id"] === "string" && isRecord(attributes) && isRecord(attributes["meeting"]) && typeof attributes["meeting"]["external-meeting-id"] === "string";
  });
}

/** The metadata a tenant gave, as the tenant gave it: the balancer's own entries out, its own end callback URL back. */
function tenantMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (name.startsWith(internalMetadataPrefix)) continue;
    if (name === "endcallbackurl" && typeof value === "string") {
      const tenantUrl = tenantViewOfCallbackUrl(value);
      if (tenantUrl !== undefined) shown[name] = tenantUrl;
      continue;
    }
    shown[name] = value;
  }
  return shown;
}

/** The event as the tenant sees it: its own meeting ID in place of the node's, and its own metadata. */
export function tenantViewOfEvent(event: MappedEvent, meetingId: string): MappedEvent {
  const meeting: Record<string, unknown> = { ...event.data.attributes.meeting, "external-meeting-id": meetingId };
  const metadata = meeting["metadata"];
  if (isRecord(metadata)) meeting["metadata"] = tenantMetadata(metadata);
  return { ...event, data: { ...event.data, attributes: { ...event.data.attributes, meeting: meeting as MappedEvent["data"]["attributes"]["meeting"] } } };
}
