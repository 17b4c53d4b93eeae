/**
 * The commands that take a node out of the balancer before its VM goes, through the balancer's admin API
 * (`POST /admin/nodes/<id>/drain`, `GET /admin/nodes/<id>`, `POST .../panic`, `POST .../enable`). The admin token
 * comes from the environment (`BALANCER_ADMIN_TOKEN`) and reaches curl as a config file on stdin, written with
 * `printf` (a shell builtin): it is in no command line.
 */

export const adminTokenVariable = "BALANCER_ADMIN_TOKEN";

/** How a drain reaches the balancer and how long it waits, for any node. */
export interface DrainTiming {
  /** The admin API's base, e.g. `https://api.example.org` (traefik routes `/admin` there, allow-listed). */
  readonly adminBaseUrl: string;
  /** How long the node may take to empty. */
  readonly timeoutSeconds: number;
  /** The operator's consent to end the meetings still running when the wait is over. */
  readonly panicOnTimeout: boolean;
  /** Seconds between looks at the node's state. */
  readonly pollSeconds: number;
}

export interface DrainSettings extends DrainTiming {
  readonly nodeId: string;
}

/** Shell helpers: `admin <curl args>` prints the HTTP status of an admin API call; its body goes to $body. */
const adminFunctions = [
  "set -u",
  'body=$(mktemp)',
  `trap 'rm -f "$body"' EXIT`,
  "admin() {",
  `  printf 'header = "Authorization: Bearer %s"\\n' "$${adminTokenVariable}" |`,
  `    curl -sS --max-time 15 -K - -o "$body" -w '%{http_code}' "$@"`,
  "}",
  `is_disabled() { grep -q '"state" *: *"disabled"' "$body"; }`,
];

/**
 * `drain_node <id>`: drains a node and waits (bounded) until the balancer reports it `disabled` (no meetings
 * left). Past the deadline it panics (ends the node's meetings) only with the operator's consent; otherwise it
 * fails, and so does the deletion: the node stays and serves its meetings. A node the balancer does not list has
 * nothing to drain.
 */
function drainFunctions(timing: DrainTiming): string[] {
  const onTimeout = timing.panicOnTimeout
    ? [
        `  echo "$1: still has meetings after ${timing.timeoutSeconds} s; ending them (bbb.fleet.drain.panicOnTimeout)" >&2`,
        '  status=$(admin -X POST "$node_url/panic") || status=000',
        '  [ "$status" = 200 ] && return 0',
        '  echo "$1: panic refused (HTTP $status): $(cat "$body")" >&2',
        "  return 1",
      ]
    : [
        `  echo "$1: still has meetings after ${timing.timeoutSeconds} s; the node stays. Run pulumi up again later, or set bbb.fleet.drain.panicOnTimeout: true to end them." >&2`,
        "  return 1",
      ];
  return [
    ...adminFunctions,
    "drain_node() {",
    `  node_url="${timing.adminBaseUrl.replace(/\/$/, "")}/admin/nodes/$1"`,
    '  status=$(admin -X POST "$node_url/drain") || status=000',
    '  case "$status" in',
    "    200) ;;",
    '    404) echo "$1: the balancer does not list this node; nothing to drain"; return 0 ;;',
    `    *) echo "$1: the balancer's admin API did not drain it (HTTP $status): $(cat "$body")" >&2; return 1 ;;`,
    "  esac",
    `  deadline=$(( $(date +%s) + ${timing.timeoutSeconds} ))`,
    '  while [ "$(date +%s)" -lt "$deadline" ]; do',
    '    status=$(admin "$node_url") || status=000',
    '    if [ "$status" = 200 ] && is_disabled; then echo "$1: drained"; return 0; fi',
    `    sleep ${timing.pollSeconds}`,
    "  done",
    ...onTimeout,
    "}",
  ];
}

/** Drains one node (see `drain_node`); the delete step of the node's NodeDrain. */
export function drainCommand(settings: DrainSettings): string {
  return [...drainFunctions(settings), `drain_node '${settings.nodeId}' || exit 1`].join("\n");
}

/**
 * The fleet's roster: prints the node ids on its last line and, when run again with the previous run's output
 * (@pulumi/command hands it over as PULUMI_COMMAND_STDOUT), first drains every node that has left the list. The
 * balancer's config waits for it, so a removed node is drained while the balancer still lists it.
 */
export function rosterCommand(timing: DrainTiming, nodeIds: readonly string[]): string {
  return [
    ...drainFunctions(timing),
    `current='${nodeIds.join(" ")}'`,
    `previous=$(printf '%s\\n' "\${PULUMI_COMMAND_STDOUT:-}" | tail -n 1)`,
    "for id in $previous; do",
    '  case " $current " in',
    '    *" $id "*) ;;',
    '    *) drain_node "$id" >&2 || exit 1 ;;',
    "  esac",
    "done",
    'echo "$current"',
  ].join("\n");
}

/**
 * After a replacement the node's id is back with a new machine, but the balancer still holds it `disabled` from
 * the drain: it takes meetings again. Best effort: a balancer not yet reachable (a new stack) is no error.
 */
export function enableAfterReplacementCommand(settings: DrainSettings): string {
  const id = settings.nodeId;
  return [
    ...adminFunctions,
    `node_url='${settings.adminBaseUrl.replace(/\/$/, "")}/admin/nodes/${id}'`,
    'status=$(admin "$node_url") || status=000',
    'if [ "$status" = 200 ] && is_disabled; then',
    '  status=$(admin -X POST "$node_url/enable") || status=000',
    `  [ "$status" = 200 ] && echo "${id}: enabled again" || echo "${id}: could not enable it (HTTP $status); use mediaplane-admin enable ${id}" >&2`,
    "fi",
    "exit 0",
  ].join("\n");
}
