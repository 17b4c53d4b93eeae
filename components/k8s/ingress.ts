import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PodPeer } from "./network.js";

/**
 * How traefik's pods reach the backends of one IngressRoute: the peers and ports an egress rule admits.
 * `"internal"`: the route ends inside traefik (`api@internal`) and needs none.
 */
export type BackendReach =
  | { to: k8s.types.input.networking.v1.NetworkPolicyPeer[]; ports: k8s.types.input.networking.v1.NetworkPolicyPort[] }
  | "internal";

/** The API objects a traefik route needs from the ingress component, handed to every component that publishes a route. */
export interface IngressBinding {
  /** The TLS entry point (443 outside). */
  entryPoint: string;
  /** Middleware adding the security and robots headers, present in every namespace traefik serves. */
  securityHeadersMiddleware: string;
  /** Middleware letting only the operators' networks through (admin, metrics, dashboard), in every served namespace. */
  adminAllowListMiddleware: string;
  /** traefik's pods, so NetworkPolicies can let exactly them in. */
  traefikPods: PodPeer;
  /** Resources the custom resources must wait for (the CRDs and the shared middlewares). */
  dependencies: pulumi.Input<pulumi.Resource>[];
}

/** Where a route sends its requests: a Service port, or one of traefik's internal services (`api@internal`). */
export type RouteTarget =
  | {
      kind: "Service";
      name: pulumi.Input<string>;
      port: number | string;
      /** traefik's sticky sessions: a cookie pins a client to the endpoint that served it first. */
      sticky?: { cookie: { name: string; secure: boolean; httpOnly: boolean; sameSite: "none" | "lax" | "strict" } };
    }
  | { kind: "TraefikService"; name: string };

export interface RouteSpec {
  /** traefik v3 rule, e.g. ``Host(`a.example.org`) && PathPrefix(`/x`)``. */
  match: string;
  /** Where matching requests go. */
  target: RouteTarget;
  /** Admit only the operators' networks (admin API, metrics, dashboard). */
  adminOnly: boolean;
  /** A headers Middleware (in the route's namespace) used instead of the shared security headers. */
  headersMiddleware?: pulumi.Input<string>;
  /** A Middleware (in the route's namespace) rewriting the request before it reaches the target, e.g. a path prefix. */
  rewriteMiddleware?: pulumi.Input<string>;
}

/** An `IngressRoute` spec on the TLS entry point with the shared TLS option and middlewares. */
function ingressRouteSpec(binding: IngressBinding, routes: readonly RouteSpec[]): Record<string, unknown> {
  return {
    entryPoints: [binding.entryPoint],
    routes: routes.map((route) => ({
      kind: "Rule",
      match: route.match,
      services: [route.target],
      middlewares: [
        // Named without a namespace: traefik resolves them in the route's own, and refuses any other.
        ...(route.adminOnly ? [{ name: binding.adminAllowListMiddleware }] : []),
        { name: route.headersMiddleware ?? binding.securityHeadersMiddleware },
        ...(route.rewriteMiddleware === undefined ? [] : [{ name: route.rewriteMiddleware }]),
      ],
    })),
    // No `options`: the shared TLSOption is named `default`, which traefik applies to every router that names none.
    // A reference to it resolves to `<namespace>-default`, which does not exist (see TraefikIngress). No resolver:
    // the certificate is the issued one in traefik's default TLSStore.
    tls: {},
  };
}

/**
 * Declares an `IngressRoute` after the CRDs and shared middlewares exist, and traefik's way to its backends:
 * an egress NetworkPolicy named `traefik-to-<objectName>` beside traefik. Policies add up, so traefik's own policy
 * stays free of its backends, and a route cannot exist without the egress that makes it work.
 */
export function ingressRoute(
  resourceName: string,
  args: {
    objectName: string;
    namespace: pulumi.Input<string>;
    binding: IngressBinding;
    routes: readonly RouteSpec[];
    labels: Record<string, string>;
    backends: BackendReach;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  if (args.backends !== "internal") {
    new k8s.networking.v1.NetworkPolicy(
      `${resourceName}-traefik-egress`,
      {
        metadata: { name: `traefik-to-${args.objectName}`, namespace: args.binding.traefikPods.namespace, labels: args.labels },
        spec: {
          podSelector: { matchLabels: args.binding.traefikPods.podLabels },
          policyTypes: ["Egress"],
          egress: [{ to: args.backends.to, ports: args.backends.ports }],
        },
      },
      opts,
    );
  }
  return new k8s.apiextensions.CustomResource(
    resourceName,
    {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: args.objectName, namespace: args.namespace, labels: args.labels },
      spec: ingressRouteSpec(args.binding, args.routes),
    },
    { ...opts, dependsOn: args.binding.dependencies },
  );
}

/** Host rule in traefik v3 syntax. */
export function hostRule(host: string): string {
  return `Host(\`${host}\`)`;
}
