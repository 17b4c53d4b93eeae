import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { acmeIssuerSpec, certManagerTsigAlgorithm, certificateSpec, type TsigAlgorithm } from "./render/certManager.js";
import { certManagerManifest } from "./versions.js";
import { appLabels } from "./workload.js";

/** DNS-01 over RFC2136 (dynamic DNS updates signed with a TSIG key). */
export interface AcmeDns01Args {
  /** Account e-mail at the ACME CA. */
  email: string;
  /** ACME directory URL (production or staging). */
  server: string;
  /** Authoritative name server accepting the updates, `host:port`. */
  nameserver: string;
  /** TSIG key name, as configured on the name server. */
  tsigKeyName: string;
  /** TSIG algorithm, e.g. `hmac-sha512.`. */
  tsigAlgorithm: TsigAlgorithm;
  /** TSIG secret (base64); a Pulumi secret, stored in a Kubernetes Secret the Issuer names. */
  tsigSecret: pulumi.Input<string>;
}

/** One certificate to issue: `name` names the Certificate and, with `-tls`, the Secret it is issued into. */
export interface CertificateRequest {
  name: string;
  dnsNames: readonly string[];
}

export interface CertManagerArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Namespace of the Issuer, its TSIG Secret, the Certificates and their Secrets: where traefik and coturn run. */
  namespace: pulumi.Input<string>;
  acme: AcmeDns01Args;
  certificates: readonly CertificateRequest[];
  /** cert-manager's release manifest (URL or file); default the pinned release. */
  manifest?: string;
}

/** What a consumer of one issued certificate mounts or names. */
export interface IssuedCertificate {
  /** The `kubernetes.io/tls` Secret cert-manager keeps current. */
  secretName: pulumi.Output<string>;
  /** The Certificate object: whatever reads the Secret is declared after it. */
  certificate: pulumi.Resource;
}

const tsigSecretKey = "secret";
const issuerName = "acme-dns01";
const tsigSecretName = "acme-rfc2136-tsig";

/**
 * Certificates that outlive any pod: cert-manager (pinned release, installed here) orders them by DNS-01 over RFC2136
 * and keeps them in Secrets, renewing before expiry. Any number of traefik replicas, and coturn, read the same Secret;
 * nothing ACME-related lives in a pod or on a volume. One namespaced Issuer, so the TSIG Secret stays beside it.
 */
export class CertManager extends pulumi.ComponentResource {
  /** The issued certificates by request name. */
  readonly issued: Readonly<Record<string, IssuedCertificate>>;

  constructor(name: string, args: CertManagerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:k8s:CertManager", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = appLabels("cert-manager", "certificates");
    const { namespace, acme } = args;

    const install = new k8s.yaml.v2.ConfigFile(`${name}-install`, { file: args.manifest ?? certManagerManifest }, child);
    const tsig = new k8s.core.v1.Secret(
      `${name}-tsig`,
      { metadata: { name: tsigSecretName, namespace, labels }, type: "Opaque", stringData: { [tsigSecretKey]: pulumi.secret(acme.tsigSecret) } },
      child,
    );
    const issuer = new k8s.apiextensions.CustomResource(
      `${name}-issuer`,
      {
        apiVersion: "cert-manager.io/v1",
        kind: "Issuer",
        metadata: { name: issuerName, namespace, labels },
        spec: acmeIssuerSpec({
          email: acme.email,
          server: acme.server,
          accountKeySecretName: "acme-account-key",
          solver: {
            nameserver: acme.nameserver,
            tsigKeyName: acme.tsigKeyName,
            tsigAlgorithm: certManagerTsigAlgorithm(acme.tsigAlgorithm),
            tsigSecretSecretRef: { name: tsigSecretName, key: tsigSecretKey },
          },
        }),
      },
      { ...child, dependsOn: [install, tsig] },
    );

    const issued: Record<string, IssuedCertificate> = {};
    for (const request of args.certificates) {
      const secretName = `${request.name}-tls`;
      const certificate = new k8s.apiextensions.CustomResource(
        `${name}-${request.name}`,
        {
          apiVersion: "cert-manager.io/v1",
          kind: "Certificate",
          metadata: { name: request.name, namespace, labels },
          spec: certificateSpec(secretName, request.dnsNames, issuerName),
        },
        { ...child, dependsOn: [install, issuer] },
      );
      issued[request.name] = { secretName: pulumi.output(secretName), certificate };
    }
    this.issued = issued;
    this.registerOutputs({});
  }
}
