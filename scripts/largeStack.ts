import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { repositoryRoot } from "./repositoryRoot.js";

/**
 * Writes out/Pulumi.large.yaml: the prod stack with `tenants` tenants and `nodes` BBB nodes over four clusters,
 * for timing the plan at fleet size: `npx tsx scripts/largeStack.ts [tenants] [nodes] && npm run plan -- out/Pulumi.large.yaml`.
 */
function largeStackConfig(base: Record<string, unknown>, tenantCount: number, nodeCount: number): Record<string, unknown> {
  const clusters = ["default", "large", "edu", "events"];
  return {
    ...base,
    "mediaplane:tenants": Array.from({ length: tenantCount }, (_, i) => ({
      slug: `tenant-${i + 1}`,
      secretCount: i % 5 === 0 ? 2 : 1,
      clusters: [clusters[i % clusters.length]],
      limits: { maxMeetings: 50 + i, maxAttendees: 2000 },
    })),
    "mediaplane:bbb": {
      clusters: clusters.map((name) => ({ name })),
      nodes: Array.from({ length: nodeCount }, (_, i) => ({
        id: `bbb-${i + 1}`,
        url: `https://bbb-${i + 1}.mediaplane.example.org/bigbluebutton/api/`,
        cluster: clusters[i % clusters.length],
      })),
    },
  };
}

const [tenantArg = "50", nodeArg = "200"] = process.argv.slice(2);
const prod = parseYaml(readFileSync(join(repositoryRoot, "stacks", "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, unknown> };
const file = join(repositoryRoot, "out", "Pulumi.large.yaml");
mkdirSync(join(repositoryRoot, "out"), { recursive: true });
writeFileSync(file, stringifyYaml({ config: largeStackConfig(prod.config, Number(tenantArg), Number(nodeArg)) }));
console.log(`wrote ${file}`);
