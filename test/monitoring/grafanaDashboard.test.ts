import { readFileSync } from "node:fs";
import type { Dashboard } from "@grafana/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { computeChecksum } from "../../balancer/src/bbb/checksum.js";
import { createLogger } from "../../balancer/src/observability/logger.js";
import { startSandbox, type Sandbox } from "../../balancer/src/sandbox/startSandbox.js";
import { dashboardFile } from "../../components/k8s/Monitoring.js";

/**
 * The Grafana dashboard in the repository, checked against Grafana's dashboard model (the classic JSON model,
 * `@grafana/schema` 13.2.3 `dist/types/raw/dashboard/x/types.gen.d.ts`, generated from Grafana's
 * `kinds/dashboard/dashboard_kind.cue`): the schema below says what Grafana reads, and the compiler checks that what
 * it accepts is a `Dashboard` of that model. Then every PromQL expression is checked to name only metrics the
 * balancer's `/metrics` serves.
 */
const dataSourceRef = z.looseObject({ type: z.string().optional(), uid: z.string().optional() });
/** A 24-column grid: a panel is 1..24 columns wide, starts in column 0..23, and is at least one row high. */
const gridPos = z.strictObject({ h: z.int().positive(), w: z.int().min(1).max(24), x: z.int().min(0).max(23), y: z.int().min(0), static: z.boolean().optional() });
const promTarget = z.looseObject({ refId: z.string().min(1), expr: z.string().min(1), datasource: dataSourceRef.optional(), legendFormat: z.string().optional() });
const panel = z.looseObject({
  id: z.int().positive(),
  type: z.string().regex(/^(timeseries|stat|gauge|table|bargauge|text)$/),
  title: z.string().min(1),
  description: z.string().optional(),
  datasource: dataSourceRef.optional(),
  gridPos,
  targets: z.array(promTarget).min(1),
  fieldConfig: z.looseObject({
    defaults: z.looseObject({ unit: z.string().optional() }),
    overrides: z.array(z.looseObject({ matcher: z.looseObject({ id: z.string(), options: z.unknown().optional() }), properties: z.array(z.looseObject({ id: z.string(), value: z.unknown().optional() })) })),
  }),
  options: z.record(z.string(), z.unknown()).optional(),
});
const rowPanel = z.looseObject({ id: z.int().positive(), type: z.literal("row"), title: z.string().min(1), collapsed: z.boolean(), gridPos, panels: z.array(panel) });
const variable = z.looseObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  type: z.enum(["query", "adhoc", "groupby", "constant", "datasource", "interval", "textbox", "custom", "system", "snapshot", "switch"]),
  label: z.string().optional(),
  datasource: dataSourceRef.optional(),
});
const dashboardModel = z.looseObject({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  editable: z.boolean().optional(),
  graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  schemaVersion: z.int().min(36),
  version: z.int().optional(),
  refresh: z.string().optional(),
  time: z.strictObject({ from: z.string(), to: z.string() }).optional(),
  timezone: z.string().optional(),
  templating: z.strictObject({ list: z.array(variable) }),
  panels: z.array(z.union([rowPanel, panel])).min(1),
});

const dashboardJson: unknown = JSON.parse(readFileSync(dashboardFile, "utf8"));
const parsed = dashboardModel.parse(dashboardJson);
// What the schema accepts is Grafana's model: a compile-time proof, checked by the type-check.
const model: Dashboard = parsed;
type DashboardPanel = z.infer<typeof panel>;
const dataPanels = parsed.panels.flatMap((entry): DashboardPanel[] => {
  const row = rowPanel.safeParse(entry);
  return row.success ? row.data.panels : [panel.parse(entry)];
});
const expressions = dataPanels.flatMap((entry) => entry.targets.map((target) => ({ panel: entry.title, expr: target.expr })));

/** PromQL's functions and aggregations the dashboard may call; anything else called is a typo. */
const promqlFunctions = new Set(["sum", "max", "min", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "vector", "topk", "bottomk", "clamp_min", "abs"]);
const promqlKeywords = new Set(["and", "or", "unless", "bool", "offset"]);

/** The metric names an expression selects: strings, label matchers, ranges, grouping clauses and numbers removed. */
function metricNames(expr: string): { metrics: string[]; unknownFunctions: string[] } {
  const stripped = expr
    .replace(/\{[^}]*\}/g, " ")
    .replace(/"(?:[^"\\]|\\.)*"/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, " ");
  const metrics: string[] = [];
  const unknownFunctions: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    if (promqlKeywords.has(name)) continue;
    const called = /^\s*\(/.test(stripped.slice((match.index ?? 0) + name.length));
    if (!called) metrics.push(name);
    else if (!promqlFunctions.has(name)) unknownFunctions.push(name);
  }
  return { metrics, unknownFunctions };
}

