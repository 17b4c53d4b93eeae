import { describeStackManifests } from "./support/stackManifests.js";

describeStackManifests("prod");
