import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IPodMonitor, IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import type { IDeployment, IStatefulSet } from "kubernetes-models/apps/v1";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import type { IConfigMap, IService } from "kubernetes-models/v1";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { kubernetesManifest } from "../../scripts/manifests.js";
import { blocksDeployment, evaluatePolicies, plannedResources } from "../../scripts/policyEvaluation.js";
import { dashboardFile } from "../../components/k8s/Monitoring.js";
import { prometheusOperatorCrdManifests } from "../../components/k8s/versions.js";
import { runStack, type StackRun } from "../stacks/support/stackRun.js";
import { validateAgainstSchema } from "./support/schemas.js";
import type { Manifest } from "./support/stackManifests.js";

/**
 * The dev stack with monitoring on: Prometheus Operator monitors for the balancer's API and pollers, traefik, and
 * the Grafana dashboard, as a kube-prometheus-stack in namespace `observability` would pick them up. The monitors'
 * fields follow the operator's v0.93.0 CRDs (example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml:
 * `endpoints[].authorization.credentials` is a key of a Secret in the monitor's own namespace).
 */
const prometheusPods = { namespace: "observability", podLabels: { "app.kubernetes.io/name": "prometheus", prometheus: "platform" } };
let dir: string;
let run: StackRun;
let manifests: Manifest[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mediaplane-monitoring-"));
  const stack = parseYaml(readFileSync("stacks/Pulumi.dev.yaml", "utf8")) as { config: Record<string, unknown> };
  stack.config["mediaplane:monitoring"] = {
    prometheusOperator: { selectorLabels: { release: "kube-prometheus-stack" }, scrapeInterval: "15s", prometheusPods },
    grafanaDashboards: { namespace: "observability" },
  };
  const file = join(dir, "Pulumi.devmonitored.yaml");
  writeFileSync(file, stringifyYaml(stack));
  run = await runStack(file);
  manifests = run.resources.map(kubernetesManifest).filter((manifest): manifest is Manifest => manifest !== undefined);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function manifest<T>(kind: string, name: string): T {
  const found = manifests.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found as unknown as T;
}

const prometheusPeer = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } }, podSelector: { matchLabels: prometheusPods.podLabels } };

