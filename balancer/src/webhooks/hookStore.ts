import { randomUUID } from "node:crypto";
import { keys } from "../store/keys.js";
import type { RedisClient } from "../store/redisClient.js";
import { LuaScript } from "../store/script.js";
import type { HookView } from "./hookXml.js";

/**
 * A tenant's webhooks in Redis, under the tenant's hash tag: `hooks` (hookID -> JSON) and `hookUrls`
 * (callbackURL -> hookID). As in bbb-webhooks, a callback URL has one hook (a second create answers the first
 * one's ID), hook IDs are random UUIDs, and tenants' hooks are never permanent; nothing here is shared between
 * tenants, so no call of one tenant can name, list or remove another's hook.
 */

/** What a tenant asks for: its hooks are never permanent, and raw data is not relayed. */
export type NewHook = Pick<HookView, "callbackURL" | "meetingID" | "eventID">;

export interface StoredHook extends NewHook {
  readonly hookID: string;
  /** Creation time (ms), for listing in creation order. */
  readonly createdAt: number;
}

export type CreateOutcome =
  | { readonly kind: "created"; readonly hook: StoredHook }
  | { readonly kind: "duplicate"; readonly hookID: string }
  | { readonly kind: "full" };

const createScript = new LuaScript(`
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {'duplicate', existing} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {'full', ''} end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {'created', ARGV[2]}
`);

const destroyScript = new LuaScript(`
local hook = redis.call('HGET', KEYS[1], ARGV[1])
if not hook then return 0 end
local url = cjson.decode(hook).callbackURL
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[2], url) == ARGV[1] then redis.call('HDEL', KEYS[2], url) end
return 1
`);

export async function createHook(redis: RedisClient, tenant: string, hook: NewHook, maxHooks: number): Promise<CreateOutcome> {
  const stored: StoredHook = { hookID: randomUUID(), createdAt: Date.now(), ...hook };
  const [kind, hookID] = (await createScript.run(redis, [keys.hooks(tenant), keys.hookUrls(tenant)], [
    hook.callbackURL,
    stored.hookID,
    JSON.stringify(stored),
    maxHooks,
  ])) as [string, string];
  if (kind === "duplicate") return { kind, hookID };
  return kind === "full" ? { kind } : { kind: "created", hook: stored };
}

/** Whether the hook existed (and is gone now). */
export async function destroyHook(redis: RedisClient, tenant: string, hookID: string): Promise<boolean> {
  return (await destroyScript.run(redis, [keys.hooks(tenant), keys.hookUrls(tenant)], [hookID])) === 1;
}

function parsed(json: string): StoredHook | undefined {
  try {
    const value = JSON.parse(json) as Partial<StoredHook>;
    return typeof value.hookID === "string" && typeof value.callbackURL === "string" && typeof value.createdAt === "number" ? (value as StoredHook) : undefined;
  } catch {
    return undefined;
  }
}

/** Every hook of a tenant, in creation order. */
export async function listHooks(redis: RedisClient, tenant: string): Promise<StoredHook[]> {
  const all = Object.values(await redis.hgetall(keys.hooks(tenant)));
  return all
    .map(parsed)
    .filter((hook): hook is StoredHook => hook !== undefined)
    .sort((a, b) => a.createdAt - b.createdAt || (a.hookID < b.hookID ? -1 : 1));
}

export function isGlobal(hook: StoredHook): boolean {
  return hook.meetingID === undefined;
}

/** The hooks that get an event of this meeting: global ones and those for this meeting (bbb-webhooks' onEvent). */
export function hooksForMeeting(hooks: readonly StoredHook[], meetingID: string): StoredHook[] {
  return hooks.filter((hook) => isGlobal(hook) || hook.meetingID === meetingID);
}

/** Whether a hook limited to some events (`eventID`) takes this one; compared lower-cased, as bbb-webhooks does. */
export function takesEvent(hook: StoredHook, eventId: string): boolean {
  return hook.eventID === undefined || hook.eventID.includes(eventId.toLowerCase());
}

export function hookView(hook: StoredHook): HookView {
  return { hookID: hook.hookID, callbackURL: hook.callbackURL, meetingID: hook.meetingID, eventID: hook.eventID, permanentHook: false, rawData: false };
}
