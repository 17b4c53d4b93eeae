import type { IngressBinding } from "../../../components/k8s/ingress.js";
import type { PinnedPublicIp } from "../../../components/k8s/network.js";

/** A pinned Azure public IP as the StaticIps component describes one. */
export function testPublicIp(address: string, publicIpName: string): PinnedPublicIp {
  return {
    address,
    serviceAnnotations: {
      "service.beta.kubernetes.io/azure-pip-name": publicIpName,
      "service.beta.kubernetes.io/azure-load-balancer-resource-group": "mp-dev-rg",
    },
  };
}

/** An ingress binding as the TraefikIngress component hands it out, for components tested on their own. */
export function testIngressBinding(): IngressBinding {
  return {
    entryPoint: "websecure",
    securityHeadersMiddleware: "security-headers",
    adminAllowListMiddleware: "admin-allow-list",
    traefikPods: { namespace: "ingress", podLabels: { "app.kubernetes.io/name": "traefik" } },
    dependencies: [],
  };
}
