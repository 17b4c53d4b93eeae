import { nodeStates, type NodeState } from "../config/schema.js";

export { nodeStates, type NodeState };

/**
 * What each admin state means for placement and for the meetings already on the node:
 * - enabled: takes new meetings unless its polls found it unhealthy (a node not polled yet is trusted);
 * - cordoned: no new meetings, running ones continue (maintenance announced, nothing forced);
 * - draining: like cordoned, and the poller turns it `disabled` once the node reports no meetings;
 * - disabled: no new meetings; polled still, so its health and leftovers stay visible;
 * - panic: no new meetings, every meeting mapped to it is released and ended on the node.
 */
export function takesNewMeetings(state: NodeState, healthy: boolean | undefined): boolean {
  return state === "enabled" && healthy !== false;
}

export function isNodeState(value: string): value is NodeState {
  return (nodeStates as readonly string[]).includes(value);
}

/** The admin verbs of the CLI and the admin API, each naming the state it sets. */
export const stateVerbs = {
  enable: "enabled",
  cordon: "cordoned",
  drain: "draining",
  disable: "disabled",
  panic: "panic",
} as const satisfies Record<string, NodeState>;
export type StateVerb = keyof typeof stateVerbs;

export function isStateVerb(value: string): value is StateVerb {
  return Object.hasOwn(stateVerbs, value);
}
