import { parameterKey } from "../bbb/parameterNames.js";
import { ConfigError, type ParameterPolicy } from "../config/schema.js";

type Call = "create" | "join";
type ValueKind = "boolean" | "integer" | "url" | "role";

/** Parameters the balancer itself owns: a policy on them would break routing, signing or isolation. */
const reserved: Readonly<Record<Call, ReadonlySet<string>>> = {
  create: new Set(["meetingID", "checksum"]),
  join: new Set(["meetingID", "checksum"]),
};

/** What bbb-web accepts for the parameters whose values have a shape (others are free text). */
const valueKinds: Readonly<Record<Call, Readonly<Record<string, ValueKind>>>> = {
  create: {
    record: "boolean",
    autoStartRecording: "boolean",
    allowStartStopRecording: "boolean",
    webcamsOnlyForModerator: "boolean",
    muteOnStart: "boolean",
    allowModsToUnmuteUsers: "boolean",
    allowModsToEjectCameras: "boolean",
    lockSettingsDisableCam: "boolean",
    lockSettingsDisableMic: "boolean",
    lockSettingsDisablePrivateChat: "boolean",
    lockSettingsDisablePublicChat: "boolean",
    lockSettingsDisableNotes: "boolean",
    lockSettingsHideUserList: "boolean",
    lockSettingsLockOnJoin: "boolean",
    endWhenNoModerator: "boolean",
    notifyRecordingIsOn: "boolean",
    virtualBackgroundsDisabled: "boolean",
    duration: "integer",
    maxParticipants: "integer",
    voiceBridge: "integer",
    meetingExpireIfNoUserJoinedInMinutes: "integer",
    meetingExpireWhenLastUserLeftInMinutes: "integer",
    endWhenNoModeratorDelayInMinutes: "integer",
    userCameraCap: "integer",
    meetingCameraCap: "integer",
    logo: "url",
    logoutURL: "url",
  },
  join: {
    redirect: "boolean",
    guest: "boolean",
    excludeFromDashboard: "boolean",
    role: "role",
    logoutURL: "url",
    errorRedirectUrl: "url",
    avatarURL: "url",
  },
};

function valid(kind: ValueKind, value: string): boolean {
  switch (kind) {
    case "boolean":
      return value === "true" || value === "false";
    case "integer":
      return /^-?\d{1,9}$/.test(value);
    case "role":
      return value === "MODERATOR" || value === "VIEWER";
    case "url":
      return URL.canParse(value) && /^https?:/.test(value);
  }
}

/**
 * The policies of one call, global ones first and the tenant's on top, keyed by the name as a node reads it
 * (`parameterKey`: `meta_Blocked` is `meta_blocked`, as bbb-web lower-cases metadata names). Each is checked
 * against what bbb-web accepts for that parameter, so a typo in the config fails at start (naming the tenant,
 * call and parameter) instead of breaking every create on the nodes.
 */
export function validatedPolicies(call: Call, layers: readonly Readonly<Record<string, ParameterPolicy>>[], tenant: string): ReadonlyMap<string, ParameterPolicy> {
  const merged = new Map<string, ParameterPolicy>();
  for (const layer of layers) {
    const namesInLayer = new Map<string, string>();
    for (const [name, policy] of Object.entries(layer)) {
      const key = parameterKey(name);
      const twin = namesInLayer.get(key);
      if (twin !== undefined) {
        throw new ConfigError(`tenant ${tenant}: policies.${call}.${name}: names the same parameter as ${twin} (a node reads metadata names in lower case)`);
      }
      namesInLayer.set(key, name);
      merged.set(key, policy);
    }
  }
  for (const [name, policy] of merged) {
    const where = `tenant ${tenant}: policies.${call}.${name}`;
    if (reserved[call].has(name) || name.toLowerCase().startsWith("meta_mediaplane-")) throw new ConfigError(`${where}: the balancer sets this parameter itself; it cannot have a policy`);
    const kind = valueKinds[call][name];
    if (policy.mode !== "block" && kind !== undefined && !valid(kind, policy.value)) {
      throw new ConfigError(`${where}: "${policy.value}" is not a valid ${kind}`);
    }
  }
  return merged;
}
