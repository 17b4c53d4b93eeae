import { createServer } from "node:http";
import type { IDeployment } from "kubernetes-models/apps/v1";
import type { IContainer, IEnvVar } from "kubernetes-models/v1";
import type { IIngressRoute, IMiddleware } from "@kubernetes-models/traefik/traefik.io/v1alpha1";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { declareWithMocks, findObject, objectOf, type DeclaredResource } from "./support/declared.js";
import { testCoturnArgs, testIngressBinding } from "./support/fixtures.js";
import { eventually, startProcess } from "./support/processes.js";

/*
 * The Jitsi pods read by the rules of the pinned images' templates (jitsi/docker-jitsi-meet at tag stable-10978,
 * the tag of components/k8s/versions.ts). The images render their configs from the environment at start with `tpl`;
 * a flag counts only when `toBool` reads it as true, so values here are "1"/"true" or "0"/"false", which it reads
 * the same way whatever the parser.
 */
let declared: DeclaredResource[];
const ttlSeconds = 3600;

beforeAll(async () => {
  ({ declared } = await declareWithMocks(async () => {
    const k8s = await import("@pulumi/kubernetes");
    const { Coturn } = await import("../../components/k8s/Coturn.js");
    const { JitsiMeet } = await import("../../components/k8s/JitsiMeet.js");
    const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
    const podCidrs = ["10.244.0.0/16"];
    const turn = new Coturn("turn", testCoturnArgs(provider, { podCidrs }));
    new JitsiMeet("jitsi", {
      provider,
      namespace: "media",
      host: "meet.example.org",
      ingress: testIngressBinding(),
      authentication: { type: "jwt", appId: "mediaplane-lms", guests: false },
      embeddingOrigins: ["https://lms.example.edu"],
      webReplicas: 1,
      udpPort: 10000,
      jvb: { kind: "hostPort", replicas: 2 },
      placement: undefined,
      turn: { host: "turn.example.org", staticAuthSecret: turn.staticAuthSecret, tls: true, pods: turn.inClusterUdp, credentialTtlSeconds: ttlSeconds },
      podCidrs,
    });
    return {};
  }));
});

const deployment = (name: string) => objectOf<IDeployment>(declared, "kubernetes:apps/v1:Deployment", name);
const containerOf = (name: string): IContainer => deployment(name).spec?.template.spec?.containers[0] as IContainer;
const env = (name: string, variable: string): IEnvVar | undefined => containerOf(name).env?.find((entry) => entry.name === variable);
const jitsiContainers = ["jitsi-web", "jitsi-prosody", "jitsi-jicofo", "jitsi-jvb-0", "jitsi-jvb-1"];

/** The templates' `{{ .Env.X | default d | toBool }}` for the values this platform sets. */
function templateFlag(name: string, variable: string, fallback: string): boolean {
  const value = env(name, variable)?.value ?? fallback;
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  throw new Error(`${name} ${variable}="${value}": not a value toBool reads the same everywhere`);
}

function secretValue(secretName: string, key: string): string {
  return (findObject(declared, "kubernetes:core/v1:Secret", secretName).inputs["stringData"] as Record<string, string>)[key] as string;
}

describe("jicofo", () => {
  // jicofo/rootfs/defaults/jicofo.conf: `$ENABLE_REST := .Env.JICOFO_ENABLE_REST | default "0" | toBool`, and only
  // `{{ if $ENABLE_REST }} rest { host = "0.0.0.0" }`; otherwise jicofo's REST port listens on loopback only.
  it("serves its health endpoint on the pod address the probes use", () => {
    expect(templateFlag("jitsi-jicofo", "JICOFO_ENABLE_REST", "0")).toBe(true);
    expect(containerOf("jitsi-jicofo").readinessProbe?.httpGet?.port).toBe("rest");
    expect(containerOf("jitsi-jicofo").ports).toContainEqual({ name: "rest", containerPort: 8888, protocol: "TCP" });
  });
});

