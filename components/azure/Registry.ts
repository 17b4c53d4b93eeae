import * as pulumi from "@pulumi/pulumi";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as command from "@pulumi/command";
import { deployerObjectId, grantRole } from "./roles.js";

export interface RegistryArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: pulumi.Input<string>;
  /** Globally unique: 5..50 letters and digits. */
  readonly registryName: pulumi.Input<string>;
  /** Object id of the AKS kubelet identity, granted AcrPull so nodes pull without image pull secrets. */
  readonly kubeletObjectId: pulumi.Input<string>;
  /**
   * Addresses allowed through the registry's firewall: where `pulumi up` runs (it pushes) and the cluster's egress
   * address (its nodes pull). Everyone else is refused.
   */
  readonly allowedSources: pulumi.Input<pulumi.Input<string>[]>;
}

/** How the image build logs in to push: a registry token, secret, valid for a few hours. */
export interface RegistryPushCredential {
  readonly address: pulumi.Output<string>;
  readonly username: string;
  readonly password: pulumi.Output<string>;
}

/**
 * ACR's user name for a registry token exchanged from an Entra ID token (`az acr login --expose-token`):
 * https://learn.microsoft.com/azure/container-registry/container-registry-authentication#az-acr-login-with---expose-token
 */
export const registryTokenUsername = "00000000-0000-0000-0000-000000000000";

/**
 * The shell command exchanging the Azure CLI login of the machine running Pulumi for a registry token. Read-only on
 * Azure's side, so it may run on every preview; it runs once the AcrPush grant exists.
 */
export function registryTokenCommand(registryName: string): string {
  return `az acr login --name ${registryName} --expose-token --output tsv --query accessToken`;
}

/**
 * The container registry for the images this repository builds (balancer, Janus). Premium: the only tier with a
 * firewall. No admin user: the cluster pulls with its kubelet identity, and `pulumi up` pushes as the identity it runs
 * as (AcrPush), with a short-lived token exchanged from its Azure CLI login. Protected: deleting it deletes every image.
 */
export class Registry extends pulumi.ComponentResource {
  /** `<name>.azurecr.io`, the prefix of the images the cluster pulls. */
  readonly loginServer: pulumi.Output<string>;
  readonly registryName: pulumi.Output<string>;
  readonly pushCredential: RegistryPushCredential;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:azure:Registry", name, {}, opts);

    const registry = new containerregistry.Registry(
      name,
      {
        registryName: args.registryName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: "Premium" },
        adminUserEnabled: false,
        publicNetworkAccess: "Enabled",
        networkRuleSet: {
          defaultAction: "Deny",
          ipRules: pulumi.output(args.allowedSources).apply((sources) => sources.map((source) => ({ action: "Allow", iPAddressOrRange: source }))),
        },
        networkRuleBypassOptions: "None",
      },
      { parent: this, protect: true },
    );
    grantRole(
      `${name}-acr-pull`,
      { principalId: args.kubeletObjectId, principalType: "ServicePrincipal", role: "acrPull", scope: registry.id },
      { parent: this },
    );
    const push = grantRole(`${name}-deployer-acr-push`, { principalId: deployerObjectId(this), role: "acrPush", scope: registry.id }, { parent: this });

    const token = command.local.runOutput(
      { command: pulumi.all([registry.name, push.id]).apply(([registryName]) => registryTokenCommand(registryName)), logging: "none" },
      { parent: this },
    );
    this.pushCredential = {
      address: registry.loginServer,
      username: registryTokenUsername,
      password: pulumi.secret(token.stdout.apply((stdout) => stdout.trim())),
    };
    this.loginServer = registry.loginServer;
    this.registryName = registry.name;
    this.registerOutputs({ loginServer: this.loginServer, registryName: this.registryName });
  }
}
