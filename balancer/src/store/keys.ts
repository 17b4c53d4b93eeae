/**
 * Every Redis key the balancer uses, in one place. The full schema with types and writers is documented in
 * `docs/redis-keys.md`; keep the two in step.
 *
 * Keys that one Lua script or MULTI touches together share a hash tag, so the schema works on a clustered Redis:
 * - `{c:<cluster>}`: a cluster's placement pool and its nodes' records (placement, poll results, state changes);
 * - `{t:<tenant>}`: a tenant's meeting mappings and the meeting summaries getMeetings is assembled from;
 * - `{fleet}`: fleet-wide records (poller leases, voice bridge numbers, the node registry);
 * - `{r:<tenant>}`: a tenant's recordings index (rebuilt from the share at will, see docs/recordings.md).
 * A create touches a cluster slot and a tenant slot in two steps, never in one script.
 */
export const keyPrefix = "mp:";

export const keys = {
  /** ZSET nodeId -> load: the nodes of a cluster that may take a new meeting now (enabled and healthy). */
  pool: (cluster: string) => `${keyPrefix}{c:${cluster}}:pool`,
  /** HASH: a node's runtime record (state, health, counters, last poll); see docs/redis-keys.md for its fields. */
  node: (cluster: string, nodeId: string) => `${keyPrefix}{c:${cluster}}:node:${nodeId}`,
  /**
   * ZSET nodeId -> until when (Redis ms) the node gets no new meetings: it failed a create, and placement on
   * every replica skips it without waiting for the poller to find it down.
   */
  holdOut: (cluster: string) => `${keyPrefix}{c:${cluster}}:holdout`,
  /** SET of `<tenant>\n<meetingID>`: the meetings mapped to a node, so a poll or a panic can release them. */
  nodeMeetings: (cluster: string, nodeId: string) => `${keyPrefix}{c:${cluster}}:node:${nodeId}:meetings`,
  /** HASH meetingID -> nodeId: where each live meeting of a tenant runs. A join reads only this. */
  meetings: (tenant: string) => `${keyPrefix}{t:${tenant}}:meetings`,
  /**
   * HASH meetingID -> `<nodeId>\n<expires at, Redis ms>[\nend]`: a create sent to the node and not yet answered.
   * Evidence that the meeting is gone does not release it meanwhile (the node has not made it yet), and an end
   * meanwhile is marked (`end`) for the create to carry out once the node has the meeting.
   */
  creating: (tenant: string) => `${keyPrefix}{t:${tenant}}:creating`,
  /** HASH meetingID -> id of the tenant secret that created it (`secretId`), for limits per secret. */
  meetingSecrets: (tenant: string) => `${keyPrefix}{t:${tenant}}:secrets`,
  /**
   * HASH meetingID -> attendees: each meeting's count as its node's last poll saw it, plus the joins admitted
   * since. Attendee limits are checked against it at join and create.
   */
  attendees: (tenant: string) => `${keyPrefix}{t:${tenant}}:attendees`,
  /** HASH meetingID -> the tenant's `<meeting>` XML (from the create answer, then from each poll): getMeetings without fan-out. */
  summaries: (tenant: string) => `${keyPrefix}{t:${tenant}}:summaries`,
  /** STRING counter bumped on every change of a tenant's meetings or summaries, so replicas can cache getMeetings. */
  revision: (tenant: string) => `${keyPrefix}{t:${tenant}}:rev`,
  /** HASH sha256(meetingID) -> meetingID for meeting IDs too long to carry readably to a node. */
  longMeetingIds: (tenant: string) => `${keyPrefix}{t:${tenant}}:long`,
  /** HASH hookID -> JSON of a tenant's webhook (callbackURL, meetingID, eventID, createdAt); see webhooks/hookStore.ts. */
  hooks: (tenant: string) => `${keyPrefix}{t:${tenant}}:hooks`,
  /** HASH callbackURL -> hookID: one hook per callback URL and tenant, as bbb-webhooks has one per URL. */
  hookUrls: (tenant: string) => `${keyPrefix}{t:${tenant}}:hookurls`,
  /** STRING with expiry: the poller that holds the lease of one node for the current interval. */
  pollLease: (nodeId: string) => `${keyPrefix}{fleet}:lease:${nodeId}`,
  /**
   * ZSET `<cluster>/<nodeId>` -> when (Redis ms) a running process's config last named the node: every node Redis
   * holds records of, so nodes dropped from the config can be found and retired without walking the keyspace.
   */
  nodeRegistry: () => `${keyPrefix}{fleet}:nodes`,
  /** LIST of JSON records, newest first, capped: meetings polls found running on two nodes, and what was done. */
  recentDuplicates: () => `${keyPrefix}{fleet}:duplicates`,
  /** HASH voiceBridge -> `<tenant>\n<meetingID>`: voice bridge numbers in use across the fleet. */
  voiceBridges: () => `${keyPrefix}{fleet}:voicebridges`,
  /** STRING JSON `{ recording, fingerprint }`: one indexed recording (IndexedRecording) and what of the share it was read from. */
  recording: (tenant: string, recordId: string) => `${keyPrefix}{r:${tenant}}:rec:${recordId}`,
  /** ZSET recordID -> start time (ms): a tenant's recordings in getRecordings order; `state` set: only that state's. */
  recordingsByStart: (tenant: string, state?: string) => `${keyPrefix}{r:${tenant}}:recs${state === undefined ? "" : `:${state}`}`,
  /** ZSET recordID -> 0: a tenant's record IDs in lexical order, for record ID prefixes. */
  recordIds: (tenant: string) => `${keyPrefix}{r:${tenant}}:ids`,
  /** SET of record IDs of one of a tenant's meetings, keyed by sha256(meetingID) (meeting IDs can be long). */
  meetingRecordings: (tenant: string, meetingIdHash: string) => `${keyPrefix}{r:${tenant}}:meeting:${meetingIdHash}`,
  /** STRING with expiry: an importer is indexing this recording now (SET NX), so racing importers do it once. */
  recordingImport: (tenant: string, recordId: string) => `${keyPrefix}{r:${tenant}}:importing:${recordId}`,
  /** HASH recordID -> tenant: whose a record ID is, for playback URLs that carry nothing but the record ID. */
  recordingTenants: () => `${keyPrefix}{recordings}:tenants`,
  /** HASH with expiry, keyed by sha256(session ID): an operator's console session (operator, CSRF token, since). */
  consoleSession: (sessionIdHash: string) => `${keyPrefix}{console}:session:${sessionIdHash}`,
  /** LIST of JSON entries, newest first, bounded: actions taken through the console and the admin API. */
  consoleAudit: () => `${keyPrefix}{console}:audit`,
} as const;
