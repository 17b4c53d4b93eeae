import * as pulumi from "@pulumi/pulumi";
import { MediaPlatform } from "./components/index.js";
import { loadStackConfig } from "./config/index.js";

// The whole stack: config parsed once, one component composing the platform, and what operators need from it.
const platform = new MediaPlatform("mediaplane", loadStackConfig());

export const endpoints = platform.endpoints;
export const publicIps = platform.publicIps;
export const kubeconfig = platform.kubeconfig;
export const tenants = platform.tenants;
/** The balancer's admin token, and the secrets applications sign Janus tokens and TURN credentials with. */
export const operatorSecrets = pulumi.secret({
  balancerAdminToken: platform.workloads.balancerAdminToken,
  janusTokenAuthSecret: platform.workloads.janusTokenAuthSecret,
  turnStaticAuthSecret: platform.workloads.turnStaticAuthSecret,
});
