/**
 * The one image-pin rule (stack config, components, the policy pack): a digest, or a tag that names a release.
 * It lives in the pack, which is published on its own; the program imports it from here.
 */

const movingTags = new Set(["latest", "stable", "unstable", "main", "master", "edge", "nightly"]);

/**
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

/**
 * `registry/path` of an image reference as the container runtime reads it: no registry means Docker Hub, and a
 * one-segment path there is an official image under `library/`.
 */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  const name = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
  const [first = "", ...rest] = name.split("/");
  const hasRegistry = rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return name;
  return rest.length === 0 ? `docker.io/library/${first}` : `docker.io/${name}`;
}
