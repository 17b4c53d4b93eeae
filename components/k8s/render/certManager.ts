/**
 * cert-manager objects as plain data: the ACME Issuer solving DNS-01 over RFC2136 and the Certificates it issues.
 * Field names and accepted values are those of cert-manager v1.21 (`pkg/apis/acme/v1/types_issuer.go`,
 * `ACMEIssuerDNS01ProviderRFC2136`; algorithms in `pkg/issuer/acme/dns/rfc2136/rfc2136.go`).
 */

/** TSIG algorithms as the stack config (and nsupdate, lego) spell them. */
export type TsigAlgorithm = "hmac-sha256." | "hmac-sha512.";

/** cert-manager's spelling of the same algorithm (its `supportedAlgorithms` keys). */
export function certManagerTsigAlgorithm(algorithm: TsigAlgorithm): "HMACSHA256" | "HMACSHA512" {
  return algorithm === "hmac-sha256." ? "HMACSHA256" : "HMACSHA512";
}

/** `spec.acme.solvers[].dns01.rfc2136` of an Issuer. */
export interface Rfc2136Solver {
  /** `host:port` of the primary name server accepting the updates. */
  nameserver: string;
  tsigKeyName: string;
  tsigAlgorithm: "HMACSHA256" | "HMACSHA512";
  /** The Secret (in the Issuer's namespace) and key holding the base64 TSIG secret. */
  tsigSecretSecretRef: { name: string; key: string };
}

export interface AcmeIssuerArgs {
  /** Account e-mail at the ACME CA. */
  email: string;
  /** ACME directory URL. */
  server: string;
  /** Secret cert-manager creates for the ACME account key. */
  accountKeySecretName: string;
  solver: Rfc2136Solver;
}

/** An Issuer's spec: one ACME account, every challenge solved by DNS-01 over RFC2136. */
export function acmeIssuerSpec(args: AcmeIssuerArgs) {
  return {
    acme: {
      email: args.email,
      server: args.server,
      privateKeySecretRef: { name: args.accountKeySecretName },
      solvers: [{ dns01: { rfc2136: args.solver } }],
    },
  };
}

/**
 * A Certificate's spec: the names it covers issued into `secretName` (a `kubernetes.io/tls` Secret with `tls.crt`
 * and `tls.key`), renewed by cert-manager before expiry; a fresh P-384 key on every renewal.
 */
export function certificateSpec(secretName: string, dnsNames: readonly string[], issuerName: string) {
  return {
    secretName,
    dnsNames: [...dnsNames],
    issuerRef: { group: "cert-manager.io", kind: "Issuer", name: issuerName },
    privateKey: { algorithm: "ECDSA", size: 384, rotationPolicy: "Always" },
  };
}
