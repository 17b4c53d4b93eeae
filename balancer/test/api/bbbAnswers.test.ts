import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BalancerConfigInput } from "../../src/config/schema.js";
import { get, startFleet, type Fleet } from "./harness.js";

/**
 * Answers as bbb-web (the pinned BBB 3.0) gives them, where a balancer could be tempted to answer its own way.
 * Sources: bigbluebutton-web/grails-app/controllers/org/bigbluebutton/web/controllers/ApiController.groovy.
 */

let fleet: Fleet;
beforeAll(async () => {
  fleet = await startFleet({ nodeIds: ["n1", "n2"], configure: (config): BalancerConfigInput => ({ ...config, bbbVersion: "3.0.4" }) });
});
afterAll(async () => {
  await fleet.close();
});

describe("the version document", () => {
  it("names the BBB version the fleet runs, from the config, in bbb-web's shape (ApiController.index)", async () => {
    const answer = await get(`${fleet.balancers[0]!.url}/t/acme/bigbluebutton/api/`);
    expect(answer.body).toBe("<response><returncode>SUCCESS</returncode><version>2.0</version><apiVersion>2.0</apiVersion><bbbVersion>3.0.4</bbbVersion></response>");
  });
});
