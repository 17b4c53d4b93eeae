import { mediaUserBuildArgs } from "./mediaUser.js";

/**
 * Pinned upstream images: a stack may override any of them, never with a moving tag (see `assertPinnedImage`).
 * Our own images (balancer, Janus) are built by the program and referenced by digest.
 */
export const defaultImages = {
  traefik: "docker.io/library/traefik:v3.7.13",
  redis: "docker.io/library/redis:8.2.8-alpine",
  coturn: "docker.io/coturn/coturn:4.6.3",
  jitsiWeb: "docker.io/jitsi/web:stable-10978",
  jitsiProsody: "docker.io/jitsi/prosody:stable-10978",
  jitsiJicofo: "docker.io/jitsi/jicofo:stable-10978",
  jitsiJvb: "docker.io/jitsi/jvb:stable-10978",
  /** The in-cluster Redis's metrics sidecar when the stack runs Prometheus monitors (tested as Debian's 1.45.0 build). */
  redisExporter: "docker.io/oliver006/redis_exporter:v1.45.0",
} as const;

/** The traefik CRD manifest of exactly the traefik release above, applied before any IngressRoute or Middleware. */
export const traefikCrdManifest =
  "https://raw.githubusercontent.com/traefik/traefik/v3.7.13/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml";

/**
 * The Prometheus Operator's ServiceMonitor and PodMonitor CRDs of one release, applied before the stack's monitors
 * when the stack installs them (`monitoring.prometheusOperator.installCrds`).
 */
export const prometheusOperatorCrdManifests = ["servicemonitors", "podmonitors"].map(
  (plural) => `https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v0.93.0/example/prometheus-operator-crd/monitoring.coreos.com_${plural}.yaml`,
);

const movingTags = new Set(["latest", "stable", "unstable", "main", "master", "edge", "nightly"]);

/**
 * The one image-pin rule (stack config, components, the policy pack): a digest, or a tag that names a release.
 * No tag, or a tag that moves (`latest`, `stable`, ...), would let two rollouts of one stack run different code.
 * Returns why `tag` is not a release tag (undefined: it is one).
 */
export function tagPinProblem(tag: string | undefined): string | undefined {
  if (tag === undefined || tag === "") return "it has no tag; use a release tag or a digest";
  if (movingTags.has(tag)) return `its tag "${tag}" moves; use a release tag or a digest (never latest/stable)`;
  return undefined;
}

/** Why an image reference is not pinned, or undefined when it is (see `tagPinProblem`). */
export function imagePinProblem(image: string): string | undefined {
  const at = image.indexOf("@");
  if (at !== -1) {
    // A digest pins whatever the tag says; a malformed one must not pass as a tag ("redis@sha256:abc").
    return /^sha256:[0-9a-f]{64}$/.test(image.slice(at + 1)) ? undefined : `"${image}" is not pinned: its digest is not sha256:<64 hex digits>`;
  }
  // The tag follows the last ':' of the last path segment; an earlier ':' is a registry port.
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  const problem = tagPinProblem(colon === -1 ? undefined : lastSegment.slice(colon + 1));
  return problem === undefined ? undefined : `"${image}" is not pinned: ${problem}`;
}

/** The image, or an error naming the key it came from when it is not pinned. */
export function assertPinnedImage(key: string, image: string): string {
  const problem = imagePinProblem(image);
  if (problem !== undefined) throw new Error(`${key}: ${problem}`);
  return image;
}

/** Our own images: built from these Dockerfiles (with these build arguments) unless the stack pins a released reference. */
export const ownImages: Record<"balancer" | "janus", { tag: string; context: string; dockerfile: string; buildArgs?: Readonly<Record<string, string>> }> = {
  balancer: { tag: "0.1.0", context: ".", dockerfile: "images/balancer/Dockerfile" },
  janus: { tag: "1.3.3", context: "images/janus", dockerfile: "images/janus/Dockerfile", buildArgs: mediaUserBuildArgs },
};
