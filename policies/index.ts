import { PolicyPack } from "@pulumi/policy";
import { defaultEnforcementLevel, mediaplanePolicies, policyPackName } from "./policies.js";

// Constructing the pack starts the analyzer's gRPC server for the Pulumi engine, so nothing else happens here:
// the policies live in `policies.ts`, where tests and the offline plan use them without a server.
new PolicyPack(policyPackName, {
  description: "What every mediaplane stack must satisfy: hardened Kubernetes workloads and Azure resources.",
  enforcementLevel: defaultEnforcementLevel,
  policies: mediaplanePolicies,
});