describe("the bridges' public address", () => {
  // jvb/rootfs/defaults/jvb.conf: unless `JVB_DISABLE_STUN | default "0" | toBool`, ice4j's STUN mapping harvester
  // asks `JVB_STUN_SERVERS` (default meet-jit-si-turnrelay.jitsi.net:443); static-mappings come from JVB_ADVERTISE_IPS.
  it("never ask a STUN server, neither the TURN service inside the cluster nor the image's default outside", () => {
    for (const bridge of ["jitsi-jvb-0", "jitsi-jvb-1"]) {
      expect(templateFlag(bridge, "JVB_DISABLE_STUN", "0"), bridge).toBe(true);
      expect(env(bridge, "JVB_STUN_SERVERS"), bridge).toBeUndefined();
    }
  });

  it("advertise the node's public IP that the init container read from the instance metadata", () => {
    const spec = deployment("jitsi-jvb-0").spec?.template.spec;
    const lookup = spec?.initContainers?.[0];
    expect(lookup?.command?.join(" ")).toContain("http://169.254.169.254/metadata/loadbalancer?");
    expect(lookup?.command?.join(" ")).toContain("> /run/public-address/ip");
    expect(lookup?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, readOnlyRootFilesystem: true });
    // The image's ENTRYPOINT is s6-overlay's /init (base/Dockerfile); its cont-init renders jvb.conf from this env.
    expect(containerOf("jitsi-jvb-0").command).toEqual(["/bin/sh", "-c", 'JVB_ADVERTISE_IPS="$(cat /run/public-address/ip)"; export JVB_ADVERTISE_IPS; exec /init']);
    expect(containerOf("jitsi-jvb-0").volumeMounts).toEqual([{ name: "public-address", mountPath: "/run/public-address", readOnly: true }]);
    expect(spec?.volumes).toEqual([{ name: "public-address", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } }]);
  });
});

describe("TURN for Jitsi guests", () => {
  // prosody/rootfs/defaults/prosody.cfg.lua: `external_service_secret = TURN_CREDENTIALS`, and every turn/turns entry
  // of external_services carries `ttl = TURN_TTL` (default "86400") with `algorithm = "turn"`: mod_external_services
  // computes time-limited credentials from the secret (coturn's use-auth-secret scheme) for each participant.
  it("are computed by prosody from coturn's static auth secret", () => {
    expect(env("jitsi-prosody", "TURN_CREDENTIALS")?.valueFrom?.secretKeyRef).toEqual({ name: "jitsi-internal", key: "TURN_CREDENTIALS" });
    const coturn = (findObject(declared, "kubernetes:core/v1:Secret", "coturn-config").inputs["stringData"] as Record<string, string>)["turnserver.conf"];
    expect(coturn).toContain(`static-auth-secret=${secretValue("jitsi-internal", "TURN_CREDENTIALS")}\n`);
  });

  it("expire after the stack's short lifetime instead of the image's day", () => {
    expect(env("jitsi-prosody", "TURN_TTL")?.value).toBe(String(ttlSeconds));
  });

  it("reach guests only through prosody: no other container holds the secret and none hands out fixed credentials", () => {
    for (const name of jitsiContainers.filter((container) => container !== "jitsi-prosody")) {
      expect(env(name, "TURN_CREDENTIALS"), name).toBeUndefined();
    }
    for (const name of jitsiContainers) {
      expect(env(name, "TURN_USERNAME"), name).toBeUndefined();
      expect(env(name, "TURN_PASSWORD"), name).toBeUndefined();
    }
  });
});

describe("authentication", () => {
  // prosody jitsi-meet.cfg.lua: ENABLE_AUTH | toBool, AUTH_TYPE "jwt" -> authentication "token" with app_id =
  // JWT_APP_ID and app_secret = JWT_APP_SECRET; jicofo.conf: JICOFO_ENABLE_AUTH defaults to ENABLE_AUTH and
  // AUTH_TYPE "jwt" selects JWT; web system-config.js: ENABLE_AUTH / ENABLE_GUESTS decide the login the app offers.
  it("is on in prosody, jicofo and the web app alike, with the stack's token type", () => {
    for (const name of ["jitsi-web", "jitsi-prosody", "jitsi-jicofo"]) {
      expect(templateFlag(name, "ENABLE_AUTH", "0"), name).toBe(true);
      expect(env(name, "AUTH_TYPE")?.value, name).toBe("jwt");
      expect(templateFlag(name, "ENABLE_GUESTS", "0"), name).toBe(false);
    }
    expect(env("jitsi-prosody", "JWT_APP_ID")?.value).toBe("mediaplane-lms");
  });

  it("verifies tokens with a random secret that only prosody reads", () => {
    expect(env("jitsi-prosody", "JWT_APP_SECRET")?.valueFrom?.secretKeyRef).toEqual({ name: "jitsi-internal", key: "JWT_APP_SECRET" });
    expect(secretValue("jitsi-internal", "JWT_APP_SECRET")).toBe("<unknown until apply: random value of jitsi-jwt-secret>");
    const generator = findObject(declared, "random:index/randomPassword:RandomPassword", "jitsi-jwt-secret");
    expect(generator.inputs).toMatchObject({ length: 64, special: false });
    for (const name of jitsiContainers.filter((container) => container !== "jitsi-prosody")) expect(env(name, "JWT_APP_SECRET"), name).toBeUndefined();
  });
});

