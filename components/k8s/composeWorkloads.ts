import * as pulumi from "@pulumi/pulumi";
import type { WorkloadContext } from "../MediaPlatform.js";
import { Balancer, balancerPods, type RedisEndpoint } from "./Balancer.js";
import { RecordingImporter } from "./RecordingImporter.js";
import { RecordingPlayback } from "./RecordingPlayback.js";
import { ContainerImage } from "./ContainerImage.js";
import { CertManager } from "./CertManager.js";
import { Coturn } from "./Coturn.js";
import { Janus } from "./Janus.js";
import { JitsiMeet } from "./JitsiMeet.js";
import { Monitoring } from "./Monitoring.js";
import { bridgeMediaPods, type JvbExposure } from "./jitsiBridges.js";
import { bridgesInMediaHostNamespace } from "./podSecurity.js";
import { Redis } from "./Redis.js";
import { TraefikIngress } from "./TraefikIngress.js";
import { ownImages } from "./versions.js";

/** What the workloads hand back to the platform: the secrets operators and applications need. */
export interface PlatformWorkloads {
  /** The balancer: whatever calls its admin API while being deleted (a node's drain) must depend on it. */
  readonly balancer: pulumi.Resource;
  /** Bearer token of the balancer's admin API and metrics: a secret. */
  readonly balancerAdminToken: pulumi.Output<string>;
  /** Secret Janus tokens are signed with; undefined when Janus is off. */
  readonly janusTokenAuthSecret: pulumi.Output<string> | undefined;
  /** Shared secret for TURN REST credentials; undefined when TURN is off. */
  readonly turnStaticAuthSecret: pulumi.Output<string> | undefined;
  /** Secret Jitsi participants' tokens are signed with; undefined unless Jitsi uses `jwt` authentication. */
  readonly jitsiJwtSecret: pulumi.Output<string> | undefined;
}

/** The hosts traefik serves, all on one certificate: the API base, every tenant under it, Jitsi and Janus when on. */
export function ingressHosts(settings: WorkloadContext["settings"]): string[] {
  const { domains } = settings;
  return [
    domains.apiBase,
    `*.${domains.apiBase}`,
    ...(settings.jitsi.enabled ? [domains.jitsi] : []),
    ...(settings.janus.enabled ? [domains.janus] : []),
  ];
}

/**
 * Declares every Kubernetes workload of a stack from its workload context: ingress, the balancer and its store,
 * TURN, Janus and Jitsi as the stack enables them. Each component stays unaware of stacks; this maps settings onto args.
 */
