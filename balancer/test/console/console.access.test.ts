import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminServer } from "../../src/admin/adminServer.js";
import { contentSecurityPolicy } from "../../src/admin/console/securityHeaders.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Sandbox } from "../../src/sandbox/startSandbox.js";
import { keys } from "../../src/store/keys.js";
import { createMeeting, loginCookie, startConsoleSandbox } from "./sandboxConsole.js";

/** Access to the operator console over plain HTTP: what a browser without a session, or another site, can do. */
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startConsoleSandbox();
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

const url = (path: string): string => `${sandbox.admin.url}/admin/console${path}`;
const form = (fields: Record<string, string>): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
  redirect: "manual",
});
const nodeState = async (id: string): Promise<string | null> => sandbox.api.redis.hget(keys.node("default", id), "state");
const csrfOf = async (cookie: string): Promise<string> => {
  const page = await (await fetch(url("/fleet"), { headers: { cookie } })).text();
  return /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
};

describe("the console without a session", () => {
  it.each(["", "/", "/fleet", "/tenants", "/meetings", "/fleet/bbb1/cordon", "/meetings/acme/x/end", "/fleet?sort=load"])("sends GET %s to the login page, showing nothing", async (path) => {
    const answer = await fetch(url(path), { redirect: "manual" });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/admin/console/login");
    expect(await answer.text()).not.toContain("bbb1");
  });

  it.each(["/fleet/bbb1/cordon", "/fleet/bbb1/panic", "/meetings/acme/x/end", "/logout"])("refuses POST %s with 401, and nothing changes", async (path) => {
    const answer = await fetch(url(path), form({ csrf: "anything" }));
    expect(answer.status).toBe(401);
    expect(await nodeState("bbb1")).not.toBe("cordoned");
    expect(await nodeState("bbb1")).not.toBe("panic");
  });

  it("is not opened by the admin API's bearer token: the console takes only its own session", async () => {
    const answer = await fetch(url("/fleet"), { headers: { authorization: `Bearer ${sandbox.adminToken}` }, redirect: "manual" });
    expect(answer.status).toBe(303);
  });

  it("refuses a login with a wrong token and opens no session", async () => {
    const page = await fetch(url("/login"));
    const nonceCookie = (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const nonce = /name="nonce" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    const answer = await fetch(url("/login"), { ...form({ nonce, operator: "Mallory", token: `${sandbox.adminToken}x` }), headers: { cookie: nonceCookie, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(401);
    expect(answer.headers.getSetCookie().some((cookie) => cookie.startsWith("mp_console="))).toBe(false);
    expect(await answer.text()).toContain("Wrong admin token.");
  });

  it("refuses a login form posted without the nonce cookie its page set (login CSRF)", async () => {
    const answer = await fetch(url("/login"), form({ nonce: "forged", operator: "Mallory", token: sandbox.adminToken }));
    expect(answer.status).toBe(403);
    expect(answer.headers.getSetCookie().some((cookie) => cookie.startsWith("mp_console="))).toBe(false);
  });
});

describe("the console with a session", () => {
  it("sets the session cookie HttpOnly, Secure, SameSite=Strict, scoped to /admin", async () => {
    const page = await fetch(url("/login"));
    const nonceCookie = (page.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const nonce = /name="nonce" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    const answer = await fetch(url("/login"), { ...form({ nonce, operator: "Robin", token: sandbox.adminToken }), headers: { cookie: nonceCookie, "content-type": "application/x-www-form-urlencoded" } });
    const session = answer.headers.getSetCookie().find((cookie) => cookie.startsWith("mp_console="));
    expect(session).toMatch(/^mp_console=[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/);
  });

  it("refuses an action without the CSRF token, and the node keeps its state", async () => {
    const cookie = await loginCookie(sandbox);
    const answer = await fetch(url("/fleet/bbb2/cordon"), { ...form({}), headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain("missing or wrong CSRF token");
    expect(await nodeState("bbb2")).toBe("enabled");
  });

  it("refuses an action with another session's CSRF token", async () => {
    const [mine, theirs] = [await loginCookie(sandbox, "Robin"), await loginCookie(sandbox, "Sam")];
    const answer = await fetch(url("/fleet/bbb2/drain"), { ...form({ csrf: await csrfOf(theirs) }), headers: { cookie: mine, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(403);
    expect(await nodeState("bbb2")).toBe("enabled");
  });

  it("refuses an action posted from another site even with the right CSRF token", async () => {
    const cookie = await loginCookie(sandbox);
    const answer = await fetch(url("/fleet/bbb2/disable"), {
      ...form({ csrf: await csrfOf(cookie) }),
      headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
    });
    expect(answer.status).toBe(403);
    expect(await nodeState("bbb2")).toBe("enabled");
  });

  it.each(["null", "not a url"])("refuses an action whose Origin is %j, even with the right CSRF token", async (origin) => {
    const cookie = await loginCookie(sandbox);
    const answer = await fetch(url("/fleet/bbb2/disable"), { ...form({ csrf: await csrfOf(cookie) }), headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(403);
    expect(await nodeState("bbb2")).toBe("enabled");
  });

  it("carries out an action with the session's CSRF token and logs who did it", async () => {
    const cookie = await loginCookie(sandbox, "Casey");
    const answer = await fetch(url("/fleet/bbb2/cordon"), { ...form({ csrf: await csrfOf(cookie) }), headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(303);
    expect(await nodeState("bbb2")).toBe("cordoned");
    const [latest] = await sandbox.api.redis.lrange(keys.consoleAudit(), 0, 0);
    expect(JSON.parse(latest ?? "{}")).toMatchObject({ who: "Casey (console, 127.0.0.1)", action: "cordon", target: "bbb2", outcome: "enabled -> cordoned" });
    await fetch(url("/fleet/bbb2/enable"), { ...form({ csrf: await csrfOf(cookie) }), headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
  });

  it("shows hostile meeting IDs and names as text, never as markup", async () => {
    await createMeeting(sandbox, "acme", `<img src=x onerror=alert(1)>"'`);
    const cookie = await loginCookie(sandbox);
    const page = await (await fetch(url("/meetings?tenant=acme"), { headers: { cookie } })).text();
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;");
    expect(page).not.toContain("<img");
  });

  it("shows a failing node's failed polls in its health history, with the error and the node unhealthy", async () => {
    const cookie = await loginCookie(sandbox);
    const simulated = sandbox.simulator.node("bbb3");
    simulated.setFailure("error500");
    try {
      const rowOf = async (): Promise<string> => {
        const page = await (await fetch(url("/fleet"), { headers: { cookie } })).text();
        return /<tr data-node="bbb3"[\s\S]*?<\/tr>/.exec(page)?.[0] ?? "";
      };
      await expect.poll(rowOf, { timeout: 10_000, interval: 200 }).toMatch(/class="health unhealthy"/);
      const row = await rowOf();
      // Two failed polls (unhealthyAfter) at the end of the history, and the reason beside them.
      expect(row).toMatch(/<i class="fail"><\/i><i class="fail"><\/i><\/span>/);
      expect(row).toMatch(/<td class="error">\w+: [^<]+<\/td>/);
    } finally {
      simulated.setFailure("none");
    }
    await expect.poll(async () => (await sandbox.api.redis.hget(keys.node("default", "bbb3"), "health")) ?? "", { timeout: 10_000, interval: 200 }).toBe("healthy");
  });

  it("keeps a meeting mapped, and says so in the action log, when its node does not accept the end", async () => {
    await createMeeting(sandbox, "acme", "refused-end");
    const nodeId = (await sandbox.api.redis.hget(keys.meetings("acme"), "refused-end")) ?? "";
    const cookie = await loginCookie(sandbox, "Robin");
    const node = sandbox.simulator.node(nodeId);
    node.setFailure("error500");
    try {
      const answer = await fetch(url("/meetings/acme/refused-end/end"), { ...form({ csrf: await csrfOf(cookie) }), headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
      expect(answer.status).toBe(303);
      expect(await sandbox.api.redis.hget(keys.meetings("acme"), "refused-end")).toBe(nodeId);
    } finally {
      node.setFailure("none");
    }
    const [latest] = await sandbox.api.redis.lrange(keys.consoleAudit(), 0, 0);
    expect(JSON.parse(latest ?? "{}")).toMatchObject({ action: "end meeting", target: "acme/refused-end", outcome: `${nodeId} did not accept the end: still mapped` });
  });

  it("refuses a form larger than any of its own with 400", async () => {
    const cookie = await loginCookie(sandbox);
    const answer = await fetch(url("/fleet/bbb1/cordon"), { ...form({ csrf: await csrfOf(cookie), padding: "x".repeat(64 * 1024) }), headers: { cookie, "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(400);
    expect(await nodeState("bbb1")).not.toBe("cordoned");
  });

  it("answers 304 to a refresh whose ETag still matches, and the new page once the data changed", async () => {
    const cookie = await loginCookie(sandbox);
    const first = await fetch(url("/tenants"), { headers: { cookie } });
    const etag = first.headers.get("etag") ?? "";
    expect(etag).not.toBe("");
    expect((await fetch(url("/tenants"), { headers: { cookie, "if-none-match": etag } })).status).toBe(304);
    await createMeeting(sandbox, "globex", "etag-changes");
    const changed = await fetch(url("/tenants"), { headers: { cookie, "if-none-match": etag } });
    expect(changed.status).toBe(200);
  });

  it("ends every session when the admin token changes", async () => {
    const cookie = await loginCookie(sandbox);
    const logger = createLogger({ name: "console-test", level: "silent" });
    const rotated = await startAdminServer({ config: sandbox.config, redisUrl: sandbox.redis.url, host: "127.0.0.1", port: 0, token: "a-new-admin-token-after-rotation", logger });
    try {
      const answer = await fetch(`${rotated.url}/admin/console/fleet`, { headers: { cookie }, redirect: "manual" });
      expect(answer.status).toBe(303);
    } finally {
      await rotated.close();
    }
  });

  it("answers a page saying Redis is unreachable, not a stack trace, when the store is down", async () => {
    const logger = createLogger({ name: "console-test", level: "silent" });
    const cut = await startAdminServer({ config: sandbox.config, redisUrl: "redis://127.0.0.1:1", host: "127.0.0.1", port: 0, token: sandbox.adminToken, logger });
    try {
      const answer = await fetch(`${cut.url}/admin/console/fleet`, { headers: { cookie: "mp_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, redirect: "manual" });
      expect(answer.status).toBe(503);
      const page = await answer.text();
      expect(page).toContain("is Redis reachable?");
      expect(page).not.toMatch(/at .*\.ts:\d+/);
      expect(answer.headers.get("content-security-policy")).toBe(contentSecurityPolicy);
    } finally {
      await cut.close();
    }
  });

  it("refuses everything when the admin server has no token", async () => {
    const logger = createLogger({ name: "console-test", level: "silent" });
    const tokenless = await startAdminServer({ config: sandbox.config, redisUrl: sandbox.redis.url, host: "127.0.0.1", port: 0, token: undefined, logger });
    try {
      for (const path of ["/login", "/fleet"]) expect((await fetch(`${tokenless.url}/admin/console${path}`, { redirect: "manual" })).status).toBe(403);
    } finally {
      await tokenless.close();
    }
  });
});

describe("the console's headers", () => {
  it.each(["/login", "/fleet", "/assets/console.js", "/fleet/bbb1/cordon"])("answers %s with the strict Content-Security-Policy", async (path) => {
    const cookie = await loginCookie(sandbox);
    const answer = await fetch(url(path), { headers: { cookie } });
    expect(answer.headers.get("content-security-policy")).toBe(contentSecurityPolicy);
    expect(answer.headers.get("x-frame-options")).toBe("DENY");
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("puts the policy on refusals too", async () => {
    const answer = await fetch(url("/fleet/bbb1/cordon"), form({}));
    expect(answer.status).toBe(401);
    expect(answer.headers.get("content-security-policy")).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  });

  it("serves its script and style sheet itself, and nothing else from its asset path", async () => {
    expect((await fetch(url("/assets/console.js"))).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect((await fetch(url("/assets/console.css"))).headers.get("content-type")).toBe("text/css; charset=utf-8");
    const traversal = await fetch(url("/assets/..%2f..%2fpackage.json"), { redirect: "manual" });
    expect(traversal.status).toBe(401);
    expect(await traversal.text()).not.toContain("@mediaplane/balancer");
  });
});
