import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/startSandbox.js";
import { keys } from "../../src/store/keys.js";
import { nodeMeetingId } from "../../src/tenancy/nodeMeetingId.js";
import { createMeeting, joinMeeting, startConsoleSandbox } from "./sandboxConsole.js";

/**
 * The operator console in Debian's headless Chromium (never a downloaded browser) against `npm run sandbox`'s
 * stack. Screenshots of each page go to CONSOLE_SCREENSHOT_DIR (default: a folder in the temp dir, printed);
 * docs/images/console-*.png were made with CONSOLE_SCREENSHOT_DIR=docs/images.
 */
const screenshotDir = process.env["CONSOLE_SCREENSHOT_DIR"] ?? join(tmpdir(), "mediaplane-console-screenshots");
const chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
/** Every wait in the browser is bounded: a console that does not update fails the test, it does not hang it. */
const uiTimeoutMs = 10_000;

let sandbox: Sandbox;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  await mkdir(screenshotDir, { recursive: true });
  process.stdout.write(`console screenshots: ${screenshotDir}\n`);
  sandbox = await startConsoleSandbox();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumFlags, timeout: 30_000 });
  context = await browser.newContext({ viewport: { width: 1360, height: 760 } });
  context.setDefaultTimeout(uiTimeoutMs);
  page = await context.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});

const consoleUrl = (path: string): string => `${sandbox.admin.url}/admin/console/${path}`;
const screenshot = (name: string): Promise<Buffer> => page.screenshot({ path: join(screenshotDir, `console-${name}.png`), fullPage: true });
const nodeRow = (id: string) => page.locator(`#nodes tr[data-node="${id}"]`);

async function logIn(): Promise<void> {
  await page.goto(consoleUrl("fleet"));
  await expect.poll(() => new URL(page.url()).pathname).toBe("/admin/console/login");
  await screenshot("login");
  await page.fill('input[name="operator"]', "Robin Oncall");
  await page.fill('input[name="token"]', sandbox.adminToken);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/admin\/console\/fleet$/);
}

/** The node the balancer mapped a meeting to. */
async function nodeOf(tenant: string, meetingId: string): Promise<string> {
  const node = await sandbox.api.redis.hget(keys.meetings(tenant), meetingId);
  if (node === null) throw new Error(`${tenant}/${meetingId} is not mapped`);
  return node;
}

