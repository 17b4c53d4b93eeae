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
} as const;

/** The traefik CRD manifest of exactly the traefik release above, applied before any IngressRoute or Middleware. */
export const traefikCrdManifest =
  "https://raw.githubusercontent.com/traefik/traefik/v3.7.13/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml";

const movingTags = new Set(["latest", "stable", "unstable", "main", "master", "edge", "nightly"]);

/** Refuses an image reference without a fixed version: a tag that moves makes two rollouts of one stack differ. */
export function assertPinnedImage(field: string, image: string): string {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return image;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  const tag = colon === -1 ? undefined : lastSegment.slice(colon + 1);
  if (tag === undefined || movingTags.has(tag)) {
    throw new Error(`${field}: "${image}" is not pinned; use a release tag or a digest (never latest/stable)`);
  }
  return image;
}

/** Our own images: built from these Dockerfiles unless the stack pins a released reference. */
export const ownImages = {
  balancer: { tag: "0.1.0", context: ".", dockerfile: "images/balancer/Dockerfile" },
  janus: { tag: "1.3.3", context: "images/janus", dockerfile: "images/janus/Dockerfile" },
} as const;
