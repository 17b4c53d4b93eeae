import type * as k8s from "@pulumi/kubernetes";
import type { CoturnArgs } from "../../../components/k8s/Coturn.js";
import type { IngressBinding } from "../../../components/k8s/ingress.js";
import type { PinnedPublicIp } from "../../../components/k8s/network.js";
import { janusPorts, type JanusConfigArgs } from "../../../components/k8s/render/janus.js";

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

/** Coturn beside media workloads in the `media` namespace, relaying for pods of the cluster's pod range. */
export function testCoturnArgs(provider: k8s.Provider, overrides: Partial<CoturnArgs> = {}): CoturnArgs {
  return {
    provider,
    namespace: "media",
    realm: "turn.example.org",
    publicIp: testPublicIp("198.51.100.20", "mp-dev-turn-ip"),
    relayPorts: { min: 49152, max: 49161 },
    tlsSecretName: "turn-tls",
    podCidrs: ["10.244.0.0/16"],
    ...overrides,
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

/** Janus's settings as a stack would give them, with test secrets of the lengths the renderer demands. */
export function testJanusConfigArgs(overrides: Partial<JanusConfigArgs> = {}): JanusConfigArgs {
  return {
    serverName: "janus.test",
    adminSecret: "a".repeat(24),
    tokenAuthSecret: "t".repeat(24),
    videoRoomAdminKey: "k".repeat(24),
    nat1to1Mapping: "198.51.100.9",
    rtpPorts: { min: 20000, max: 20099 },
    allowedOrigin: "https://app.example.org",
    rooms: [{ id: 1234, description: "Demo", publishers: 6, bitrate: 512000 }],
    debugLevel: 4,
    ...overrides,
  };
}

/**
 * A rendered Janus config moved onto free loopback ports for a test on the host's network: the HTTP and admin
 * APIs, and the WebSocket transport on its own port or off. Only placement changes.
 */
export function janusOnLoopback(text: string, ports: { http: number; admin: number; websocket?: number }): string {
  const placed = text.replace(`port = ${janusPorts.http}`, `port = ${ports.http}\n\tip = "127.0.0.1"`).replace(`admin_port = ${janusPorts.admin}`, `admin_port = ${ports.admin}`);
  return ports.websocket === undefined ? placed.replace("ws = true", "ws = false") : placed.replace(`ws_port = ${janusPorts.websocket}`, `ws_port = ${ports.websocket}\n\tws_ip = "127.0.0.1"`);
}
