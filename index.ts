import * as pulumi from "@pulumi/pulumi";
import { MediaPlatform } from "./components/index.js";
import { loadStackConfig } from "./config/index.js";

// The whole stack: config parsed once, one component composing the platform, and what operators need from it.
const platform = new MediaPlatform("mediaplane", loadStackConfig());
const { balancerAdminToken, janusTokenAuthSecret, turnStaticAuthSecret } = platform.workloads;

// Only what exists on this stack is an output: a laptop stack has no kubeconfig, no Janus and no TURN, and an
// undefined output would only earn a warning from the engine.
export default {
  endpoints: platform.endpoints,
  publicIps: platform.publicIps,
  ...(platform.kubeconfig === undefined ? {} : { kubeconfig: platform.kubeconfig }),
  tenants: platform.tenants,
  /** The balancer's admin token, and the secrets applications sign Janus tokens and TURN credentials with. */
  operatorSecrets: pulumi.secret({
    balancerAdminToken,
    ...(janusTokenAuthSecret === undefined ? {} : { janusTokenAuthSecret }),
    ...(turnStaticAuthSecret === undefined ? {} : { turnStaticAuthSecret }),
  }),
};
