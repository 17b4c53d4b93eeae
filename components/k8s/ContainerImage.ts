import * as command from "@pulumi/command";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { tagPinProblem } from "./versions.js";

/** A laptop cluster whose nodes get the locally built images imported, since they cannot see the local engine's images. */
export interface LocalClusterImport {
  readonly tool: "kind" | "k3d";
  /** The kind or k3d cluster name (`kind get clusters`, `k3d cluster list`). */
  readonly clusterName: string;
}

/** The command copying a locally built image into every node of a kind or k3d cluster. */
export function clusterImportCommand(target: LocalClusterImport, image: string): string {
  return target.tool === "kind"
    ? `kind load docker-image ${image} --name ${target.clusterName}`
    : `k3d image import ${image} --cluster ${target.clusterName}`;
}

/** Credentials for pushing (for ACR: a registry token from the stack's Registry). */
export interface RegistryAuth {
  /** Registry host, e.g. `mpdevacr.azurecr.io`. */
  address: pulumi.Input<string>;
  /** User name (for ACR: the token or service principal name). */
  username: pulumi.Input<string>;
  /** Password: a secret. */
  password: pulumi.Input<string>;
}

export interface ContainerImageArgs {
  /** Image repository without tag, e.g. `mpdevacr.azurecr.io/mediaplane/balancer`. */
  repository: pulumi.Input<string>;
  /** Version tag pushed alongside the digest (a release, never `latest`). */
  tag: string;
  /** Build context directory, relative to the Pulumi project. */
  context: string;
  /** Dockerfile path, relative to the Pulumi project. */
  dockerfile: string;
  /** `true`: push to the registry and reference the image by digest; `false`: load into the local engine (laptop clusters). */
  push: boolean;
  /** Push credentials; see `RegistryAuth`. */
  registryAuth?: RegistryAuth;
  /** Without push: the laptop cluster to import the image into; `ref` is known only once it is there. */
  clusterImport?: LocalClusterImport;
  /** `--build-arg`s the Dockerfile requires (e.g. the media user's ids for Janus). */
  buildArgs?: Readonly<Record<string, string>>;
  /** Target platforms; default linux/amd64 (the AKS node pools). */
  platforms?: ("linux/amd64" | "linux/arm64")[];
}

/**
 * One of our own images (balancer, Janus) built with BuildKit and, on cloud stacks, pushed to the stack's registry.
 * Workloads take `ref`, which names the exact digest: a rollout changes only when the image content changes.
 */
export class ContainerImage extends pulumi.ComponentResource {
  /** `<repository>:<tag>@sha256:...` when pushed, `<repository>:<tag>` when loaded locally. */
  readonly ref: pulumi.Output<string>;

  constructor(name: string, args: ContainerImageArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered, so a bad tag leaves nothing half-declared.
    const tagProblem = tagPinProblem(args.tag);
    if (tagProblem !== undefined) throw new Error(`${name} tag: "${args.tag}" is not pinned: ${tagProblem}`);
    super("mediaplane:k8s:ContainerImage", name, {}, opts);
    const taggedName = pulumi.interpolate`${args.repository}:${args.tag}`;
    const image = new dockerBuild.Image(
      `${name}-image`,
      {
        context: { location: args.context },
        dockerfile: { location: args.dockerfile },
        ...(args.buildArgs === undefined ? {} : { buildArgs: { ...args.buildArgs } }),
        tags: [taggedName],
        platforms: args.platforms ?? ["linux/amd64"],
        push: args.push,
        ...(args.push ? {} : { load: true }),
        // Preview must not need a Docker engine: the build happens on `up`.
        buildOnPreview: false,
        ...(args.registryAuth === undefined ? {} : { registries: [args.registryAuth] }),
      },
      { parent: this },
    );
    if (args.push) {
      this.ref = pulumi.interpolate`${taggedName}@${image.digest}`;
    } else if (args.clusterImport === undefined) {
      this.ref = taggedName;
    } else {
      const target = args.clusterImport;
      const imported = new command.local.Command(
        `${name}-import`,
        {
          create: taggedName.apply((tagged) => clusterImportCommand(target, tagged)),
          // A rebuilt image (new context) is imported again.
          triggers: [image.contextHash],
        },
        { parent: this, dependsOn: [image] },
      );
      // Workloads take `ref` and so wait for the import: a pod never starts before its image is on the nodes.
      this.ref = pulumi.all([taggedName, imported.stdout]).apply(([tagged]) => tagged);
    }
    this.registerOutputs({ ref: this.ref });
  }
}
