/**
 * Scalelite's `meta_server-tag` on create (app/models/server.rb, `Server.find_available`): `a;b` asks for a node
 * tagged `a` or `b`, else falls back to untagged nodes; a trailing `!` makes the tag required (no fallback: the
 * create fails with `serverTagUnavailable`). The tag `none` names untagged nodes. A blank value, or a lone `!`,
 * asks for nothing.
 */
export interface ServerTagRequest {
  readonly tags: readonly string[];
  readonly required: boolean;
  /** The tags as asked for, without the `!`: what the error names. */
  readonly text: string;
}

const blank = (value: string): boolean => value.trim() === "";

export function parseServerTag(value: string | null): ServerTagRequest | undefined {
  if (value === null || blank(value)) return undefined;
  const required = value.endsWith("!");
  const text = required ? value.slice(0, -1) : value;
  if (blank(text)) return undefined;
  return { tags: text.split(";"), required, text };
}

/** Whether a node with `tag` (undefined: untagged) is one the request asks for; an untagged node is tag `none`. */
export function matchesServerTag(request: ServerTagRequest, tag: string | undefined): boolean {
  return request.tags.includes(tag ?? "none");
}
