import { createHmac } from "node:crypto";
import type { TenantEntry } from "../tenancy/directory.js";
import { playbackToken, tokenParameter } from "./token.js";

/** The key playback tokens are signed with: derived from the callback key, which every replica shares. */
export function playbackKey(callbackKey: string): string {
  return createHmac("sha256", callbackKey).update("mediaplane playback tokens").digest("hex");
}

export interface PlaybackLinkSettings {
  /** Tenants' hosts are `<tenant>.<baseDomain>`; playback is served there (docs/recordings.md). */
  readonly baseDomain: string;
  readonly key: string;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

/**
 * The URL a tenant is given for a playback or preview path: on the tenant's own host, with a token that opens
 * this recording only when the tenant protects its playback.
 */
export function playbackUrl(settings: PlaybackLinkSettings, tenant: TenantEntry, recordId: string, path: string): string {
  const url = new URL(path, `https://${tenant.slug}.${settings.baseDomain}`);
  const protection = tenant.config.protectedPlayback;
  if (protection !== undefined) {
    const expiresAt = Math.floor(settings.now() / 1000) + protection.tokenSeconds;
    url.searchParams.set(tokenParameter, playbackToken(settings.key, recordId, expiresAt));
  }
  return url.toString();
}