describe("the operator console in a browser", () => {
  it("logs in with the admin token and shows the three simulated nodes", async () => {
    await logIn();
    await expect.poll(() => page.locator("#nodes tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-node")))).toEqual(["bbb1", "bbb2", "bbb3"]);
    const cookie = (await context.cookies()).find((candidate) => candidate.name === "mp_console");
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/admin" });
    await expect.poll(() => page.locator("#freshness").getAttribute("data-state"), { timeout: uiTimeoutMs }).toBe("live");
  });

  it("cordons a node after a confirmation naming it and its meetings, and shows the state change", async () => {
    await createMeeting(sandbox, "acme", "cordon-me");
    const node = await nodeOf("acme", "cordon-me");
    await page.goto(consoleUrl("fleet"));
    await nodeRow(node).locator("a.action.cordon").click();
    await expect.poll(() => page.locator(".consequence").textContent()).toBe(`Cordon ${node}: it takes no new meetings; its 1 meeting continues.`);
    await screenshot("confirm-cordon");
    await page.click(`button:has-text("Yes, cordon ${node}")`);
    await page.waitForURL(/\/admin\/console\/fleet$/);
    expect(await nodeRow(node).locator("[data-state]").textContent()).toBe("cordoned");
    expect(await page.locator("#actions tbody tr").first().textContent()).toMatch(new RegExp(`Robin Oncall \\(console, 127\\.0\\.0\\.1\\)cordon${node}enabled -> cordoned`));
  });

  it("sorts by a column and filters by node name", async () => {
    await page.goto(consoleUrl("fleet"));
    const shown = () => page.locator("#nodes tbody tr").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-node")));
    await page.click('#nodes thead a:has-text("Node")');
    await page.waitForURL(/sort=id&dir=desc/);
    expect(await shown()).toEqual(["bbb3", "bbb2", "bbb1"]);
    await page.fill('input[name="q"]', "bbb2");
    await page.click('button:has-text("Filter")');
    await page.waitForURL(/q=bbb2/);
    expect(await shown()).toEqual(["bbb2"]);
  });

  it("refreshes with its ETag: the admin server answers 304 while nothing changed", async () => {
    const statuses: number[] = [];
    page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/admin/console/tenants") statuses.push(response.status());
    });
    await page.goto(consoleUrl("tenants"));
    await expect.poll(() => statuses.filter((status) => status === 304).length, { timeout: uiTimeoutMs }).toBeGreaterThan(0);
  });

  it("shows another operator's state change without a reload", async () => {
    await page.goto(consoleUrl("fleet"));
    const response = await fetch(`${sandbox.admin.url}/admin/nodes/bbb3/disable`, { method: "POST", headers: { authorization: `Bearer ${sandbox.adminToken}` } });
    expect(response.status).toBe(200);
    await expect.poll(() => nodeRow("bbb3").locator("[data-state]").textContent(), { timeout: uiTimeoutMs }).toBe("disabled");
    await fetch(`${sandbox.admin.url}/admin/nodes/bbb3/enable`, { method: "POST", headers: { authorization: `Bearer ${sandbox.adminToken}` } });
  });

  it("ends a meeting after a confirmation, and it is gone from the list and from its node", async () => {
    await createMeeting(sandbox, "globex", "end-me");
    const node = await nodeOf("globex", "end-me");
    await page.goto(consoleUrl("meetings?tenant=globex&q=end-me"));
    await page.locator('tr[data-meeting="globex/end-me"] a.action.end').click();
    await expect.poll(() => page.locator(".consequence").textContent()).toMatch(new RegExp(`^End meeting end-me of globex on ${node}: `));
    await screenshot("confirm-end");
    await page.click('button:has-text("Yes, end end-me")');
    await page.waitForURL(/\/admin\/console\/meetings\?tenant=globex$/);
    expect(await page.locator('tr[data-meeting="globex/end-me"]').count()).toBe(0);
    await expect.poll(() => sandbox.simulator.node(node).meeting(nodeMeetingId("globex", "end-me"))?.hasBeenForciblyEnded ?? true).toBe(true);
  });

  it("shows a tenant's meetings, attendees and errors move after creates, joins and a forged call, without a reload", async () => {
    await page.goto(consoleUrl("tenants"));
    const cell = (what: "meetings" | "attendees") => page.locator(`tr[data-tenant="acme"] td[data-${what}]`);
    const figure = async (what: "meetings" | "attendees"): Promise<number> => Number(/^\d+/.exec((await cell(what).textContent()) ?? "")?.[0]);
    const before = { meetings: await figure("meetings"), attendees: await figure("attendees") };
    await createMeeting(sandbox, "acme", "numbers-1");
    await createMeeting(sandbox, "acme", "numbers-2");
    for (const name of ["Ada", "Grace", "Linus"]) await joinMeeting(sandbox, "acme", "numbers-1", name);
    // A client with the wrong secret: the error shows under its key.
    await fetch(`${sandbox.api.url}/t/acme/bigbluebutton/api/create?meetingID=forged&checksum=${"0".repeat(64)}`);
    await expect.poll(() => page.locator('tr[data-tenant="acme"] ul.errors').textContent(), { timeout: uiTimeoutMs }).toBe("checksumError 1");
    await expect.poll(() => figure("meetings"), { timeout: uiTimeoutMs }).toBe(before.meetings + 2);
    await expect.poll(() => figure("attendees"), { timeout: uiTimeoutMs }).toBe(before.attendees + 3);
    expect(await cell("meetings").textContent()).toContain(`of 20 (${Math.round(((before.meetings + 2) / 20) * 100)} %)`);
    await screenshot("tenants");
    await page.goto(consoleUrl("meetings"));
    await expect.poll(() => page.locator('tr[data-meeting="acme/numbers-1"] td.num').textContent(), { timeout: uiTimeoutMs }).toBe("3");
    await screenshot("meetings");
    await page.goto(consoleUrl("fleet"));
    await expect.poll(() => page.locator("#nodes td[data-meetings]").allTextContents(), { timeout: uiTimeoutMs }).not.toEqual(["0", "0", "0"]);
    await screenshot("fleet");
  });

  it("says the data is stale when the admin server stops answering", async () => {
    await page.goto(consoleUrl("fleet"));
    await expect.poll(() => page.locator("#freshness").getAttribute("data-state")).toBe("live");
    await page.route(/\/admin\/console\/fleet$/, (route) => route.abort("connectionrefused"));
    await expect.poll(() => page.locator("#freshness").textContent(), { timeout: uiTimeoutMs }).toMatch(/^Stale: last update \d+ s ago \(admin server unreachable\)$/);
    await page.unroute(/\/admin\/console\/fleet$/);
    await expect.poll(() => page.locator("#freshness").getAttribute("data-state"), { timeout: uiTimeoutMs }).toBe("live");
  });

  it("logs out: the page is refused and the old session cookie opens nothing", async () => {
    const session = (await context.cookies()).find((candidate) => candidate.name === "mp_console");
    await page.goto(consoleUrl("fleet"));
    await page.click('button:has-text("Log out")');
    await page.waitForURL(/\/admin\/console\/login$/);
    const replayed = await fetch(consoleUrl("fleet"), { headers: { cookie: `mp_console=${session?.value ?? ""}` }, redirect: "manual" });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get("location")).toBe("/admin/console/login");
  });

  it("runs under its Content-Security-Policy without a single violation", async () => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await logIn();
    for (const path of ["fleet", "tenants", "meetings"]) {
      await page.goto(consoleUrl(path));
      await expect.poll(() => page.locator("#freshness").getAttribute("data-state")).toBe("live");
    }
    expect(violations).toEqual([]);
  });
});
