import { validatePortRange, type PortRange } from "./coturn.js";

/** Janus ports: plain HTTP and WebSocket APIs (TLS ends at traefik) and the admin API, bound to loopback only. */
export const janusPorts = { http: 8088, websocket: 8188, admin: 7088 } as const;

export const janusPaths = { api: "/janus", admin: "/admin", recordings: "/recordings", configs: "/etc/janus" } as const;

/** System folders no API request may make Janus write into (recordings, `rec_dir` of a room created through the API). */
export const janusProtectedFolders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"] as const;

type JcfgScalar = string | number | boolean;
/** Lists are libconfig arrays (`[ "a", "b" ]`): Janus reads some settings only in that form (`protected_folders`). */
type JcfgValue = JcfgScalar | readonly string[];
type JcfgDocument = Record<string, Record<string, JcfgValue>>;

function jcfgScalar(value: JcfgScalar): string {
  if (typeof value === "string") return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  return String(value);
}

function jcfgValue(value: JcfgValue): string {
  if (typeof value === "object") return `[ ${value.map(jcfgScalar).join(", ")} ]`;
  return jcfgScalar(value);
}

/** libconfig text, the syntax of Janus's `.jcfg` files: one `name: { key = value }` group per section. */
export function renderJcfg(document: JcfgDocument): string {
  return Object.entries(document)
    .map(([section, entries]) => {
      const lines = Object.entries(entries).map(([key, value]) => `\t${key} = ${jcfgValue(value)}`);
      return `${section}: {\n${lines.join("\n")}\n}\n`;
    })
    .join("\n");
}

export interface JanusVideoRoom {
  /** Numeric room id. */
  id: number;
  /** Shown to participants. */
  description: string;
  /** Maximum number of publishers. */
  publishers: number;
  /** Per-publisher bitrate cap in bit/s. */
  bitrate: number;
}

export interface JanusConfigArgs {
  /** Name Janus reports in `info`. */
  serverName: string;
  /** Secret for the admin API (loopback only in any case). */
  adminSecret: string;
  /** Secret that signs the HMAC tokens clients must present (`token_auth`). */
  tokenAuthSecret: string;
  /** Key required to create, edit or destroy video rooms through the API. */
  videoRoomAdminKey: string;
  /** The node's public IP to put in every host candidate; `undefined` when it is passed at start (`--nat-1-1`). */
  nat1to1Mapping: string | undefined;
  /** UDP ports for media; these must be open on the node (AKS `allowedHostPorts`). */
  rtpPorts: PortRange;
  /** Origins allowed to call the HTTP API from a browser. */
  allowedOrigin: string;
  /** Rooms that exist at start, recorded to the recordings mount. */
  rooms: readonly JanusVideoRoom[];
  /** Janus log verbosity, 0 (none) to 7 (huge). */
  debugLevel: number;
}

export interface JanusConfigFiles {
  "janus.jcfg": string;
  "janus.transport.http.jcfg": string;
  "janus.transport.websockets.jcfg": string;
  "janus.plugin.videoroom.jcfg": string;
}

function requireSecret(name: string, value: string): void {
  if (value.length < 16) throw new Error(`${name}: must be at least 16 characters`);
}

