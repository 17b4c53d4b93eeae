/**
 * The commands that take a node out of the balancer before its VM goes, through the balancer's admin API
 * (`POST /admin/nodes/<id>/drain`, `GET /admin/nodes/<id>`, `POST .../panic`, `POST .../enable`). The admin token
 * comes from the environment (`BALANCER_ADMIN_TOKEN`) and reaches curl as a config file on stdin, written with
 * `printf` (a shell builtin): it is in no command line.
 */

export const adminTokenVariable = "BALANCER_ADMIN_TOKEN";

export interface DrainSettings {
  /** The admin API's base, e.g. `https://api.example.org` (traefik routes `/admin` there, allow-listed). */
  readonly adminBaseUrl: string;
  readonly nodeId: string;
  /** How long the node may take to empty. */
  readonly timeoutSeconds: number;
  /** The operator's consent to end the meetings still running when the wait is over. */
  readonly panicOnTimeout: boolean;
  /** Seconds between looks at the node's state. */
  readonly pollSeconds: number;
}

/** Shell helpers every admin command starts with: `admin <curl args>` prints the HTTP status, the body goes to $body. */
function adminPrelude(settings: DrainSettings): string[] {
  return [
    "set -u",
    `node_url='${settings.adminBaseUrl.replace(/\/$/, "")}/admin/nodes/${settings.nodeId}'`,
    'body=$(mktemp)',
    `trap 'rm -f "$body"' EXIT`,
    "admin() {",
    `  printf 'header = "Authorization: Bearer %s"\\n' "$${adminTokenVariable}" |`,
    `    curl -sS --max-time 15 -K - -o "$body" -w '%{http_code}' "$@"`,
    "}",
    `is_disabled() { grep -q '"state" *: *"disabled"' "$body"; }`,
  ];
}

/**
 * Drains the node and waits (bounded) until the balancer reports it `disabled` (no meetings left). Past the
 * deadline it panics (ends the node's meetings) only with the operator's consent; otherwise it fails, and so does
 * the deletion: the node stays and serves its meetings. A node the balancer does not list has nothing to drain.
 */
export function drainCommand(settings: DrainSettings): string {
  const id = settings.nodeId;
  const onTimeout = settings.panicOnTimeout
    ? [
        `echo "${id}: still has meetings after ${settings.timeoutSeconds} s; ending them (bbb.fleet.drain.panicOnTimeout)" >&2`,
        'status=$(admin -X POST "$node_url/panic") || status=000',
        '[ "$status" = 200 ] && exit 0',
        `echo "${id}: panic refused (HTTP $status): $(cat "$body")" >&2`,
        "exit 1",
      ]
    : [
        `echo "${id}: still has meetings after ${settings.timeoutSeconds} s; the node stays. Run pulumi up again later, or set bbb.fleet.drain.panicOnTimeout: true to end them." >&2`,
        "exit 1",
      ];
  return [
    ...adminPrelude(settings),
    'status=$(admin -X POST "$node_url/drain") || status=000',
    'case "$status" in',
    "  200) ;;",
    `  404) echo "${id}: the balancer does not list this node; nothing to drain"; exit 0 ;;`,
    `  *) echo "${id}: the balancer's admin API did not drain it (HTTP $status): $(cat "$body")" >&2; exit 1 ;;`,
    "esac",
    `deadline=$(( $(date +%s) + ${settings.timeoutSeconds} ))`,
    'while [ "$(date +%s)" -lt "$deadline" ]; do',
    '  status=$(admin "$node_url") || status=000',
    `  if [ "$status" = 200 ] && is_disabled; then echo "${id}: drained"; exit 0; fi`,
    `  sleep ${settings.pollSeconds}`,
    "done",
    ...onTimeout,
  ].join("\n");
}

/**
 * After a replacement the node's id is back with a new machine, but the balancer still holds it `disabled` from
 * the drain: it takes meetings again. Best effort: a balancer not yet reachable (a new stack) is no error.
 */
export function enableAfterReplacementCommand(settings: DrainSettings): string {
  const id = settings.nodeId;
  return [
    ...adminPrelude(settings),
    'status=$(admin "$node_url") || status=000',
    'if [ "$status" = 200 ] && is_disabled; then',
    '  status=$(admin -X POST "$node_url/enable") || status=000',
    `  [ "$status" = 200 ] && echo "${id}: enabled again" || echo "${id}: could not enable it (HTTP $status); use mediaplane-admin enable ${id}" >&2`,
    "fi",
    "exit 0",
  ].join("\n");
}
