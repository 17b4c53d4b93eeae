import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mediaplanePolicies } from "../../policies/policies.js";

const readme = readFileSync(new URL("../../policies/README.md", import.meta.url), "utf8");

describe("the policy pack's README", () => {
  it("lists every policy with its enforcement level, and no other", () => {
    const rows = [...readme.matchAll(/^\| `([a-z0-9-]+)` \| (\w+) \|/gm)].map(([, name, level]) => [name, level]);
    expect(rows).toEqual(mediaplanePolicies.map(({ name, enforcementLevel }) => [name, enforcementLevel]));
  });
});