/** The configuration files Janus reads from its configs folder. They carry secrets: mount them from a Secret. */
export function renderJanusConfig(args: JanusConfigArgs): JanusConfigFiles {
  requireSecret("adminSecret", args.adminSecret);
  requireSecret("tokenAuthSecret", args.tokenAuthSecret);
  requireSecret("videoRoomAdminKey", args.videoRoomAdminKey);
  validatePortRange("rtpPorts", args.rtpPorts);
  // No stun_server, ever: Janus 1.1 tests it at start and exits when it does not answer ("Invalid STUN address"), and
  // adds whatever address it reports to its public IPs, which from inside the cluster is a pod or node address.
  // The public address comes from nat_1_1_mapping alone (see publicAddress.ts).
  const nat: Record<string, JcfgValue> = {
    // Candidates are sent as they are gathered, both ways: faster setup, and what every modern client expects.
    full_trickle: true,
    ice_lite: false,
    ice_tcp: false,
    ignore_mdns: true,
    ...(args.nat1to1Mapping === undefined ? {} : { nat_1_1_mapping: args.nat1to1Mapping }),
    // With a 1:1 mapping the node's private address is useless to clients outside the virtual network.
    keep_private_host: false,
  };
  const janus = renderJcfg({
    general: {
      configs_folder: janusPaths.configs,
      server_name: args.serverName,
      log_to_stdout: true,
      debug_level: args.debugLevel,
      admin_secret: args.adminSecret,
      token_auth: true,
      token_auth_secret: args.tokenAuthSecret,
      session_timeout: 60,
      // An array: janus.c reads protected_folders only as one (a string is silently ignored).
      protected_folders: janusProtectedFolders,
    },
    media: { rtp_port_range: `${args.rtpPorts.min}-${args.rtpPorts.max}`, dtls_timeout: 500, nack_optimizations: true },
    nat,
    plugins: { disable: "libjanus_voicemail.so,libjanus_recordplay.so" },
    transports: { disable: "libjanus_rabbitmq.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so" },
  });
  const http = renderJcfg({
    general: { json: "compact", base_path: janusPaths.api, http: true, port: janusPorts.http, https: false },
    // The admin API answers on loopback only: with host networking anything else would be the node's public address.
    admin: {
      admin_base_path: janusPaths.admin,
      admin_http: true,
      admin_port: janusPorts.admin,
      admin_ip: "127.0.0.1",
      admin_https: false,
    },
    cors: { allow_origin: args.allowedOrigin },
  });
  const websockets = renderJcfg({
    general: { json: "compact", ws: true, ws_port: janusPorts.websocket, wss: false },
    admin: { admin_ws: false, admin_wss: false },
  });
  const videoRoom = renderJcfg({
    general: { admin_key: args.videoRoomAdminKey, lock_rtp_forward: true, lock_play_file: true },
    ...Object.fromEntries(
      args.rooms.map((room) => [
        `room-${room.id}`,
        {
          description: room.description,
          is_private: true,
          publishers: room.publishers,
          bitrate: room.bitrate,
          record: true,
          rec_dir: janusPaths.recordings,
        },
      ]),
    ),
  });
  return {
    "janus.jcfg": janus,
    "janus.transport.http.jcfg": http,
    "janus.transport.websockets.jcfg": websockets,
    "janus.plugin.videoroom.jcfg": videoRoom,
  };
}

/**
 * A preStop script (POSIX sh, curl) that waits until Janus holds no session, asking the admin API on loopback with
 * the admin secret read from the mounted janus.jcfg (never from the pod spec), for at most `deadlineSeconds`.
 * Clients whose tab is gone stop counting after `session_timeout`; a Janus that no longer answers has nothing to drain.
 */
export function janusDrainScript(deadlineSeconds: number): string {
  const listSessions = `{"janus":"list_sessions","transaction":"drain","admin_secret":"'"$secret"'"}`;
  return [
    `secret=$(sed -n 's/^[[:space:]]*admin_secret = "\\(.*\\)"$/\\1/p' ${janusPaths.configs}/janus.jcfg)`,
    `end=$(( $(date +%s) + ${deadlineSeconds} ))`,
    `while [ "$(date +%s)" -lt "$end" ]; do`,
    `  answer=$(curl -sS --max-time 5 -H 'Content-Type: application/json' -d '${listSessions}' http://127.0.0.1:${janusPorts.admin}${janusPaths.admin}) || exit 0`,
    `  case "$(printf '%s' "$answer" | tr -d ' \\t\\r\\n')" in *'"sessions":[]'*) exit 0 ;; esac`,
    "  sleep 5",
    "done",
    `echo "drain: sessions still open after ${deadlineSeconds}s" >&2`,
  ].join("\n");
}
