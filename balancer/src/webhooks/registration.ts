import { elementText } from "../bbb/xml.js";
import type { NodeClients } from "../nodes/client.js";
import type { NodeEntry } from "../tenancy/directory.js";
import { nodeEventsUrl } from "./nodeEvents.js";

/**
 * The balancer's own hook on a node's bbb-webhooks, made (again) by every poll of the node. bbb-webhooks answers
 * a create for a URL it already has with that hook's ID and `duplicateWarning`, so this costs one request and
 * changes nothing while the hook is there; when the node lost it (its Redis wiped, or bbb-webhooks removed it
 * after the balancer failed its retries) the next poll registers it again.
 */
export type Registration = "created" | "present" | "failed";

export async function registerOnNode(clients: NodeClients, node: NodeEntry, publicUrl: string): Promise<Registration> {
  const query = new URLSearchParams({ callbackURL: nodeEventsUrl(publicUrl, node.id) }).toString();
  try {
    const answer = await clients.call(node, "hooks/create", query);
    if (elementText(answer, "returncode") !== "SUCCESS") return "failed";
    return elementText(answer, "messageKey") === "duplicateWarning" ? "present" : "created";
  } catch {
    return "failed";
  }
}
