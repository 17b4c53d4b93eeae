import type { IDeployment } from "kubernetes-models/apps/v1";
import { describe, expect, it } from "vitest";
import { useStackManifests } from "./support/stackManifests.js";

/** Playback of recordings in the plan (docs/recordings.md): its pods, its share mount, its route. */

const dev = useStackManifests("dev");

interface Route {
  match: string;
  services: Array<{ name: string; port: number }>;
}
const routesOf = (name: string): Route[] => ((dev().get("IngressRoute", name) as unknown as { spec: { routes: Route[] } }).spec.routes);
const container = (name: string) => (dev().get("Deployment", name) as unknown as IDeployment).spec?.template.spec?.containers[0];
const env = (name: string): Record<string, string | undefined> => Object.fromEntries((container(name)?.env ?? []).map((entry) => [entry.name, entry.value]));

describe("recording playback in the plan", () => {
  it("runs the playback mode with the share mounted read-only", () => {
    expect(env("balancer-playback")).toMatchObject({ MODE: "playback", RECORDINGS_DIR: "/var/lib/mediaplane/recordings" });
    expect(container("balancer-playback")?.volumeMounts).toContainEqual({ name: "recordings", mountPath: "/var/lib/mediaplane/recordings", readOnly: true });
  });

  it("routes the players' paths on tenants' hosts to it, ahead of the tenants' API route", () => {
    const [playback] = routesOf("recording-playback");
    expect(playback?.match).toMatch(/^HostRegexp\(`.+`\) && \(PathPrefix\(`\/playback\/`\) \|\| PathPrefix\(`\/presentation\/`\)\)$/);
    expect(playback?.services).toEqual([expect.objectContaining({ name: "recording-playback", port: 8080 })]);
    const tenantApi = routesOf("balancer").find((route) => route.match.startsWith("HostRegexp"));
    expect(playback?.match.startsWith(tenantApi?.match ?? "none")).toBe(true);
    // traefik's default priority is the rule's length: the longer playback rule wins on the same hosts.
    expect(playback!.match.length).toBeGreaterThan(tenantApi!.match.length);
  });

  it("lets the pods behind a Service leave its endpoints before they stop, and the importer stop at once", () => {
    for (const name of ["balancer-playback", "balancer-recording-upload"]) expect(container(name)?.lifecycle?.preStop?.sleep?.seconds, name).toBe(5);
    expect(container("balancer-importer")?.lifecycle).toBeUndefined();
  });

  it("mounts the share read-write in the API pods, whose recording calls change it", () => {
    expect(env("balancer-api")["RECORDINGS_DIR"]).toBe("/var/lib/mediaplane/recordings");
    expect(container("balancer-api")?.volumeMounts).toContainEqual({ name: "recordings", mountPath: "/var/lib/mediaplane/recordings", readOnly: false });
  });
});
