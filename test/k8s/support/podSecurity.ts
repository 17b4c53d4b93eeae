import type { IContainer, IPodSpec, ISecurityContext } from "kubernetes-models/v1";

/**
 * The Pod Security Standards checks the platform's pods meet or miss, as Pod Security Admission applies them
 * (kubernetes/pod-security-admission, `policy/check_*.go`; the latest version of each check). A pod is admitted at
 * a level when none of that level's checks (and, for restricted, none of baseline's) finds a violation.
 */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** policy/check_capabilities_baseline.go: `capabilities_allowed_1_0`. */
const baselineCapabilities = new Set([
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);
/** policy/check_restrictedVolumes.go: the inline volume sources restricted allows. */
const restrictedVolumeSources = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "image"]);

const allContainers = (spec: IPodSpec): IContainer[] => [...(spec.initContainers ?? []), ...spec.containers];

function perContainer(spec: IPodSpec, problem: (container: IContainer, security: ISecurityContext) => string | undefined): string[] {
  return allContainers(spec).flatMap((container) => {
    const found = problem(container, container.securityContext ?? {});
    return found === undefined ? [] : [`${container.name}: ${found}`];
  });
}

/** What baseline forbids in the pod (empty: baseline admits it). */
export function baselineViolations(spec: IPodSpec): string[] {
  const pod = spec.securityContext ?? {};
  return [
    // check_hostNamespaces.go
    ...(["hostNetwork", "hostPID", "hostIPC"] as const).filter((field) => spec[field] === true).map((field) => `${field}: true`),
    // check_hostPathVolumes.go
    ...(spec.volumes ?? []).filter((volume) => volume.hostPath !== undefined).map((volume) => `volume ${volume.name}: hostPath`),
    // check_seccompProfile_baseline.go
    ...(pod.seccompProfile?.type === "Unconfined" ? ["pod seccompProfile: Unconfined"] : []),
    // check_sysctls.go: only the namespaced safe set; the platform sets none at all.
    ...(pod.sysctls ?? []).map((sysctl) => `sysctl ${sysctl.name}`),
    ...perContainer(spec, (container, security) => {
      const problems = [
        // check_privileged.go
        security.privileged === true ? "privileged" : undefined,
        // check_hostPorts.go
        ...(container.ports ?? []).filter((port) => (port.hostPort ?? 0) !== 0).map((port) => `hostPort ${port.hostPort}`),
        // check_capabilities_baseline.go
        ...(security.capabilities?.add ?? []).filter((capability) => !baselineCapabilities.has(capability)).map((capability) => `adds ${capability}`),
        // check_seccompProfile_baseline.go, check_procMount_baseline.go, check_seLinuxOptions.go (type/user/role)
        security.seccompProfile?.type === "Unconfined" ? "seccompProfile: Unconfined" : undefined,
        security.procMount !== undefined && security.procMount !== "Default" ? `procMount ${security.procMount}` : undefined,
        security.seLinuxOptions?.user !== undefined || security.seLinuxOptions?.role !== undefined ? "seLinuxOptions user/role" : undefined,
        // check_hostProbesAndhostLifecycle.go
        ...[container.livenessProbe, container.readinessProbe, container.startupProbe].flatMap((probe) =>
          probe?.httpGet?.host !== undefined || probe?.tcpSocket?.host !== undefined ? ["probe host"] : [],
        ),
      ].filter((problem): problem is string => problem !== undefined);
      return problems.length === 0 ? undefined : problems.join(", ");
    }),
  ];
}

/** What restricted forbids beyond baseline (empty together with `baselineViolations`: restricted admits it). */
export function restrictedOnlyViolations(spec: IPodSpec): string[] {
  const pod = spec.securityContext ?? {};
  return [
    // check_restrictedVolumes.go
    ...(spec.volumes ?? []).flatMap((volume) =>
      Object.keys(volume).filter((key) => key !== "name" && !restrictedVolumeSources.has(key)).map((key) => `volume ${volume.name}: ${key}`),
    ),
    // check_runAsUser.go
    ...(pod.runAsUser === 0 ? ["pod runAsUser: 0"] : []),
    ...perContainer(spec, (_container, security) => {
      const seccomp = security.seccompProfile?.type ?? pod.seccompProfile?.type;
      const problems = [
        // check_allowPrivilegeEscalation.go
        security.allowPrivilegeEscalation === false ? undefined : "allowPrivilegeEscalation not false",
        // check_runAsNonRoot.go (no user namespaces here: hostUsers is never false)
        (security.runAsNonRoot ?? pod.runAsNonRoot) === true ? undefined : "runAsNonRoot not true",
        security.runAsNonRoot === false ? "runAsNonRoot: false" : undefined,
        // check_runAsUser.go
        security.runAsUser === 0 ? "runAsUser: 0" : undefined,
        // check_seccompProfile_restricted.go
        seccomp === "RuntimeDefault" || seccomp === "Localhost" ? undefined : "seccompProfile neither RuntimeDefault nor Localhost",
        // check_capabilities_restricted.go
        security.capabilities?.drop?.includes("ALL") === true ? undefined : "does not drop ALL capabilities",
        ...(security.capabilities?.add ?? []).filter((capability) => capability !== "NET_BIND_SERVICE").map((capability) => `adds ${capability}`),
      ].filter((problem): problem is string => problem !== undefined);
      return problems.length === 0 ? undefined : problems.join(", ");
    }),
  ];
}

/** Why `level` would refuse the pod (empty: it admits it). */
export function podSecurityViolations(level: PodSecurityLevel, spec: IPodSpec): string[] {
  if (level === "privileged") return [];
  return level === "baseline" ? baselineViolations(spec) : [...baselineViolations(spec), ...restrictedOnlyViolations(spec)];
}

/** The strictest level that admits the pod. */
export function strictestAdmittingLevel(spec: IPodSpec): PodSecurityLevel {
  if (podSecurityViolations("restricted", spec).length === 0) return "restricted";
  return baselineViolations(spec).length === 0 ? "baseline" : "privileged";
}
