import * as pulumi from "@pulumi/pulumi";
import { MediaPlatform } from "./components/index.js";
import { azureTagging } from "./components/azure/tags.js";
import { loadStackConfig } from "./config/index.js";

// The whole stack: config parsed once, one component composing the platform, and what operators need from it.
const stackConfig = loadStackConfig();
const { cluster } = stackConfig.settings;
// Registered before any resource, so every Azure resource of the program is tagged, whichever component declares it.
if (cluster.provider === "azure") pulumi.runtime.registerStackTransformation(azureTagging({ stack: pulumi.getStack(), owner: cluster.owner }));

const platform = new MediaPlatform("mediaplane", stackConfig);
const { balancerAdminToken, janusTokenAuthSecret, turnStaticAuthSecret, jitsiJwtSecret } = platform.workloads;

// Only what exists on this stack is an output: a laptop stack has no AKS cluster, no Janus and no TURN, and an
// undefined output would only earn a warning from the engine. No kubeconfig: people sign in to AKS as themselves.
export default {
  endpoints: platform.endpoints,
  publicIps: platform.publicIps,
  ...(platform.aksCluster === undefined ? {} : { aksCluster: platform.aksCluster }),
  tenants: platform.tenants,
  /** The balancer's admin token, and the secrets applications sign Janus tokens, Jitsi tokens and TURN credentials with. */
  operatorSecrets: pulumi.secret({
    balancerAdminToken,
    ...(janusTokenAuthSecret === undefined ? {} : { janusTokenAuthSecret }),
    ...(turnStaticAuthSecret === undefined ? {} : { turnStaticAuthSecret }),
    ...(jitsiJwtSecret === undefined ? {} : { jitsiJwtSecret }),
  }),
};