describe("the Grafana dashboard", () => {
  it("loads as Grafana's dashboard model", () => {
    expect(model.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dataPanels.length).toBeGreaterThan(10);
  });

  it("gives every panel its own ID and its own place on the grid", () => {
    const ids = parsed.panels.map((entry) => entry.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const entry of parsed.panels) {
      const { x, y, w, h } = entry.gridPos;
      expect(x + w, `${entry.title} runs off the 24-column grid`).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row++) {
        for (let column = x; column < x + w; column++) {
          const cell = `${column},${row}`;
          expect(cells.has(cell), `${entry.title} overlaps another panel at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it("queries the data source the operator picks, and only variables it defines", () => {
    const variables = new Set(parsed.templating.list.map((entry) => entry.name));
    expect(parsed.templating.list.find((entry) => entry.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const entry of dataPanels) {
      expect(entry.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const target of entry.targets) {
        for (const [, name = ""] of target.expr.matchAll(/\$(?!__)(\w+)/g)) expect(variables.has(name), `${entry.title}: $${name}`).toBe(true);
      }
    }
  });

  it("shows the figures an operator watches", () => {
    const everything = expressions.map((entry) => entry.expr).join("\n");
    for (const metric of ["mediaplane_api_requests_total", "mediaplane_api_request_duration_seconds_bucket", "mediaplane_node_state", "mediaplane_poll_cycle_duration_seconds_bucket", "mediaplane_redis_ping_seconds", "mediaplane_tenant_meetings", "mediaplane_tenant_attendees"]) {
      expect(everything).toContain(metric);
    }
    expect(everything).toMatch(/call="join"/);
    expect(everything).toMatch(/call="create"/);
  });

  it("calls only PromQL functions it knows", () => {
    for (const { panel: title, expr } of expressions) expect(metricNames(expr).unknownFunctions, `${title}: ${expr}`).toEqual([]);
  });
});

describe("the dashboard's metrics against the balancer's /metrics", () => {
  let sandbox: Sandbox;
  let exposition = "";
  beforeAll(async () => {
    sandbox = await startSandbox({ apiPort: 0, adminPort: 0, pollIntervalSeconds: 1, logger: createLogger({ name: "dashboard-test", level: "silent" }) });
    const tenant = sandbox.tenants[0];
    if (tenant === undefined) throw new Error("the sandbox has no tenant");
    // Some traffic, so the request counters and histograms have samples as well as declarations.
    const query = "name=Dashboard&meetingID=dashboard-check";
    await fetch(`${sandbox.api.url}/t/${tenant.slug}/bigbluebutton/api/create?${query}&checksum=${computeChecksum("sha256", "create", query, tenant.secret)}`);
    await fetch(`${sandbox.api.url}/t/${tenant.slug}/bigbluebutton/api/join?meetingID=dashboard-check&fullName=Ada&role=VIEWER&checksum=bad`);
    const answer = await fetch(`${sandbox.admin.url}/metrics`, { headers: { authorization: `Bearer ${sandbox.adminToken}` } });
    expect(answer.status).toBe(200);
    exposition = await answer.text();
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
  });

  /** The metric names /metrics declares, with the series names of histograms (`_bucket`, `_sum`, `_count`). */
  function served(): Map<string, string> {
    const names = new Map<string, string>();
    for (const [, family = "", type = ""] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const series = type === "histogram" ? ["_bucket", "_sum", "_count"].map((suffix) => family + suffix) : [family];
      for (const name of series) names.set(name, type);
    }
    return names;
  }

  it("names only metrics the balancer serves", () => {
    const known = served();
    expect(known.size).toBeGreaterThan(10);
    for (const { panel: title, expr } of expressions) {
      const { metrics } = metricNames(expr);
      expect(metrics.length, `${title}: no metric in ${expr}`).toBeGreaterThan(0);
      for (const metric of metrics) expect(known.has(metric), `${title}: ${metric} is not in /metrics`).toBe(true);
    }
  });

  it("takes rates only of counters and histogram series", () => {
    const known = served();
    for (const { panel: title, expr } of expressions) {
      for (const [, inner = ""] of expr.matchAll(/\b(?:rate|irate|increase)\(([^[]+)\[/g)) {
        for (const metric of metricNames(inner).metrics) expect(["counter", "histogram"], `${title}: rate of ${metric}`).toContain(known.get(metric));
      }
    }
  });

  it("finds the Redis round trip and the request counters with samples after traffic", () => {
    expect(exposition).toMatch(/^mediaplane_redis_ping_seconds \d/m);
    expect(exposition).toMatch(/^mediaplane_api_requests_total\{tenant="acme",call="create",result="success"\} 1$/m);
  });
});
