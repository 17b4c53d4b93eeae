import { stringify } from "yaml";

/** Container ports of traefik; the Service maps 80/443 onto them so traefik never needs to bind privileged ports. */
export const traefikPorts = { web: 8000, websecure: 8443, traefik: 9000, metrics: 9100 } as const;

export interface TraefikStaticConfigArgs {
  /** Log level of traefik itself. */
  logLevel: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /** Grace period for in-flight requests after SIGTERM; keep it below the pod's termination grace period. */
  shutdownGraceSeconds: number;
  /** The namespaces traefik serves: the only ones it watches, and the only ones its Roles let it read. */
  watchedNamespaces: readonly string[];
}

/**
 * traefik's static configuration (`traefik.yml`): entry points, the CRD provider, logs and metrics. No certificate
 * resolver: certificates come from Secrets (the default TLSStore), so replicas share them and hold no state.
 */
export function traefikStaticConfig(args: TraefikStaticConfigArgs): Record<string, unknown> {
  const lifeCycle = { requestAcceptGraceTimeout: "5s", graceTimeOut: `${args.shutdownGraceSeconds}s` };
  return {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    entryPoints: {
      web: {
        address: `:${traefikPorts.web}`,
        transport: { lifeCycle },
        http: { redirections: { entryPoint: { to: "websecure", scheme: "https", permanent: true } } },
      },
      websecure: {
        address: `:${traefikPorts.websecure}`,
        transport: { lifeCycle },
        http: { tls: {} },
      },
      traefik: { address: `:${traefikPorts.traefik}` },
      metrics: { address: `:${traefikPorts.metrics}` },
    },
    ping: { entryPoint: "traefik" },
    api: { dashboard: true, insecure: false },
    metrics: { prometheus: { entryPoint: "metrics", addRoutersLabels: true } },
    providers: {
      // Only the served namespaces, and nothing cluster-scoped (IngressClasses, Nodes: unused here), so namespaced
      // Roles are all the access traefik needs. A route reaches Services and Middlewares of its own namespace only
      // (pkg/provider/kubernetes/crd/kubernetes.go `resolveReference`): whoever may write routes in the media
      // namespace cannot publish the platform's Services.
      kubernetesCRD: {
        namespaces: [...args.watchedNamespaces],
        disableClusterScopeResources: true,
        allowCrossNamespace: false,
        allowEmptyServices: true,
      },
    },
    log: { level: args.logLevel, format: "json" },
    // Only what needs a look: client and server errors, retried requests and slow requests.
    accessLog: {
      format: "json",
      filters: { statusCodes: ["400-599"], retryAttempts: true, minDuration: "500ms" },
      fields: { headers: { defaultMode: "drop" } },
    },
  };
}

export function renderTraefikStaticConfig(args: TraefikStaticConfigArgs): string {
  return stringify(traefikStaticConfig(args), { lineWidth: 0 });
}

export interface TraefikDynamicConfigArgs {
  /** Name of the middleware adding security and robots headers. */
  securityHeadersMiddleware: string;
  /** Name of the middleware admitting only the operators' networks. */
  adminAllowListMiddleware: string;
  /** CIDRs allowed to reach admin API, metrics and dashboard; empty: nobody from outside the cluster. */
  adminSourceRanges: readonly string[];
  /** Name of the TLS option (`default` makes it traefik's default for every router). */
  tlsOptionName: string;
}

/** HSTS for one year, subdomains included: every tenant host is HTTPS-only. */
export const hstsSeconds = 31_536_000;

/** TLS 1.2 AEAD suites with forward secrecy; TLS 1.3 suites are not configurable in Go and are all AEAD. */
export const tlsCipherSuites = [
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
] as const;

export const tlsCurvePreferences = ["X25519", "CurveP521", "CurveP384"] as const;

/** Security and robots headers of every route (HSTS with preload, no framing, no sniffing, no indexing). */
export const securityHeaders = {
  stsSeconds: hstsSeconds,
  stsIncludeSubdomains: true,
  stsPreload: true,
  forceSTSHeader: true,
  frameDeny: true,
  contentTypeNosniff: true,
  referrerPolicy: "strict-origin-when-cross-origin",
  customResponseHeaders: { "X-Robots-Tag": "noindex, nofollow, nosnippet, noarchive" },
} as const;

/** `securityHeaders` for a host other sites may frame: only its own pages and `origins` (CSP frame-ancestors). */
export function securityHeadersAllowingFrames(origins: readonly string[]) {
  return { ...securityHeaders, frameDeny: false, contentSecurityPolicy: ["frame-ancestors", "'self'", ...origins].join(" ") };
}

/**
 * The shared dynamic configuration: middlewares and the TLS option. The ingress component declares each entry as a
 * traefik CRD object, and the same document serves traefik's file provider where there is no Kubernetes.
 */
export function traefikDynamicConfig(args: TraefikDynamicConfigArgs) {
  // traefik rejects an empty list; loopback admits no real client (the LoadBalancer keeps client addresses).
  const sourceRange = args.adminSourceRanges.length === 0 ? ["127.0.0.1/32"] : [...args.adminSourceRanges];
  return {
    http: {
      middlewares: {
        [args.securityHeadersMiddleware]: {
          headers: securityHeaders,
        },
        [args.adminAllowListMiddleware]: {
          ipAllowList: { sourceRange },
        },
      },
    },
    tls: {
      options: {
        [args.tlsOptionName]: {
          minVersion: "VersionTLS12",
          cipherSuites: [...tlsCipherSuites],
          curvePreferences: [...tlsCurvePreferences],
          sniStrict: true,
        },
      },
    },
  };
}

export function renderTraefikDynamicConfig(args: TraefikDynamicConfigArgs): string {
  return stringify(traefikDynamicConfig(args), { lineWidth: 0 });
}

/** Go regular expression quoting (RE2 and JavaScript agree on these metacharacters). */
function quoteRegexp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** traefik v3 `HostRegexp` (plain Go regex) matching exactly one DNS label in front of `baseDomain`. */
export function tenantHostRegexp(baseDomain: string): string {
  return `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.${quoteRegexp(baseDomain)}$`;
}
