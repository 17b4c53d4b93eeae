import { chmod, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../balancer/test/support/redis.js";
import { mediaUser, mediaUserBuildArgs } from "../../components/k8s/mediaUser.js";
import { renderJanusConfig } from "../../components/k8s/render/janus.js";
import { janusOnLoopback, testJanusConfigArgs } from "../k8s/support/fixtures.js";
import { eventually } from "../k8s/support/processes.js";
import { buildImage, ensureStandInBases, imageToolsMissing, podman, repositoryRoot, startContainer, type RunningContainer } from "./support/podman.js";

// The Janus image's runtime stage (images/janus/Dockerfile, target runtime-base: the Debian base, the runtime
// libraries, the media user) built on the stand-in of its pinned Debian base. The stage that compiles Janus fetches
// the release from the internet, which these machines cannot reach; Debian's build of Janus stands in for it here.
const missing = await imageToolsMissing();
if (missing !== undefined) console.warn(missing);

const image = "localhost/mediaplane/janus-runtime:test";
const debianLibs = "/usr/lib/x86_64-linux-gnu";
/** What the image builds (`--enable-plugin-videoroom --enable-rest --enable-websockets`), as Debian ships them. */
const modules = [`${debianLibs}/janus/plugins/libjanus_videoroom.so`, `${debianLibs}/janus/transports/libjanus_http.so`, `${debianLibs}/janus/transports/libjanus_websockets.so`];
/** Debian's Janus is built with data channels (SCTP); the image's is not (`--disable-data-channels`). */
const sctpLibrary = "libusrsctp.so.2";
const debianJanusMounts = ["/usr/bin/janus", ...modules].flatMap((path) => ["--volume", `${path}:${path}:ro`]);

let configDir: string;
let janus: RunningContainer;
let apiPort: number;

/** Libraries `ldd` cannot find inside the runtime stage, for each of `paths` (one container for all). */
async function missingLibraries(paths: readonly string[]): Promise<Record<string, string[]>> {
  const script = 'for file; do echo "== $file"; ldd "$file"; done';
  const output = await podman(["run", "--rm", "--network=none", ...debianJanusMounts, "--entrypoint", "sh", image, "-c", script, "sh", ...paths]);
  return Object.fromEntries(
    output.split(/^== /m).filter((section) => section !== "").map((section) => {
      const [path = "", ...lines] = section.split("\n");
      return [path, lines.flatMap((line) => /^\s*(\S+) => not found$/.exec(line)?.[1] ?? [])];
    }),
  );
}

describe.skipIf(missing !== undefined)("the Janus image's runtime stage", () => {
  beforeAll(async () => {
    await ensureStandInBases();
    await buildImage({ dockerfile: "images/janus/Dockerfile", context: "images/janus", target: "runtime-base", tag: image, buildArgs: mediaUserBuildArgs });

    configDir = await mkdtemp(join(tmpdir(), "mediaplane-janus-image-"));
    await chmod(configDir, 0o755);
    apiPort = await freePort();
    const [adminPort, websocketPort] = [await freePort(), await freePort()];
    const files = renderJanusConfig(testJanusConfigArgs());
    // The container shares the host's network, so free loopback ports instead of the pod's.
    const placed = (text: string) => janusOnLoopback(text, { http: apiPort, admin: adminPort, websocket: websocketPort });
    for (const [name, text] of Object.entries(files)) await writeFile(join(configDir, name), placed(text), { mode: 0o644 });

    const sctp = await realpath(join(debianLibs, sctpLibrary));
    janus = await startContainer(`mediaplane-janus-${process.pid}`, [
      "--network=host",
      "--user",
      `${mediaUser.uid}:${mediaUser.gid}`,
      "--read-only",
      "--read-only-tmpfs=false",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--volume",
      `${configDir}:/etc/janus:ro`,
      ...debianJanusMounts,
      // Only Debian's binary needs SCTP (see above): lent from the host for this run, not part of the image.
      "--volume",
      `${sctp}:${debianLibs}/${sctpLibrary}:ro`,
      "--entrypoint",
      '["janus"]',
      image,
      "--configs-folder=/etc/janus",
    ]);
    await eventually(async () => {
      if (janus.exited()) throw new Error(`janus exited:\n${janus.output()}`);
      const response = await fetch(`http://127.0.0.1:${apiPort}/janus/info`);
      if (!response.ok) throw new Error(`info: ${response.status}`);
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${janus.output()}`);
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await janus?.stop();
    if (configDir !== undefined) await rm(configDir, { recursive: true, force: true });
  });

  it("gives the video room plugin and the HTTP and WebSocket transports every library they link", async () => {
    expect(await missingLibraries(modules)).toEqual(Object.fromEntries(modules.map((module) => [module, []])));
  }, 120_000);

  it("gives Janus's core every library except SCTP, which the image's build leaves out with data channels", async () => {
    const dockerfile = await readFile(join(repositoryRoot, "images/janus/Dockerfile"), "utf8");
    expect(dockerfile).toContain("--disable-data-channels");
    expect(await missingLibraries(["/usr/bin/janus"])).toEqual({ "/usr/bin/janus": [sctpLibrary] });
  }, 120_000);

  it("starts Janus as the media user with the rendered config, read-only root and no capabilities", async () => {
    const info = (await (await fetch(`http://127.0.0.1:${apiPort}/janus/info`)).json()) as {
      plugins: Record<string, unknown>;
      transports: Record<string, unknown>;
    };
    expect(Object.keys(info.plugins)).toEqual(["janus.plugin.videoroom"]);
    expect(Object.keys(info.transports).sort()).toEqual(["janus.transport.http", "janus.transport.websockets"]);
    const status = await podman(["exec", janus.name, "cat", "/proc/1/status"]);
    expect(status).toMatch(new RegExp(`^Uid:\\s+${mediaUser.uid}\\s+${mediaUser.uid}\\s+${mediaUser.uid}\\s+${mediaUser.uid}$`, "m"));
    expect(status).toMatch(/^CapEff:\s+0{16}$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
  });
});
