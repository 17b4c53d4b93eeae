/**
 * How traefik's Kubernetes CRD provider names TLSOptions and resolves a route's reference to one, as traefik v3.7
 * does it (the pinned v3.7.13 is a patch release of the same branch; read at tag v3.7.9):
 *
 * - pkg/provider/kubernetes/crd/kubernetes.go, `buildTLSOptions`: a TLSOption is keyed `makeID(namespace, name)`,
 *   i.e. `<namespace>-<name>`, except one named `default` (`tls.DefaultTLSConfigName`, pkg/tls/tlsmanager.go), which
 *   is keyed `default` and replaces traefik's default options; declared in more than one namespace, `default` is
 *   dropped with the error "Default TLS Options defined in multiple namespaces".
 * - pkg/provider/kubernetes/crd/kubernetes_http.go (IngressRoute) and kubernetes_tcp.go (IngressRouteTCP): a route
 *   whose `tls.options.name` is set gets `resolveReference(routeNamespace, options.namespace, options.name)`
 *   (kubernetes.go), i.e. `<options.namespace or the route's namespace>-<name>`, with no exception for `default`.
 * - pkg/server/router/router.go: a router naming no options uses the ones keyed `default`.
 */

/** The key traefik files a TLSOption object under. */
export function tlsOptionKey(namespace: string, name: string): string {
  return name === "default" ? "default" : `${namespace}-${name}`;
}

/** The TLS options a route's router ends up asking for: the key its reference resolves to. */
export function routerTlsOptionKey(routeNamespace: string, options: { name?: string; namespace?: string } | undefined): string {
  if (options?.name === undefined || options.name === "") return "default";
  return `${options.namespace === undefined || options.namespace === "" ? routeNamespace : options.namespace}-${options.name}`;
}

interface ManifestLike {
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/**
 * Every route with TLS whose options resolve to no TLSOption traefik knows (it then serves the route with a broken
 * TLS configuration), and every TLSOption named `default` declared in more than one namespace (traefik drops it).
 */
export function tlsOptionProblems(manifests: readonly ManifestLike[]): string[] {
  const options = manifests.filter((manifest) => manifest.kind === "TLSOption");
  const keys = new Set(options.map((option) => tlsOptionKey(option.metadata.namespace ?? "", option.metadata.name)));
  const defaultNamespaces = options.filter((option) => option.metadata.name === "default").map((option) => option.metadata.namespace ?? "");
  const problems =
    defaultNamespaces.length > 1 ? [`TLSOption default declared in several namespaces (${defaultNamespaces.join(", ")}): traefik drops it`] : [];
  for (const route of manifests.filter((manifest) => manifest.kind === "IngressRoute" || manifest.kind === "IngressRouteTCP")) {
    const tls = (route["spec"] as { tls?: { options?: { name?: string; namespace?: string } } }).tls;
    if (tls === undefined) continue;
    const key = routerTlsOptionKey(route.metadata.namespace ?? "", tls.options);
    // traefik's built-in default options exist even when no TLSOption named `default` is declared.
    if (key !== "default" && !keys.has(key)) problems.push(`${route.kind} ${route.metadata.name}: TLS options resolve to ${key}, which no TLSOption declares`);
  }
  return problems;
}
