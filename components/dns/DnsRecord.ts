import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { removeAddressCommand, setAddressCommand, tsigSecretVariable, type Rfc2136Target } from "./nsupdate.js";

export interface DnsRecordArgs {
  /** Host name, or `*.<name>` for a wildcard. */
  readonly name: string;
  readonly address: pulumi.Input<string>;
  readonly ttlSeconds: number;
  readonly target: Rfc2136Target;
  /** Base64 TSIG secret of `target.tsigKeyName`. */
  readonly tsigSecret: pulumi.Input<string>;
}

/**
 * One A record in the zone the RFC2136 server serves, written by nsupdate where `pulumi up` runs: set on create,
 * replaced when the address changes, removed on delete. One record per resource: a renamed host is a new
 * resource, so its old name is removed, not left behind.
 */
export class DnsRecord extends pulumi.ComponentResource {
  readonly name: string;
  readonly address: pulumi.Output<string>;

  constructor(name: string, args: DnsRecordArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mediaplane:dns:DnsRecord", name, {}, opts);
    const set = pulumi.output(args.address).apply((address) => setAddressCommand(args.target, args.name, address, args.ttlSeconds));
    new command.local.Command(
      `${name}-nsupdate`,
      {
        create: set,
        update: set,
        delete: removeAddressCommand(args.target, args.name),
        interpreter: ["/bin/sh", "-c"],
        environment: { [tsigSecretVariable]: pulumi.secret(args.tsigSecret) },
      },
      { parent: this },
    );
    this.name = args.name;
    this.address = pulumi.output(args.address);
    this.registerOutputs({ name: this.name, address: this.address });
  }
}