describe("embedding", () => {
  it("lets the listed origins frame the Jitsi host instead of denying every frame", () => {
    const route = objectOf<IIngressRoute>(declared, "kubernetes:traefik.io/v1alpha1:IngressRoute", "jitsi-web");
    expect(route.spec.routes[0]?.middlewares).toEqual([{ name: "jitsi-web-headers" }]);
    const headers = objectOf<IMiddleware>(declared, "kubernetes:traefik.io/v1alpha1:Middleware", "jitsi-web-headers").spec.headers;
    expect(headers?.contentSecurityPolicy).toBe("frame-ancestors 'self' https://lms.example.edu");
    expect(headers?.frameDeny).toBe(false);
    // Everything else of the shared security headers stays.
    expect(headers).toMatchObject({ stsSeconds: 31_536_000, stsIncludeSubdomains: true, contentTypeNosniff: true });
    expect(headers?.customResponseHeaders?.["X-Robots-Tag"]).toContain("noindex");
  });
});

describe("a bridge being replaced", () => {
  // jvb/rootfs/defaults/jvb.conf: `videobridge.rest.shutdown.enabled = SHUTDOWN_REST_ENABLED | default "false" | toBool`.
  // jitsi/jitsi-videobridge resources/graceful_shutdown.sh: POST {"graceful-shutdown": "true"} to /colibri/shutdown
  // on the private REST port, then poll /colibri/stats until `.conferences - .conference_sizes[0]` is 0; the bridge
  // exits by itself and jvb/rootfs/etc/services.d/jvb/finish stops the container on exit code 0.
  it("turns on the graceful-shutdown endpoint and waits for its calls for longer than a meeting lasts", () => {
    expect(templateFlag("jitsi-jvb-0", "SHUTDOWN_REST_ENABLED", "false")).toBe(true);
    expect(deployment("jitsi-jvb-0").spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThan(3600);
  });

  it("asks for a graceful shutdown, then holds the pod while conferences have participants", async () => {
    const requests: string[] = [];
    let conferences = { conferences: 3, conference_sizes: [1, 1, 1] };
    const server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        requests.push(`${request.method} ${request.url} ${body}`);
        response.writeHead(200, { "content-type": "application/json" });
        response.end(request.url === "/colibri/stats" ? JSON.stringify(conferences) : "");
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      const command = containerOf("jitsi-jvb-0").lifecycle?.preStop?.exec?.command ?? [];
      expect(command.slice(0, 2)).toEqual(["sh", "-c"]);
      // Only placement changes: the bridge's private REST port is a free loopback port here.
      const hook = startProcess("sh", ["-c", (command[2] ?? "").replaceAll("127.0.0.1:8080/", `127.0.0.1:${port}/`)]);
      await eventually(async () => {
        if (!requests.some((request) => request.startsWith("GET /colibri/stats"))) throw new Error("no stats request yet");
      });
      expect(requests[0]).toBe('POST /colibri/shutdown {"graceful-shutdown":"true"}');
      expect(hook.process.exitCode).toBeNull();
      // One conference left, but nobody in it: nothing to wait for.
      conferences = { conferences: 1, conference_sizes: [1] };
      await eventually(async () => {
        if (hook.process.exitCode === null) throw new Error("still waiting");
      }, 15_000);
      expect(hook.process.exitCode, hook.output()).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);
});
