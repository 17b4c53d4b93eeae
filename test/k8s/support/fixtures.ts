import type { IngressBinding } from "../../../components/k8s/workload.js";

/** An ingress binding as the TraefikIngress component hands it out, for components tested on their own. */
export function testIngressBinding(): IngressBinding {
  return {
    entryPoint: "websecure",
    certResolver: "acme",
    namespace: "ingress",
    tlsOptionName: "default",
    securityHeadersMiddleware: "security-headers",
    adminAllowListMiddleware: "admin-allow-list",
    traefikPods: { namespace: "ingress", podLabels: { "app.kubernetes.io/name": "traefik" } },
    dependencies: [],
  };
}
