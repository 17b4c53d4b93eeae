import { chmod, chown, mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { IConfigMap, IContainer, IKeyToPath, IPodSpec, ISecret, IVolume } from "kubernetes-models/v1";

/**
 * `podman run` arguments that start a container the way the kubelet starts it from the rendered pod spec: its user,
 * groups, capabilities, no-new-privileges, read-only root, environment (Secret references resolved), Secret files
 * and ConfigMap files, emptyDirs and claimed volumes at their mount paths (`subPath` included), and its command. A field this does not know how to reproduce fails the
 * translation, so a manifest change cannot be silently left out of the run.
 */
export interface PodRunOptions {
  pod: IPodSpec;
  container: IContainer;
  /** The Secrets the pod references, by object name, as rendered. */
  secrets: readonly ISecret[];
  /** The ConfigMaps the pod references, as rendered. */
  configMaps?: readonly IConfigMap[];
  /** Host directories standing in for a StatefulSet's claimed volumes (volumeClaimTemplates), by volume name. */
  claims?: Readonly<Record<string, string>>;
  /**
   * Host directories the test lays out as the kubelet projects a Secret volume (see `projectSecretFiles`), by volume
   * name, so the test can update the Secret while the container runs.
   */
  secretVolumeDirs?: Readonly<Record<string, string>>;
  /**
   * With `shareProcessNamespace`: `{ join: <container name> }` puts the container in the PID namespace of the pod's
   * container started first, which itself passes `"first"`.
   */
  processNamespace?: "first" | { join: string };
  /** Environment values to replace: placement only (ports, bind addresses on the shared host network). */
  envOverrides?: Readonly<Record<string, string>>;
  /**
   * Replaces a value the plan cannot know (a generated password) where a Secret holds it, alone or inside a rendered
   * file, given `<secret>/<key>` and the plan's placeholder text.
   */
  unknownSecretValue: (secretAndKey: string, placeholder: string) => string;
}

export interface PodRun {
  /** Arguments for `podman run`, up to and excluding the image. */
  readonly optionsBeforeImage: string[];
  /** Arguments after the image (the container's args, after an entrypoint from `command`). */
  readonly argsAfterImage: string[];
  /** Removes the temporary files behind Secret and ConfigMap volumes. */
  cleanup(): Promise<void>;
}

/** Container fields that do not change how the process starts (the kubelet's probes and hooks, scheduling, ports). */
const notAboutTheProcess = new Set(["name", "image", "ports", "readinessProbe", "livenessProbe", "startupProbe", "lifecycle", "resources", "imagePullPolicy"]);
const translated = new Set(["command", "args", "env", "securityContext", "volumeMounts"]);
const podFieldsNotAboutTheProcess = new Set(["containers", "initContainers", "volumes", "affinity", "nodeSelector", "tolerations", "topologySpreadConstraints", "terminationGracePeriodSeconds", "automountServiceAccountToken", "serviceAccountName", "priorityClassName"]);

const unknownPlaceholder = /<unknown until apply[^>]*>/g;

function secretValue(secrets: readonly ISecret[], name: string, key: string, unknown: PodRunOptions["unknownSecretValue"]): string {
  const secret = secrets.find((candidate) => candidate.metadata?.name === name);
  const value = secret?.stringData?.[key] ?? (secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], "base64").toString());
  if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return value.replace(unknownPlaceholder, (placeholder) => unknown(`${name}/${key}`, placeholder));
}

/** Kubernetes quantities as podman's tmpfs size (bytes, binary suffixes). */
function tmpfsSize(quantity: string): string {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (match?.[1] === undefined) throw new Error(`emptyDir sizeLimit ${quantity}: not a quantity this translation reads`);
  return `${match[1]}${{ Ki: "k", Mi: "m", Gi: "g" }[match[2] as "Ki" | "Mi" | "Gi"] ?? ""}`;
}

