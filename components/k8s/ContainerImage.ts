import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { tagPinProblem } from "./versions.js";

/** Credentials for pushing; omit when the machine running Pulumi is already logged in (e.g. `az acr login`). */
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
    this.ref = args.push ? pulumi.interpolate`${taggedName}@${image.digest}` : taggedName;
    this.registerOutputs({ ref: this.ref });
  }
}
