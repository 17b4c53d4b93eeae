import { defineConfig } from "vitest/config";

// One runner for the whole repository. Files run in separate forks because Pulumi's mock runtime
// keeps global state per process (one stack per test file), and balancer tests start their own servers.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["{test,components,policies,scripts,bench}/**/*.test.ts", "balancer/{src,test}/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
