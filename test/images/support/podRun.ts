import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { IContainer, IPodSpec, ISecret, IVolume } from "kubernetes-models/v1";

/**
 * `podman run` arguments that start a container the way the kubelet starts it from the rendered pod spec: its user,
 * groups, capabilities, no-new-privileges, read-only root, environment (Secret references resolved), Secret files
 * and emptyDirs at their mount paths, and its command. A field this does not know how to reproduce fails the
 * translation, so a manifest change cannot be silently left out of the run.
 */
export interface PodRunOptions {
  pod: IPodSpec;
  container: IContainer;
  /** The Secrets the pod references, by object name, as rendered. */
  secrets: readonly ISecret[];
  /** Environment values to replace: placement only (ports, bind addresses on the shared host network). */
  envOverrides?: Readonly<Record<string, string>>;
  /** Replaces a Secret value the plan cannot know (a generated password), keyed by `<secret>/<key>`. */
  unknownSecretValue: (secretAndKey: string) => string;
}

export interface PodRun {
  /** Arguments for `podman run`, up to and excluding the image. */
  readonly optionsBeforeImage: string[];
  /** Arguments after the image (the container's args, after an entrypoint from `command`). */
  readonly argsAfterImage: string[];
  /** Removes the temporary files behind Secret volumes. */
  cleanup(): Promise<void>;
}

/** Container fields that do not change how the process starts (the kubelet's probes and hooks, scheduling, ports). */
const notAboutTheProcess = new Set(["name", "image", "ports", "readinessProbe", "livenessProbe", "startupProbe", "lifecycle", "resources", "imagePullPolicy"]);
const translated = new Set(["command", "args", "env", "securityContext", "volumeMounts"]);
const podFieldsNotAboutTheProcess = new Set(["containers", "initContainers", "volumes", "affinity", "nodeSelector", "tolerations", "topologySpreadConstraints", "terminationGracePeriodSeconds", "automountServiceAccountToken", "serviceAccountName", "priorityClassName"]);

const unknownMarker = "<unknown until apply";

function secretValue(secrets: readonly ISecret[], name: string, key: string, unknown: PodRunOptions["unknownSecretValue"]): string {
  const secret = secrets.find((candidate) => candidate.metadata?.name === name);
  const value = secret?.stringData?.[key] ?? (secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], "base64").toString());
  if (value === undefined) throw new Error(`Secret ${name} has no key ${key}`);
  return value.startsWith(unknownMarker) ? unknown(`${name}/${key}`) : value;
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
    if (!podFieldsNotAboutTheProcess.has(field) && field !== "securityContext") throw new Error(`pod field ${field} is not reproduced by podRun`);
  }
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const uid = security.runAsUser ?? podSecurity.runAsUser;
  const gid = security.runAsGroup ?? podSecurity.runAsGroup;
  const args: string[] = [];
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

  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.valueFrom !== undefined && ref === undefined) throw new Error(`env ${variable.name}: only secretKeyRef is reproduced`);
    const value = ref === undefined ? (variable.value ?? "") : secretValue(options.secrets, ref.name ?? "", ref.key, options.unknownSecretValue);
    args.push("--env", `${variable.name}=${options.envOverrides?.[variable.name] ?? value}`);
  }
  for (const [name, value] of Object.entries(options.envOverrides ?? {})) {
    if (!(container.env ?? []).some((variable) => variable.name === name)) args.push("--env", `${name}=${value}`);
  }

  const filesDir = await mkdtemp(join(tmpdir(), "mediaplane-pod-"));
  // Readable by the container's user, as the kubelet's volume directories are.
  await chmod(filesDir, 0o755);
  for (const mount of container.volumeMounts ?? []) {
    const volume: IVolume | undefined = pod.volumes?.find((candidate) => candidate.name === mount.name);
    if (volume?.secret !== undefined) {
      const secretName = volume.secret.secretName ?? "";
      const dir = join(filesDir, mount.name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      const items = volume.secret.items ?? [];
      if (items.length === 0) throw new Error(`volume ${mount.name}: a Secret volume without items is not reproduced`);
      for (const item of items) {
        const file = join(dir, item.path);
        await mkdir(dirname(file), { recursive: true, mode: 0o755 });
        // The kubelet's default mode for Secret files (0644) unless the volume sets one.
        await writeFile(file, secretValue(options.secrets, secretName, item.key, options.unknownSecretValue), { mode: item.mode ?? volume.secret.defaultMode ?? 0o644 });
      }
      // Secret volumes are always read-only in a pod.
      args.push("--volume", `${dir}:${mount.mountPath}:ro`);
    } else if (volume?.emptyDir !== undefined) {
      const size = volume.emptyDir.sizeLimit === undefined ? "" : `,size=${tmpfsSize(String(volume.emptyDir.sizeLimit))}`;
      // An emptyDir is a fresh directory writable by every user of the pod.
      args.push("--tmpfs", `${mount.mountPath}:rw,mode=0777${size}`);
    } else {
      throw new Error(`volume ${mount.name}: only Secret and emptyDir volumes are reproduced`);
    }
  }

  const argsAfterImage = [...(container.args ?? [])];
  if (container.command !== undefined) {
    const [entrypoint, ...rest] = container.command;
    if (entrypoint === undefined) throw new Error(`container ${container.name}: empty command`);
    args.push("--entrypoint", JSON.stringify([entrypoint]));
    argsAfterImage.unshift(...rest);
  }
  return { optionsBeforeImage: args, argsAfterImage, cleanup: () => rm(filesDir, { recursive: true, force: true }) };
}
