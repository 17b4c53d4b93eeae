import { mediaUserBuildArgs } from "./mediaUser.js";
import { imagePinProblem } from "../../policies/kubernetes/imagePins.js";

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
 * cert-manager of one release (CRDs, controller, webhook, cainjector in the `cert-manager` namespace), installed by
 * the stack when it issues certificates: its RFC2136 DNS-01 solver issues them into Secrets traefik and coturn read.
 */
export const certManagerRelease = "v1.21.1";
export const certManagerManifest = `https://github.com/cert-manager/cert-manager/releases/download/${certManagerRelease}/cert-manager.yaml`;

/**
 * The Prometheus Operator's ServiceMonitor and PodMonitor CRDs of one release, applied before the stack's monitors
 * when the stack installs them (`monitoring.prometheusOperator.installCrds`).
 */
export const prometheusOperatorCrdManifests = ["servicemonitors", "podmonitors"].map(
  (plural) => `https://raw.githubusercontent.com/prometheus-operator/prometheus-operator/v0.93.0/example/prometheus-operator-crd/monitoring.coreos.com_${plural}.yaml`,
);

export { imagePinProblem, tagPinProblem } from "../../policies/kubernetes/imagePins.js";

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
