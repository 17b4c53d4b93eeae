import { hash } from "node:crypto";
import type { ChecksumAlgorithm } from "../config/schema.js";

/**
 * How bbb-webhooks signs what it posts to a hook (v3.4.0, src/out/webhooks/callback-emitter.js): the body is the
 * form `domain=…&event=[<event JSON>]&timestamp=<ms>` (keys in that order), and `checksum = H(callbackURL + body +
 * secret)` is appended to the callback URL's query. Versions before 3.4.0 hashed `"{}"` in place of the body
 * (JSON.stringify of a URLSearchParams), a checksum that never changes per URL; nothing here accepts that.
 */

export interface EventPost {
  /** The server's domain (bbb-webhooks' `bbb.serverDomain`). */
  readonly domain: string;
  /** The events, as the JSON array text bbb-webhooks sends (`"[" + JSON.stringify(event) + "]"`). */
  readonly eventJson: string;
  /** When the first attempt started, in ms; the same on every retry. */
  readonly timestamp: number;
}

export function eventPostBody(post: EventPost): string {
  return new URLSearchParams({ domain: post.domain, event: post.eventJson, timestamp: String(post.timestamp) }).toString();
}

export function callbackChecksum(algorithm: ChecksumAlgorithm, callbackURL: string, body: string, secret: string): string {
  return hash(algorithm, `${callbackURL}${body}${secret}`, "hex");
}

/** The URL the post goes to: the hook's callback URL with `checksum=` added to its query. */
export function signedCallbackUrl(callbackURL: string, checksum: string): string {
  return `${callbackURL}${callbackURL.includes("?") ? "&" : "?"}checksum=${checksum}`;
}
