import * as pulumi from "@pulumi/pulumi";

/** What every Azure resource of the stack is tagged with. */
export interface AzureTags {
  /** The Pulumi stack the resource belongs to. */
  readonly stack: string;
  /** Team or person answerable for the resource (from the stack config). */
  readonly owner: string;
}

const stackLevel = "stack";

/**
 * One stack-level transformation tagging every Azure resource that takes tags (its inputs have a `tags` property)
 * with the stack, the component that declared it (type and name) and the owner: whichever component declares a
 * resource, now or later, it is tagged without that component knowing. Tags the program sets itself are kept,
 * except these three, which the stack decides.
 */
export function azureTagging(tags: AzureTags): pulumi.ResourceTransformation {
  const componentNames = new WeakMap<pulumi.Resource, string>();
  return (args) => {
    if (!(args.resource instanceof pulumi.CustomResource)) {
      componentNames.set(args.resource, `${args.type}/${args.name}`);
      return undefined;
    }
    if (!args.type.startsWith("azure-native:") || !Object.hasOwn(args.props, "tags")) return undefined;
    const component = args.opts.parent === undefined ? stackLevel : (componentNames.get(args.opts.parent) ?? stackLevel);
    const ownTags = pulumi.output(args.props["tags"] as pulumi.Input<Record<string, string> | undefined>);
    return {
      props: { ...args.props, tags: ownTags.apply((own) => ({ ...own, stack: tags.stack, component, owner: tags.owner })) },
      opts: args.opts,
    };
  };
}
