import { computeChecksum } from "../../src/bbb/checksum.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSandbox, type Sandbox } from "../../src/sandbox/startSandbox.js";

/** The sandbox as `npm run sandbox` runs it, on free ports, polling every second so tests see changes soon. */
export function startConsoleSandbox(): Promise<Sandbox> {
  return startSandbox({ apiPort: 0, adminPort: 0, pollIntervalSeconds: 1, logger: createLogger({ name: "console-test", level: "silent" }) });
}

/** A signed BBB API call of a sandbox tenant, as any BBB client sends it. */
export function tenantCallUrl(sandbox: Sandbox, slug: string, call: string, params: Record<string, string>): string {
  const tenant = sandbox.tenants.find((candidate) => candidate.slug === slug);
  if (tenant === undefined) throw new Error(`no sandbox tenant ${slug}`);
  const query = new URLSearchParams(params).toString();
  return `${sandbox.api.url}/t/${slug}/bigbluebutton/api/${call}?${query}&checksum=${computeChecksum("sha256", call, query, tenant.secret)}`;
}

export async function createMeeting(sandbox: Sandbox, slug: string, meetingId: string): Promise<void> {
  const answer = await (await fetch(tenantCallUrl(sandbox, slug, "create", { name: `Meeting ${meetingId}`, meetingID: meetingId }))).text();
  if (!answer.includes("<returncode>SUCCESS</returncode>")) throw new Error(`create ${slug}/${meetingId} failed: ${answer}`);
}

/** A join as a browser makes it: the balancer's redirect, followed to the node, which admits the attendee. */
export async function joinMeeting(sandbox: Sandbox, slug: string, meetingId: string, fullName: string): Promise<void> {
  const toNode = await fetch(tenantCallUrl(sandbox, slug, "join", { meetingID: meetingId, fullName, role: "VIEWER" }), { redirect: "manual" });
  const location = toNode.headers.get("location");
  if (toNode.status !== 302 || location === null) throw new Error(`join ${slug}/${meetingId}: ${toNode.status}`);
  const atNode = await fetch(location, { redirect: "manual" });
  if (!(atNode.headers.get("location") ?? "").includes("sessionToken=")) throw new Error(`the node refused the join of ${slug}/${meetingId}`);
}

/** Logs in through the form as a browser would (nonce cookie, then the form); answers the session cookie. */
export async function loginCookie(sandbox: Sandbox, operator = "Robin"): Promise<string> {
  const form = await fetch(`${sandbox.admin.url}/admin/console/login`);
  const nonceCookie = (form.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const nonce = /name="nonce" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
  const answer = await fetch(`${sandbox.admin.url}/admin/console/login`, {
    method: "POST",
    headers: { cookie: nonceCookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ nonce, operator, token: sandbox.adminToken }).toString(),
    redirect: "manual",
  });
  const session = answer.headers.getSetCookie().find((cookie) => cookie.startsWith("mp_console="));
  if (answer.status !== 303 || session === undefined) throw new Error(`login failed: ${answer.status}`);
  return session.split(";")[0] ?? "";
}