export async function podRun(options: PodRunOptions): Promise<PodRun> {
  const { pod, container } = options;
  for (const field of Object.keys(container)) {
    if (!notAboutTheProcess.has(field) && !translated.has(field)) throw new Error(`container ${container.name}: field ${field} is not reproduced by podRun`);
  }
  for (const field of Object.keys(pod)) {
    if (!podFieldsNotAboutTheProcess.has(field) && field !== "securityContext" && field !== "shareProcessNamespace") throw new Error(`pod field ${field} is not reproduced by podRun`);
  }
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const uid = security.runAsUser ?? podSecurity.runAsUser;
  const gid = security.runAsGroup ?? podSecurity.runAsGroup;
  const args: string[] = [];
  if (pod.shareProcessNamespace === true) {
    if (options.processNamespace === undefined) throw new Error(`pod shares its process namespace: say which container ${container.name} joins`);
    if (options.processNamespace !== "first") args.push(`--pid=container:${options.processNamespace.join}`);
  }
  if (security.runAsNonRoot ?? podSecurity.runAsNonRoot) {
    // The kubelet refuses a non-root container whose user it cannot verify as numeric and non-zero.
    if (uid === undefined || uid === 0) throw new Error(`container ${container.name}: runAsNonRoot without a non-zero runAsUser`);
  }
  if (uid !== undefined) args.push("--user", gid === undefined ? String(uid) : `${uid}:${gid}`);
  for (const group of [podSecurity.fsGroup, ...(podSecurity.supplementalGroups ?? [])]) {
    if (group !== undefined) args.push("--group-add", String(group));
  }
  if (security.privileged === true) throw new Error(`container ${container.name}: privileged is not reproduced`);
  if (security.allowPrivilegeEscalation === false) args.push("--security-opt", "no-new-privileges");
  for (const capability of security.capabilities?.drop ?? []) args.push("--cap-drop", capability);
  for (const capability of security.capabilities?.add ?? []) args.push("--cap-add", capability);
  for (const profile of [podSecurity.seccompProfile, security.seccompProfile]) {
    // RuntimeDefault is podman's default profile too.
    if (profile !== undefined && profile.type !== "RuntimeDefault") throw new Error(`seccomp profile ${profile.type} is not reproduced`);
  }
  // A pod's read-only root has no writable /tmp or /run unless a volume provides one; podman adds tmpfs there unless told not to.
  if (security.readOnlyRootFilesystem === true) args.push("--read-only", "--read-only-tmpfs=false");

  const environment: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.valueFrom !== undefined && ref === undefined) throw new Error(`env ${variable.name}: only secretKeyRef is reproduced`);
    const value = ref === undefined ? (variable.value ?? "") : secretValue(options.secrets, ref.name ?? "", ref.key, options.unknownSecretValue);
    environment[variable.name] = options.envOverrides?.[variable.name] ?? value;
  }
  Object.assign(environment, options.envOverrides);
  for (const [name, value] of Object.entries(environment)) args.push("--env", `${name}=${value}`);

  const filesDir = await mkdtemp(join(tmpdir(), "mediaplane-pod-"));
  // Readable by the container's user, as the kubelet's volume directories are.
  await chmod(filesDir, 0o755);
  const projected = { dir: filesDir, fsGroup: podSecurity.fsGroup };
  for (const mount of container.volumeMounts ?? []) {
    const volume: IVolume | undefined = pod.volumes?.find((candidate) => candidate.name === mount.name);
    const claim = options.claims?.[mount.name];
    let source: string;
    let readOnly = mount.readOnly === true;
    if (volume?.secret !== undefined) {
      const secretName = volume.secret.secretName ?? "";
      const projectedSecret = options.secrets.find((candidate) => candidate.metadata?.name === secretName);
      if (projectedSecret === undefined) throw new Error(`volume ${mount.name}: Secret ${secretName} not given`);
      const read = (key: string) => secretValue(options.secrets, secretName, key, options.unknownSecretValue);
      const laidOut = options.secretVolumeDirs?.[mount.name];
      source = laidOut ?? (await projectFiles(projected, mount.name, volume.secret.items ?? keysOf(projectedSecret), read, volume.secret.defaultMode));
      // Secret volumes are always read-only in a pod.
      readOnly = true;
    } else if (volume?.configMap !== undefined) {
      const configMap = options.configMaps?.find((candidate) => candidate.metadata?.name === volume.configMap?.name);
      if (configMap === undefined) throw new Error(`volume ${mount.name}: ConfigMap ${volume.configMap.name ?? ""} not given`);
      const read = (key: string) => {
        const value = configMap.data?.[key];
        if (value === undefined) throw new Error(`ConfigMap ${volume.configMap?.name ?? ""} has no key ${key}`);
        return value;
      };
      source = await projectFiles(projected, mount.name, volume.configMap.items ?? keysOf(configMap), read, volume.configMap.defaultMode);
      readOnly = true;
    } else if (volume?.emptyDir !== undefined && mount.subPath === undefined) {
      const size = volume.emptyDir.sizeLimit === undefined ? "" : `,size=${tmpfsSize(String(volume.emptyDir.sizeLimit))}`;
      // An emptyDir is a fresh directory writable by every user of the pod.
      args.push("--tmpfs", `${mount.mountPath}:rw,mode=0777${size}`);
      continue;
    } else if (volume === undefined && claim !== undefined) {
      source = claim;
    } else {
      throw new Error(`volume ${mount.name}: only Secret, ConfigMap, emptyDir and claimed volumes are reproduced`);
    }
    const mounted = mount.subPath === undefined ? source : join(source, mount.subPath);
    args.push("--volume", `${mounted}:${mount.mountPath}${readOnly ? ":ro" : ""}`);
  }

  const expand = (word: string) => expandVariableReferences(word, environment);
  const argsAfterImage = (container.args ?? []).map(expand);
  if (container.command !== undefined) {
    const [entrypoint, ...rest] = container.command.map(expand);
    if (entrypoint === undefined) throw new Error(`container ${container.name}: empty command`);
    args.push("--entrypoint", JSON.stringify([entrypoint]));
    argsAfterImage.unshift(...rest);
  }
  return { optionsBeforeImage: args, argsAfterImage, cleanup: () => rm(filesDir, { recursive: true, force: true }) };
}

