import { describe, expect, it } from "vitest";
import { availableVerbs, confirmationText, parseFleetQuery, selectFleetRows, type FleetRow } from "../../src/admin/console/fleetPage.js";
import { html } from "../../src/admin/console/html.js";
import { limitLevel } from "../../src/admin/console/tenantsPage.js";
import { appendPollOutcome, pollHistoryLength } from "../../src/fleet/nodeRecord.js";

function row(id: string, overrides: Partial<FleetRow> = {}): FleetRow {
  return {
    id,
    cluster: "default",
    state: "enabled",
    health: "healthy",
    takesNewMeetings: true,
    load: 0,
    cpu: 0,
    meetings: 0,
    attendees: 0,
    failStreak: 0,
    pollHistory: "",
    mapped: 0,
    terms: { attendees: 0, meetings: 0, cpu: 0 },
    stale: false,
    ...overrides,
  };
}

const fleet = [
  row("bbb1", { load: 40, cluster: "eu", meetings: 2 }),
  row("bbb2", { load: 90, cluster: "us", state: "cordoned" }),
  row("bbb3", { load: 10, cluster: "eu", health: "unhealthy" }),
  row("bbb4", { load: 40, cluster: "us", poolLoad: 70 }),
];
const ids = (rows: readonly FleetRow[]): string[] => rows.map((entry) => entry.id);

describe("the fleet page's sorting and filters", () => {
  it("lists nodes by ID unless asked otherwise", () => {
    expect(ids(selectFleetRows(fleet, parseFleetQuery(new URLSearchParams())))).toEqual(["bbb1", "bbb2", "bbb3", "bbb4"]);
  });

  it("sorts by the load placement sees now (pool score when in the pool), highest first, ties by ID", () => {
    expect(ids(selectFleetRows(fleet, parseFleetQuery(new URLSearchParams("sort=load&dir=desc"))))).toEqual(["bbb2", "bbb4", "bbb1", "bbb3"]);
  });

  it("filters by part of a node ID or cluster, and by state", () => {
    expect(ids(selectFleetRows(fleet, parseFleetQuery(new URLSearchParams("q=EU"))))).toEqual(["bbb1", "bbb3"]);
    expect(ids(selectFleetRows(fleet, parseFleetQuery(new URLSearchParams("state=cordoned"))))).toEqual(["bbb2"]);
  });

  it("filters unhealthy nodes whatever their admin state", () => {
    expect(ids(selectFleetRows(fleet, parseFleetQuery(new URLSearchParams("state=unhealthy"))))).toEqual(["bbb3"]);
  });

  it("falls back to the default view for unknown sort keys and states", () => {
    const query = parseFleetQuery(new URLSearchParams("sort=__proto__&state=<script>&dir=sideways"));
    expect(query).toEqual({ sort: "id", descending: false, text: "", state: undefined });
  });
});

describe("the confirmation before a node action", () => {
  it("names the node and how many meetings a panic ends, with their attendees", () => {
    expect(confirmationText("panic", { id: "bbb2", mapped: 3, attendees: 41 })).toBe(
      "Panic bbb2: its 3 meetings are released and ended on the node now (41 attendees at the last poll); everyone in them is disconnected.",
    );
  });

  it("says a cordon leaves running meetings alone, in the singular for one", () => {
    expect(confirmationText("cordon", { id: "bbb1", mapped: 1, attendees: 5 })).toBe("Cordon bbb1: it takes no new meetings; its 1 meeting continues.");
  });

  it("says a drain disables the node once its meetings have ended", () => {
    expect(confirmationText("drain", { id: "bbb1", mapped: 0, attendees: 0 })).toBe("Drain bbb1: it takes no new meetings, and is disabled once its 0 meetings have ended.");
  });

  it("offers every action but the one the node is already in", () => {
    expect(availableVerbs("cordoned")).toEqual(["enable", "drain", "disable", "panic"]);
    expect(availableVerbs("panic")).toEqual(["enable", "cordon", "drain", "disable"]);
  });
});

describe("how close a tenant is to its limits", () => {
  it("is fine below 80 %, near from 80 %, reached at the limit", () => {
    expect(limitLevel({ used: 7, limit: 10 })).toEqual({ percent: 70, level: "ok" });
    expect(limitLevel({ used: 8, limit: 10 })).toEqual({ percent: 80, level: "near" });
    expect(limitLevel({ used: 12, limit: 10 })).toEqual({ percent: 120, level: "reached" });
  });

  it("has no share without a limit", () => {
    expect(limitLevel({ used: 500, limit: undefined })).toEqual({ percent: undefined, level: "ok" });
  });
});

describe("page markup", () => {
  it("escapes every value, in text and in attributes", () => {
    const name = `"><script>alert('x')</script>&`;
    expect(html`<td title="${name}">${name}</td>`.markup).toBe(
      "<td title=\"&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;\">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</td>",
    );
  });

  it("keeps markup built by html as it is, and escapes the values in lists", () => {
    expect(html`<ul>${["<a>", "b"].map((item) => html`<li>${item}</li>`)}</ul>`.markup).toBe("<ul><li>&lt;a&gt;</li><li>b</li></ul>");
  });
});

describe("a node's health history", () => {
  it("keeps the latest outcomes, oldest dropped first", () => {
    let history = "";
    for (let poll = 0; poll < pollHistoryLength; poll++) history = appendPollOutcome(history, true);
    history = appendPollOutcome(history, false);
    expect(history).toHaveLength(pollHistoryLength);
    expect(history.endsWith("+-")).toBe(true);
  });
});
