import { describe, expect, it } from "vitest";
import { assertPinnedImage, imagePinProblem } from "../../components/k8s/versions.js";

// The one rule the stack config, the components and the policy pack apply to image references.
describe("image pin rule", () => {
  it("accepts a release tag, also behind a registry port", () => {
    expect(imagePinProblem("docker.io/library/redis:8.2.8-alpine")).toBeUndefined();
    expect(imagePinProblem("registry.example.org:5000/janus:1.3.3")).toBeUndefined();
    expect(imagePinProblem("docker.io/jitsi/web:stable-10978")).toBeUndefined();
  });

  it("accepts a digest, with or without a tag", () => {
    const digest = `@sha256:${"ab".repeat(32)}`;
    expect(imagePinProblem(`registry.example.org/balancer${digest}`)).toBeUndefined();
    expect(imagePinProblem(`registry.example.org/balancer:0.1.0${digest}`)).toBeUndefined();
  });

  it("refuses latest and stable", () => {
    expect(imagePinProblem("redis:latest")).toBe('"redis:latest" is not pinned: its tag "latest" moves; use a release tag or a digest (never latest/stable)');
    expect(imagePinProblem("jitsi/web:stable")).toMatch(/^"jitsi\/web:stable" is not pinned: its tag "stable" moves/);
  });

  it("refuses a reference without a tag, a registry port not counting as one", () => {
    expect(imagePinProblem("alpine")).toBe('"alpine" is not pinned: it has no tag; use a release tag or a digest');
    expect(imagePinProblem("registry.example.org:5000/alpine")).toMatch(/it has no tag/);
  });

  it("refuses a truncated digest", () => {
    expect(imagePinProblem("redis@sha256:abc")).toBe('"redis@sha256:abc" is not pinned: its digest is not sha256:<64 hex digits>');
  });

  it("names the key in the error and returns a pinned image unchanged", () => {
    expect(() => assertPinnedImage("traefik.image", "traefik:latest")).toThrow(/^traefik\.image: "traefik:latest" is not pinned/);
    expect(assertPinnedImage("traefik.image", "traefik:v3.7.13")).toBe("traefik:v3.7.13");
  });
});
