import type { Rfc2136Solver } from "../../../components/k8s/render/certManager.js";

/**
 * lego's RFC2136 provider settings (lego v4.9 `providers/dns/rfc2136/rfc2136.go`, the Debian package the test runs: `RFC2136_NAMESERVER`, `RFC2136_TSIG_KEY`,
 * `RFC2136_TSIG_ALGORITHM`, `RFC2136_TSIG_SECRET`, `RFC2136_TTL`, `RFC2136_POLLING_INTERVAL`,
 * `RFC2136_PROPAGATION_TIMEOUT`) carrying exactly what a cert-manager Issuer's RFC2136 solver holds:
 *
 * - nameserver, TSIG key name and secret as they are;
 * - the algorithm from cert-manager's name to the DNS name both clients sign with (cert-manager v1.21
 *   `pkg/issuer/acme/dns/rfc2136/rfc2136.go` `supportedAlgorithms`: HMACSHA512 is miekg/dns `HmacSHA512`,
 *   `hmac-sha512.`);
 * - the record TTL cert-manager always writes (60, `Present` in the same file) and the interval at which it re-checks
 *   the record (`dns01-check-retry-period`, default 10 s, `internal/apis/config/controller/v1alpha1/defaults.go`).
 *   cert-manager has no propagation deadline (it keeps retrying); lego needs one, and gets a minute. cert-manager
 *   presents the challenges of one order side by side (an RFC2136 INSERT adds a TXT value); lego solves two challenges
 *   on the same record name (`<apiBase>` and `*.<apiBase>`) one after the other, waiting `RFC2136_SEQUENCE_INTERVAL`
 *   (default a minute) in between, set to one second here.
 */
export function legoRfc2136Environment(solver: Rfc2136Solver, tsigSecret: string): Record<string, string> {
  const algorithms: Record<Rfc2136Solver["tsigAlgorithm"], string> = { HMACSHA256: "hmac-sha256.", HMACSHA512: "hmac-sha512." };
  return {
    RFC2136_NAMESERVER: solver.nameserver,
    RFC2136_TSIG_KEY: solver.tsigKeyName,
    RFC2136_TSIG_ALGORITHM: algorithms[solver.tsigAlgorithm],
    RFC2136_TSIG_SECRET: tsigSecret,
    RFC2136_TTL: "60",
    RFC2136_POLLING_INTERVAL: "10",
    RFC2136_PROPAGATION_TIMEOUT: "60",
    RFC2136_SEQUENCE_INTERVAL: "1",
  };
}
