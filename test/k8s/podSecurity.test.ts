import type { IPodSpec } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { baselineViolations, podSecurityViolations, strictestAdmittingLevel } from "./support/podSecurity.js";
import { mediaPodSecurity } from "../../components/k8s/podSecurity.js";
import { parseStackConfig } from "../../config/index.js";
import { stackSettings } from "../../scripts/stackFile.js";

// The checker the stack manifest tests judge namespaces with must itself refuse what Pod Security Admission refuses.
const restrictedPod: IPodSpec = {
  securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
  containers: [{ name: "app", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }],
  volumes: [{ name: "config", configMap: { name: "c" } }, { name: "data", persistentVolumeClaim: { claimName: "d" } }],
};
const withContainer = (security: NonNullable<IPodSpec["containers"][number]["securityContext"]>): IPodSpec => ({
  ...restrictedPod,
  containers: [{ name: "app", securityContext: security }],
});

describe("the Pod Security checker", () => {
  it("admits at restricted a non-root pod that drops every capability but NET_BIND_SERVICE", () => {
    expect(podSecurityViolations("restricted", restrictedPod)).toEqual([]);
  });

  it("puts a root pod adding the capabilities an s6 init needs at baseline", () => {
    const pod: IPodSpec = {
      containers: [{ name: "web", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["CHOWN", "SETUID", "KILL"] }, seccompProfile: { type: "RuntimeDefault" } } }],
    };
    expect(podSecurityViolations("restricted", pod)).toEqual(["web: runAsNonRoot not true, adds CHOWN, adds SETUID, adds KILL"]);
    expect(strictestAdmittingLevel(pod)).toBe("baseline");
  });

  it("needs privileged for host networking and host ports", () => {
    expect(baselineViolations({ ...restrictedPod, hostNetwork: true })).toEqual(["hostNetwork: true"]);
    const hostPort: IPodSpec = { ...restrictedPod, containers: [{ name: "jvb", ports: [{ containerPort: 10000, hostPort: 10000, protocol: "UDP" }] }] };
    expect(baselineViolations(hostPort)).toEqual(["jvb: hostPort 10000"]);
    expect(strictestAdmittingLevel(hostPort)).toBe("privileged");
  });

  it("refuses at baseline a capability outside the default set, and at restricted privilege escalation", () => {
    expect(baselineViolations(withContainer({ capabilities: { add: ["NET_ADMIN"] } }))).toEqual(["app: adds NET_ADMIN"]);
    expect(podSecurityViolations("restricted", withContainer({ capabilities: { drop: ["ALL"] } }))).toEqual(["app: allowPrivilegeEscalation not false"]);
  });

  it("refuses at restricted volume sources outside its list, such as hostPath or an in-tree Azure file share", () => {
    const pod: IPodSpec = { ...restrictedPod, volumes: [{ name: "share", azureFile: { secretName: "s", shareName: "x" } }] };
    expect(podSecurityViolations("restricted", pod)).toEqual(["volume share: azureFile"]);
    expect(baselineViolations({ ...restrictedPod, volumes: [{ name: "root", hostPath: { path: "/" } }] })).toEqual(["volume root: hostPath"]);
  });
});

describe("the media namespaces' Pod Security levels", () => {
  const settings = (jitsi: boolean, janus: boolean, exposure: "loadBalancer" | "hostPort" = "loadBalancer") => {
    const parsed = parseStackConfig(stackSettings("dev"), "mediaplane");
    return { jitsi: { ...parsed.jitsi, enabled: jitsi, jvb: { ...parsed.jitsi.jvb, exposure } }, janus: { ...parsed.janus, enabled: janus } };
  };

  it("puts Jitsi on load-balancer bridges in a baseline namespace, its images starting as root, and needs no privileged one", () => {
    expect(mediaPodSecurity(settings(true, false))).toEqual({
      media: { level: "baseline", exceptions: ["Jitsi web, prosody, jicofo, bridges: start as root, add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL"] },
      mediaHost: undefined,
    });
  });

  it("puts Janus alone in a privileged namespace for its host network", () => {
    expect(mediaPodSecurity(settings(false, true))).toEqual({
      media: undefined,
      mediaHost: { level: "privileged", exceptions: ["Janus: hostNetwork, media on the node's public IP"] },
    });
  });

  it("moves host-port bridges to the privileged namespace while web, prosody and jicofo stay at baseline", () => {
    const { media, mediaHost } = mediaPodSecurity(settings(true, true, "hostPort"));
    expect(media).toEqual({ level: "baseline", exceptions: ["Jitsi web, prosody, jicofo: start as root, add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL"] });
    expect(mediaHost?.level).toBe("privileged");
    expect(mediaHost?.exceptions).toEqual([
      "Janus: hostNetwork, media on the node's public IP",
      "Jitsi bridges: hostPort 10000/UDP on the media nodes",
      "Jitsi bridges: start as root, add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, KILL",
    ]);
  });

  it("makes neither when the stack runs neither Jitsi nor Janus", () => {
    expect(mediaPodSecurity(settings(false, false))).toEqual({ media: undefined, mediaHost: undefined });
  });
});
