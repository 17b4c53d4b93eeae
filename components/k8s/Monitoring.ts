import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { BalancerMetricsEndpoints } from "./Balancer.js";
import { prometheusOperatorCrdManifests } from "./versions.js";
import { appLabels } from "./workload.js";

/** The Grafana dashboard of the platform, as code: only metrics the balancer exports (checked by its test). */
export const dashboardFile = fileURLToPath(new URL("./dashboards/mediaplane-balancer.json", import.meta.url));

/** Pods of the stack serving Prometheus metrics on a named container port, without credentials. */
export interface PodMetrics {
  podLabels: Record<string, string>;
  /** Name of the metrics port on the pods. */
  port: string;
}

export interface PrometheusOperatorArgs {
  /** Apply the pinned ServiceMonitor and PodMonitor CRDs; false when the operator's own installation brings them. */
  installCrds: boolean;
  /** Labels the Prometheus resource's `serviceMonitorSelector` and `podMonitorSelector` match. */
  selectorLabels: Record<string, string>;
  /** How often each target is scraped, e.g. `30s`. */
  scrapeInterval: string;
}

export interface GrafanaDashboardsArgs {
  /** Namespace Grafana's dashboard sidecar watches. */
  namespace: string;
  /** Labels the sidecar selects ConfigMaps by (the Grafana chart: `grafana_dashboard: "1"`). */
  labels: Record<string, string>;
}

export interface MonitoringArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace of the monitored workloads: the monitors live beside them (a monitor's Secret must be in its namespace). */
  namespace: pulumi.Input<string>;
  /** ServiceMonitor and PodMonitor objects; undefined: none. */
  prometheusOperator?: PrometheusOperatorArgs;
  /** The dashboard as a ConfigMap for Grafana's sidecar; undefined: none. */
  grafanaDashboards?: GrafanaDashboardsArgs;
  balancer: BalancerMetricsEndpoints;
  traefik: PodMetrics;
  /** The in-cluster Redis's exporter; undefined with a managed Redis (nothing in the cluster to scrape). */
  redis?: PodMetrics;
}

/**
 * Platform monitoring as the stack enables it: Prometheus Operator monitors for the balancer's API (through its
 * Service) and pollers (pods), traefik and Redis, with the operator's CRDs pinned to one release, and the Grafana
 * dashboard provisioned as a ConfigMap where Grafana's sidecar picks it up.
 */
export class Monitoring extends pulumi.ComponentResource {
  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:Monitoring", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = appLabels("monitoring", "scrape");

    const operator = args.prometheusOperator;
    if (operator !== undefined) {
      const crds = operator.installCrds
        ? prometheusOperatorCrdManifests.map((file, i) => new k8s.yaml.v2.ConfigFile(`${name}-crds-${i}`, { file }, child))
        : [];
      const afterCrds = { ...child, dependsOn: crds };
      const metadata = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels: { ...labels, ...operator.selectorLabels } });
      const { balancer } = args;
      const bearer = { type: "Bearer", credentials: { name: balancer.tokenSecret.name, key: balancer.tokenSecret.key } };
      const endpoint = (port: string, authorized: boolean) => ({ port, path: "/metrics", interval: operator.scrapeInterval, ...(authorized ? { authorization: bearer } : {}) });
      const podMonitor = (objectName: string, target: PodMetrics, authorized: boolean) =>
        new k8s.apiextensions.CustomResource(
          `${name}-${objectName}`,
          {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: metadata(objectName),
            spec: { selector: { matchLabels: target.podLabels }, podMetricsEndpoints: [endpoint(target.port, authorized)] },
          },
          afterCrds,
        );

      // Every API replica counts its own requests: the Service's endpoints are scraped one by one.
      new k8s.apiextensions.CustomResource(
        `${name}-balancer-api`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: metadata("balancer-api"),
          spec: { selector: { matchLabels: balancer.serviceLabels }, endpoints: [endpoint(balancer.port, true)] },
        },
        afterCrds,
      );
      podMonitor("balancer-poller", { podLabels: balancer.pollerPodLabels, port: balancer.port }, true);
      podMonitor("traefik", args.traefik, false);
      if (args.redis !== undefined) podMonitor("redis", args.redis, false);
    }

    if (args.grafanaDashboards !== undefined) {
      new k8s.core.v1.ConfigMap(
        `${name}-dashboards`,
        {
          metadata: { name: "mediaplane-dashboards", namespace: args.grafanaDashboards.namespace, labels: { ...labels, ...args.grafanaDashboards.labels } },
          data: { "mediaplane-balancer.json": readFileSync(dashboardFile, "utf8") },
        },
        child,
      );
    }
    this.registerOutputs({});
  }
}
