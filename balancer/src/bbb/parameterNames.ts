/**
 * bbb-web's `META_VAR_PATTERN` (ParamsProcessorUtil / ApiMetaParams): a metadata parameter, whose name bbb-web
 * lower-cases after the `meta_` prefix (`processMetaParam`), so `meta_Blocked` and `meta_blocked` are one parameter.
 */
const metadataName = /^meta_[a-zA-Z][a-zA-Z0-9-]*$/;

/**
 * A (decoded) parameter name as a node reads it: metadata with the part after `meta_` lower-cased, every other
 * name as it is (bbb-web reads those case-sensitively). Policies and duplicate checks compare these.
 */
export function parameterKey(name: string): string {
  return name.startsWith("meta_") && metadataName.test(name) ? `meta_${name.slice(5).toLowerCase()}` : name;
}

/** The first parameter a node would read twice (names as `parameterKey` gives them), or `undefined`. */
export function repeatedParameter(params: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    const key = parameterKey(name);
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}