describe("monitoring on the dev stack", () => {
  it("applies the ServiceMonitor and PodMonitor CRDs of one pinned operator release before any monitor", () => {
    // A ConfigFile is a component: the plan records it, not its inputs; the URLs are the pinned constants.
    const crds = run.ofType("kubernetes:yaml/v2:ConfigFile").filter((resource) => resource.name.includes("monitoring-crds"));
    expect(crds).toHaveLength(prometheusOperatorCrdManifests.length);
    for (const file of prometheusOperatorCrdManifests) expect(file).toMatch(/\/prometheus-operator\/v\d+\.\d+\.\d+\/example\/prometheus-operator-crd\/monitoring\.coreos\.com_(servicemonitors|podmonitors)\.yaml$/);
    expect(new Set(prometheusOperatorCrdManifests.map((file) => /\/(v[\d.]+)\//.exec(file)?.[1])).size).toBe(1);
    const monitors = run.resources.filter((resource) => ["PodMonitor", "ServiceMonitor"].includes(String(resource.inputs["kind"])));
    expect(monitors).toHaveLength(4);
    for (const monitor of monitors) {
      for (const crd of crds) expect(monitor.engine.dependencies).toContain(crd.urn);
    }
  });

  it("writes monitors valid against the operator's schemas", async () => {
    const monitors = manifests.filter((candidate) => candidate.apiVersion === "monitoring.coreos.com/v1");
    expect(monitors.map((monitor) => `${monitor.kind}/${monitor.metadata.name}`).sort()).toEqual(["PodMonitor/balancer-poller", "PodMonitor/redis", "PodMonitor/traefik", "ServiceMonitor/balancer-api"]);
    for (const monitor of monitors) await validateAgainstSchema(monitor);
  });

  it("scrapes the balancer's API pods through their Service's admin port, with the admin token from its Secret", () => {
    const monitor = manifest<IServiceMonitor>("ServiceMonitor", "balancer-api");
    const service = manifest<IService>("Service", "balancer");
    expect(monitor.metadata?.labels).toMatchObject({ release: "kube-prometheus-stack" });
    expect(monitor.spec.selector.matchLabels).toEqual(service.metadata?.labels);
    expect(service.spec?.ports?.map((port) => port.name)).toContain("admin");
    expect(monitor.spec.endpoints).toEqual([
      { port: "admin", path: "/metrics", interval: "15s", authorization: { type: "Bearer", credentials: { name: "balancer", key: "adminToken" } } },
    ]);
    const secret = manifests.find((candidate) => candidate.kind === "Secret" && candidate.metadata.name === "balancer");
    expect(Object.keys((secret?.["stringData"] ?? {}) as Record<string, string>)).toContain("adminToken");
  });

  it("scrapes every poller pod on its admin port, and traefik on its metrics port", () => {
    const pollers = manifest<IPodMonitor>("PodMonitor", "balancer-poller");
    const pollerDeployment = manifest<IDeployment>("Deployment", "balancer-poller");
    expect(pollers.spec.selector.matchLabels).toEqual(pollerDeployment.spec?.template.metadata?.labels);
    expect(pollerDeployment.spec?.template.spec?.containers[0]?.ports?.map((port) => port.name)).toContain("admin");
    expect(pollers.spec.podMetricsEndpoints?.[0]).toMatchObject({ port: "admin", authorization: { credentials: { name: "balancer", key: "adminToken" } } });
    const traefik = manifest<IPodMonitor>("PodMonitor", "traefik");
    const traefikDeployment = manifest<IDeployment>("Deployment", "traefik");
    expect(traefik.spec.selector.matchLabels).toEqual(traefikDeployment.spec?.template.metadata?.labels);
    expect(traefikDeployment.spec?.template.spec?.containers[0]?.ports?.map((port) => port.name)).toContain("metrics");
    expect(traefik.spec.podMetricsEndpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s" }]);
  });

  it("scrapes the in-cluster Redis through an exporter sidecar that reads Redis over loopback with its password", () => {
    const monitor = manifest<IPodMonitor>("PodMonitor", "redis");
    const redis = manifest<IStatefulSet>("StatefulSet", "redis");
    expect(monitor.spec.selector.matchLabels).toEqual(redis.spec?.template.metadata?.labels);
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "15s" }]);
    const exporter = redis.spec?.template.spec?.containers.find((container) => container.name === "metrics");
    expect(exporter?.image).toBe("docker.io/oliver006/redis_exporter:v1.45.0");
    expect(exporter?.env).toEqual([
      { name: "REDIS_ADDR", value: "redis://127.0.0.1:6379" },
      { name: "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", value: ":9121" },
      { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } } },
    ]);
    expect(exporter?.args).toBeUndefined();
    expect(exporter?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  it("admits the stack's Prometheus, and only it, to the balancer's admin port and traefik's metrics port", () => {
    const balancerIngress = manifest<INetworkPolicy>("NetworkPolicy", "balancer").spec?.ingress ?? [];
    expect(balancerIngress).toContainEqual({ from: [prometheusPeer], ports: [{ port: 9090, protocol: "TCP" }] });
    const traefikIngress = manifest<INetworkPolicy>("NetworkPolicy", "traefik").spec?.ingress ?? [];
    expect(traefikIngress).toContainEqual({ from: [prometheusPeer], ports: [{ port: 9100, protocol: "TCP" }] });
    expect(traefikIngress.filter((rule) => rule.ports?.some((port) => port.port === 9100))).toHaveLength(1);
    const redisIngress = manifest<INetworkPolicy>("NetworkPolicy", "redis").spec?.ingress ?? [];
    expect(redisIngress).toContainEqual({ from: [prometheusPeer], ports: [{ port: 9121, protocol: "TCP" }] });
  });

  it("passes the policy pack: the exporter's image, probes, limits and security context included", async () => {
    const blocking = (await evaluatePolicies(plannedResources(run))).filter((violation) => blocksDeployment([violation]));
    expect(blocking.map(({ policy, message }) => `${policy}: ${message}`)).toEqual([]);
  });

  it("provisions the Grafana dashboard from the repository's JSON where Grafana's sidecar looks", () => {
    const dashboards = manifest<IConfigMap>("ConfigMap", "mediaplane-dashboards");
    expect(dashboards.metadata?.namespace).toBe("observability");
    expect(dashboards.metadata?.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(dashboards.data?.["mediaplane-balancer.json"]).toBe(readFileSync(dashboardFile, "utf8"));
  });
});