export function composeWorkloads(platformName: string, context: WorkloadContext, parent: pulumi.Resource): PlatformWorkloads {
  const { provider, namespace, mediaNamespace, mediaHostNamespace, settings } = context;
  const opts = { parent };
  const { domains } = settings;
  const { podCidrs } = context;
  // The stack's Prometheus, the only pods admitted to metrics ports; none unless the stack enables the monitors.
  const prometheusScrapers = settings.monitoring.prometheusOperator === undefined ? [] : [settings.monitoring.prometheusOperator.prometheusPods];

  const ownImage = (name: keyof typeof ownImages, pinned: string | undefined): pulumi.Input<string> => {
    if (pinned !== undefined) return pinned;
    const delivery = context.imageDelivery;
    if (delivery.kind === "none") throw new Error(`the stack builds the ${name} image but says nowhere to deliver it`);
    return new ContainerImage(
      `${platformName}-${name}-image`,
      {
        repository: delivery.kind === "registry" ? pulumi.interpolate`${delivery.registryAuth.address}/mediaplane/${name}` : `localhost/mediaplane/${name}`,
        tag: ownImages[name].tag,
        context: ownImages[name].context,
        dockerfile: ownImages[name].dockerfile,
        ...(ownImages[name].buildArgs === undefined ? {} : { buildArgs: ownImages[name].buildArgs }),
        push: delivery.kind === "registry",
        ...(delivery.kind === "registry" ? { registryAuth: delivery.registryAuth } : {}),
        ...(delivery.kind === "clusterImport" ? { clusterImport: delivery.target } : {}),
      },
      opts,
    ).ref;
  };

  const turnTls = settings.turn.enabled && settings.acme !== undefined && settings.turn.tls !== false;
  const certificates =
    settings.acme === undefined || context.acmeTsigSecret === undefined
      ? undefined
      : new CertManager(
          `${platformName}-certificates`,
          {
            provider,
            namespace,
            acme: {
              email: settings.acme.email,
              server: settings.acme.server,
              nameserver: settings.acme.nameserver,
              tsigKeyName: settings.acme.tsigKeyName,
              tsigAlgorithm: settings.acme.tsigAlgorithm,
              tsigSecret: context.acmeTsigSecret,
            },
            certificates: [
              { name: "ingress", dnsNames: ingressHosts(settings) },
              ...(turnTls ? [{ name: "turn", dnsNames: [domains.turn] }] : []),
            ],
          },
          opts,
        ).issued;

  const ingress = new TraefikIngress(
    `${platformName}-ingress`,
    {
      provider,
      namespace,
      apiBaseDomain: domains.apiBase,
      ...(certificates?.["ingress"] === undefined ? {} : { certificate: certificates["ingress"] }),
      replicas: settings.ingress.replicas,
      adminSourceRanges: settings.ingress.adminAllowList,
      // AKS serves the API on the control plane's public address; laptop clusters (kind, k3d) on a node's 6443.
      kubernetesApi: settings.cluster.provider === "azure" ? { at: "outsideCluster", port: 443 } : { at: "nodes", port: 6443 },
      podCidrs,
      // The media servers' routes live beside their Services in the media namespaces.
      alsoServedNamespaces: [mediaNamespace, mediaHostNamespace].filter((served) => served !== undefined),
      ...(context.staticIps === undefined ? {} : { publicIp: context.staticIps.ingress }),
      image: settings.images.traefik,
      metricsScrapers: prometheusScrapers,
    },
    opts,
  );

  const redis =
    context.managedRedis ??
    new Redis(
      `${platformName}-redis`,
      {
        provider,
        namespace,
        clients: balancerPods(namespace),
        ...(settings.redis.mode === "inCluster"
          ? { maxMemoryMb: settings.redis.maxmemoryMb, volumeSize: `${settings.redis.storageGi}Gi` }
          : {}),
        ...(context.blockStorageClass === undefined ? {} : { storageClassName: context.blockStorageClass }),
        image: settings.images.redis,
        ...(prometheusScrapers.length === 0 ? {} : { metrics: { scrapers: prometheusScrapers, image: settings.images.redisExporter } }),
      },
      opts,
    );
  const redisEndpoint: RedisEndpoint =
    redis instanceof Redis ? { kind: "inCluster", target: redis.endpoint } : { kind: "managed", port: redis.port, shardPorts: redis.shardPorts };

  // One image, built once, for every mode of the balancer program.
  const balancerImage = ownImage("balancer", settings.images.balancer);
  const balancer = new Balancer(
    `${platformName}-balancer`,
    {
      provider,
      namespace,
      image: balancerImage,
      configFile: context.balancerConfigFile,
      redisUrl: redis.url,
      redisEndpoint,
      nodeUrls: settings.bbb.nodes.flatMap((node) => (node.loadUrl === undefined ? [node.url] : [node.url, node.loadUrl])),
      podCidrs,
      apiBaseDomain: domains.apiBase,
      trustedProxies: podCidrs,
      api: {
        // Without autoscaling the count is fixed: an autoscaler whose bounds are equal.
        autoscaling: settings.balancer.autoscaling ?? {
          minReplicas: settings.balancer.replicas,
          maxReplicas: settings.balancer.replicas,
          targetCpuPercent: 70,
        },
        ...(settings.balancer.sizing === undefined ? {} : { sizing: settings.balancer.sizing }),
      },
      ingress: ingress.binding,
      metricsScrapers: prometheusScrapers,
      recordings: { kind: "persistentVolumeClaim", claimName: context.recordingsClaimName },
    },
    opts,
  );

  const recordingMode = {
    provider,
    namespace,
    image: balancerImage,
    configFile: context.balancerConfigFile,
    balancerSecretName: balancer.secretName,
    recordings: { kind: "persistentVolumeClaim", claimName: context.recordingsClaimName },
    apiBaseDomain: domains.apiBase,
    ingress: ingress.binding,
  } as const;
  new RecordingImporter(`${platformName}-recordings`, recordingMode, opts);
  new RecordingPlayback(`${platformName}-recording`, recordingMode, opts);

  const { jvb } = settings.jitsi;
  const jvbExposure: JvbExposure =
    jvb.exposure === "hostPort"
      ? { kind: "hostPort", replicas: jvb.replicas }
      : { kind: "loadBalancer", replicas: jvb.replicas, ...(context.staticIps === undefined ? {} : { publicIp: context.staticIps.jvb }) };

  // Jitsi and Janus run only where the stack enables them, and then the namespaces the platform made for them exist.
  const inNamespace = (service: string, made: pulumi.Output<string> | undefined): pulumi.Output<string> => {
    if (made === undefined) throw new Error(`${service} is enabled but the platform made no namespace for it`);
    return made;
  };
  // Bridges on host ports need the privileged namespace; behind load balancers they stay with the rest of Jitsi.
  const bridgeNamespace = (): pulumi.Output<string> =>
    bridgesInMediaHostNamespace(settings.jitsi) ? inNamespace("Jitsi's host-port bridges", mediaHostNamespace) : inNamespace("Jitsi", mediaNamespace);

  const turn = settings.turn.enabled
    ? new Coturn(
        `${platformName}-turn`,
        {
          provider,
          namespace,
          realm: domains.turn,
          ...(context.staticIps === undefined ? {} : { publicIp: context.staticIps.turn }),
          relayPorts: settings.turn.relayPortRange,
          podCidrs,
          ...(settings.jitsi.enabled ? { relayTargetsInCluster: [bridgeMediaPods(bridgeNamespace(), settings.jitsi.jvb.udpPort, jvbExposure)] } : {}),
          ...(certificates?.["turn"] === undefined ? {} : { tlsSecretName: certificates["turn"].secretName }),
          tcpRelay: settings.turn.tcpRelay,
          ...(settings.turn.sizing === undefined ? {} : { sizing: settings.turn.sizing }),
          image: settings.images.coturn,
        },
        opts,
      )
    : undefined;

  const janus = settings.janus.enabled
    ? new Janus(
        `${platformName}-janus`,
        {
          provider,
          namespace: inNamespace("Janus", mediaHostNamespace),
          image: ownImage("janus", settings.images.janus),
          host: domains.janus,
          ingress: ingress.binding,
          replicas: settings.janus.replicas,
          rtpPorts: settings.janus.rtpPortRange,
          // Media nodes have their own public IPs; elsewhere the pod's addresses are what clients reach.
          publicAddress: context.mediaNodes === undefined ? { kind: "podAddress" } : { kind: "nodePublicIp" },
          recordings: context.janusRecordingsClaimName === undefined ? undefined : { kind: "persistentVolumeClaim", claimName: context.janusRecordingsClaimName },
          placement: context.mediaNodes,
          podCidrs,
          ...(settings.janus.sizing === undefined ? {} : { sizing: settings.janus.sizing }),
        },
        opts,
      )
    : undefined;

  const jitsi = settings.jitsi.enabled
    ? new JitsiMeet(
        `${platformName}-jitsi`,
        {
          provider,
          namespace: inNamespace("Jitsi", mediaNamespace),
          bridgeNamespace: bridgeNamespace(),
          host: domains.jitsi,
          ingress: ingress.binding,
          authentication: settings.jitsi.authentication,
          embeddingOrigins: settings.jitsi.embeddingOrigins,
          webReplicas: settings.jitsi.webReplicas,
          udpPort: jvb.udpPort,
          jvb: jvbExposure,
          ...(jvb.maxParticipantsPerBridge === undefined ? {} : { maxParticipantsPerBridge: jvb.maxParticipantsPerBridge }),
          ...(jvb.relays === undefined ? {} : { relays: jvb.relays }),
          ...(jvb.sizing === undefined ? {} : { jvbSizing: jvb.sizing }),
          placement: context.mediaNodes,
          turn:
            turn === undefined
              ? undefined
              : {
                  host: domains.turn,
                  staticAuthSecret: turn.staticAuthSecret,
                  tls: turn.uris.some((uri) => uri.startsWith("turns:")),
                  credentialTtlSeconds: settings.jitsi.turnCredentialTtlSeconds,
                  pods: turn.inClusterUdp,
                },
          podCidrs,
          images: {
            web: settings.images.jitsiWeb,
            prosody: settings.images.jitsiProsody,
            jicofo: settings.images.jitsiJicofo,
            jvb: settings.images.jitsiJvb,
          },
        },
        opts,
      )
    : undefined;

  if (settings.monitoring.prometheusOperator !== undefined || settings.monitoring.grafanaDashboards !== undefined) {
    const operator = settings.monitoring.prometheusOperator;
    new Monitoring(
      `${platformName}-monitoring`,
      {
        provider,
        namespace,
        ...(operator === undefined ? {} : { prometheusOperator: { installCrds: operator.installCrds, selectorLabels: operator.selectorLabels, scrapeInterval: operator.scrapeInterval } }),
        ...(settings.monitoring.grafanaDashboards === undefined ? {} : { grafanaDashboards: settings.monitoring.grafanaDashboards }),
        balancer: balancer.metricsEndpoints,
        traefik: ingress.metricsEndpoint,
        ...(redis instanceof Redis && redis.metricsEndpoint !== undefined ? { redis: redis.metricsEndpoint } : {}),
      },
      opts,
    );
  }

  return {
    balancer,
    balancerAdminToken: balancer.adminToken,
    janusTokenAuthSecret: janus?.tokenAuthSecret,
    turnStaticAuthSecret: turn?.staticAuthSecret,
    jitsiJwtSecret: jitsi?.jwtSecret,
  };
}
