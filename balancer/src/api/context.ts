import type { JoinCharges } from "../store/joinCharges.js";
import type { MeetingNodeLookups } from "../store/meetingNodeLookups.js";
import type { RedisClient } from "../store/redisClient.js";
import type { NodeClients, NodeRequestBody } from "../nodes/client.js";
import type { Directory, TenantEntry } from "../tenancy/directory.js";
import type { Logger } from "../observability/logger.js";
import type { WebhookSettings } from "../config/schema.js";
import type { CallbackPolicy } from "../webhooks/callbackPolicy.js";

/** What every call handler works with; built for each config version, and kept by a request from start to end. */
export interface ApiContext {
  readonly redis: RedisClient;
  /** Where tenants' meetings live: the read of every join, in batches (see `store/meetingNodeLookups.ts`). */
  readonly meetingNodes: MeetingNodeLookups;
  /** Joins counted on their nodes' loads after the answer, in batches (`store/joinCharges.ts`). */
  readonly joinCharges: JoinCharges;
  readonly directory: Directory;
  readonly nodes: NodeClients;
  /**
   * Where nodes send end callbacks (`PUBLIC_URL`, else `https://<BASE_DOMAIN>`: never a request's Host, which
   * anyone can forge), and the key that signs them.
   */
  readonly endCallback: { readonly baseUrl: string; readonly key: string };
  /**
   * Pool members this replica's config does not name, met by earlier placements (during a rolling update, nodes
   * the other version's pollers keep in the pools): every placement skips them. The set is this config version's,
   * so it only grows, by at most the nodes two versions disagree on, and a node added by a later version is not in it.
   */
  readonly unconfiguredNodes: Set<string>;
  /** Random numbers in [0, 1) for breaking placement ties. */
  readonly random: () => number;
  /** Fire-and-forget HTTP GET (a tenant's end callback); must never throw. */
  readonly notify: (url: string) => void;
  /** The recording calls' share and playback links (docs/recordings.md). */
  readonly recordings: {
    /** Where the recordings share is mounted; without it the recording API reads the index but changes nothing. */
    readonly shareRoot?: string | undefined;
    readonly logger: Logger;
    /** The absolute URL of a playback or preview path of one of the tenant's recordings. */
    readonly playbackUrl: (tenant: TenantEntry, recordId: string, path: string) => string;
  };
  /** Assembled getMeetings answers per tenant, valid while the tenant's revision is unchanged. */
  readonly meetingsCache: Map<string, { readonly revision: string; readonly answer: Promise<PreparedXml> }>;
  /** Tenants' webhooks: the settings, and which callback URLs and addresses they may reach. */
  readonly webhooks: { readonly settings: WebhookSettings; readonly policy: CallbackPolicy };
}

/** One verified API request of a tenant. */
export interface ApiRequest {
  readonly tenant: TenantEntry;
  /** Which of the tenant's secrets signed it (limits per secret). */
  readonly secretIndex: number;
  readonly call: string;
  readonly params: URLSearchParams;
  /**
   * The same parameters as a query string, for what is passed on to a node: the client's raw query (its checksum
   * still in); for a form-only POST, the form's parameters form-encoded.
   */
  readonly query: string;
  /** A create's or insertDocument's XML `<modules>` document, passed to the node as is: nothing else of a body is. */
  readonly body?: NodeRequestBody | undefined;
  /** putRecordingTextTrack's multipart body (its `file`); never passed to a node. */
  readonly upload?: FormData | undefined;
}

/** An XML answer prepared once for many requests: its bytes, and a gzip copy for clients that accept gzip. */
export interface PreparedXml {
  readonly identity: Buffer;
  readonly gzipped: Buffer;
}

export type ApiAnswer =
  | { readonly kind: "xml"; readonly body: string }
  | { readonly kind: "preparedXml"; readonly body: PreparedXml }
  | { readonly kind: "json"; readonly body: string }
  /** `error`: the messageKey of a failed join whose browser is sent to an error page (`errorRedirectUrl`). */
  | { readonly kind: "redirect"; readonly location: string; readonly error?: string };

export const xmlAnswer = (body: string): ApiAnswer => ({ kind: "xml", body });