/** The kubelet's `$(VAR)` expansion of command and args from the container's environment (`$$` is a literal `$`). */
function expandVariableReferences(word: string, environment: Readonly<Record<string, string>>): string {
  return word.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? "$" : (environment[name] ?? match)));
}

function keysOf(object: { data?: Record<string, string>; stringData?: Record<string, string> }): IKeyToPath[] {
  return Object.keys({ ...object.data, ...object.stringData }).map((key) => ({ key, path: key }));
}

/**
 * Writes a Secret's or ConfigMap's items as the kubelet projects them: the item's mode, else the volume's default,
 * else 0644; with an fsGroup, group-owned by it and group-readable (the kubelet's volume ownership for read-only
 * volumes).
 */
async function projectFiles(
  projected: { dir: string; fsGroup: number | undefined },
  volumeName: string,
  items: readonly IKeyToPath[],
  read: (key: string) => string,
  defaultMode: number | undefined,
): Promise<string> {
  const dir = join(projected.dir, volumeName);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const item of items) {
    const file = join(dir, item.path);
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    const mode = item.mode ?? defaultMode ?? 0o644;
    await writeFile(file, read(item.key), { mode });
    if (projected.fsGroup !== undefined) {
      await chown(file, 0, projected.fsGroup);
      await chmod(file, mode | 0o040);
    }
  }
  return dir;
}

/**
 * Writes (or updates) a Secret volume in `dir` the way the kubelet's atomic writer does (kubernetes
 * pkg/volume/util/atomic_writer.go): the files in a fresh `..<timestamp>` directory, a `..data_tmp` symlink to it
 * renamed over `..data` in one step, one `<key> -> ..data/<key>` symlink per key, then the previous directory
 * removed. A reader sees the old files or the new ones, never a mix.
 */
export async function projectSecretFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const previous = await readlink(join(dir, "..data")).catch(() => undefined);
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, "_").replace("Z", "")}${process.hrtime.bigint() % 1_000_000n}`;
  await mkdir(join(dir, stamp), { mode: 0o755 });
  await chmod(join(dir, stamp), 0o755);
  for (const [key, text] of Object.entries(files)) await writeFile(join(dir, stamp, key), text, { mode: 0o644 });
  await symlink(stamp, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const key of Object.keys(files)) {
    await symlink(join("..data", key), join(dir, key)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
  if (previous !== undefined) await rm(join(dir, previous), { recursive: true, force: true });
}
