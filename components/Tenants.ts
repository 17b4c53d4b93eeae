import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { TenantSettings } from "../config/index.js";

/** What an operator hands to a customer: either URL works with any of the secrets. */
export interface TenantAccess {
  /** `https://<slug>.<apiBase>/bigbluebutton/api/`: what every BBB client expects. */
  readonly hostBasedUrl: string;
  /** `https://<apiBase>/t/<slug>/bigbluebutton/api/`: for setups with a single DNS name. */
  readonly pathBasedUrl: string;
  /** Live API secrets, oldest first. */
  readonly secrets: readonly string[];
}

export function tenantApiUrls(slug: string, apiBaseDomain: string): Pick<TenantAccess, "hostBasedUrl" | "pathBasedUrl"> {
  return {
    hostBasedUrl: `https://${slug}.${apiBaseDomain}/bigbluebutton/api/`,
    pathBasedUrl: `https://${apiBaseDomain}/t/${slug}/bigbluebutton/api/`,
  };
}

/**
 * The numbers of a tenant's live secrets. A secret's number is part of its resource name, so raising
 * `secretCount` adds a secret and keeps the existing ones, and raising `firstSecret` retires the oldest.
 */
export function tenantSecretNumbers(tenant: Pick<TenantSettings, "firstSecret" | "secretCount">): number[] {
  return Array.from({ length: tenant.secretCount }, (_, i) => tenant.firstSecret + i);
}

export interface TenantsArgs {
  /** The tenants of the stack. */
  readonly tenants: readonly TenantSettings[];
  /** The BBB API base domain the tenants' URLs are built on. */
  readonly apiBaseDomain: string;
}

/** API secrets per tenant, generated once and kept in state: they change only when the stack's rollover settings say so. */
export class Tenants extends pulumi.ComponentResource {
  /** Secret: live API secrets per tenant slug, oldest first. */
  readonly secrets: pulumi.Output<Record<string, string[]>>;
  /** Secret: URLs and secrets per tenant slug. */
  readonly access: pulumi.Output<Record<string, TenantAccess>>;

  constructor(name: string, args: TenantsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:platform:Tenants", name, {}, opts);

    const perTenant = args.tenants.map((tenant) => {
      const secrets = tenantSecretNumbers(tenant).map(
        (number) =>
          new random.RandomPassword(
            `${name}-${tenant.slug}-secret-${number}`,
            // Letters and digits: secrets end up in client config files, shell commands and URLs of admin tools.
            { length: 48, special: false },
            { parent: this },
          ).result,
      );
      return { slug: tenant.slug, secrets: pulumi.all(secrets) };
    });

    this.secrets = pulumi.secret(
      pulumi.all(perTenant.map(({ slug, secrets }) => secrets.apply((values) => [slug, values] as const))).apply(
        (entries) => Object.fromEntries(entries),
      ),
    );
    this.access = pulumi.secret(
      this.secrets.apply((bySlug) =>
        Object.fromEntries(
          Object.entries(bySlug).map(([slug, secrets]) => [slug, { ...tenantApiUrls(slug, args.apiBaseDomain), secrets }]),
        ),
      ),
    );
    this.registerOutputs({ access: this.access });
  }
}
