/**
 * Decides whether a traefik v3 router rule matches a request, for the matchers the program's IngressRoutes use
 * (`Host`, `HostRegexp`, `Path`, `PathPrefix`, `HeaderRegexp`, joined by `&&`, `||`, `!` and parentheses). An unknown
 * matcher throws, so a route this cannot judge never passes as matching.
 */
export interface RouteRequest {
  readonly host: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
}

type Token = { kind: "and" | "or" | "not" | "open" | "close" } | { kind: "matcher"; name: string; args: string[] };

function tokenize(rule: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(&&)|(\|\|)|(\()|(\))|([A-Za-z]+)\(((?:\s*`[^`]*`\s*,?)*)\)|(!))/y;
  while (pattern.lastIndex < rule.trimEnd().length) {
    const match = pattern.exec(rule);
    if (match === null) throw new Error(`cannot read rule at ${pattern.lastIndex}: ${rule}`);
    if (match[1]) tokens.push({ kind: "and" });
    else if (match[2]) tokens.push({ kind: "or" });
    else if (match[3]) tokens.push({ kind: "open" });
    else if (match[4]) tokens.push({ kind: "close" });
    else if (match[7]) tokens.push({ kind: "not" });
    else tokens.push({ kind: "matcher", name: match[5] ?? "", args: [...(match[6] ?? "").matchAll(/`([^`]*)`/g)].map((arg) => arg[1] ?? "") });
  }
  return tokens;
}

function matcherHolds(name: string, args: readonly string[], request: RouteRequest): boolean {
  const [first = "", second = ""] = args;
  switch (name) {
    case "Host":
      return request.host.toLowerCase() === first.toLowerCase();
    case "HostRegexp":
      return new RegExp(first).test(request.host);
    case "Path":
      return request.path === first;
    case "PathPrefix":
      return request.path.startsWith(first);
    case "HeaderRegexp": {
      const header = Object.entries(request.headers ?? {}).find(([key]) => key.toLowerCase() === first.toLowerCase());
      return header !== undefined && new RegExp(second.replace(/^\(\?i\)/, ""), second.startsWith("(?i)") ? "i" : "").test(header[1]);
    }
    default:
      throw new Error(`no evaluation for the traefik matcher ${name}`);
  }
}

export function ruleMatches(rule: string, request: RouteRequest): boolean {
  const tokens = tokenize(rule);
  let position = 0;
  // or := and ("||" and)* ; and := term ("&&" term)* ; term := "!" term | matcher | "(" or ")"
  // (traefik v3's rule grammar, pkg/rules/parser.go: NOT binds tighter than AND, AND tighter than OR)
  const parseOr = (): boolean => {
    let value = parseAnd();
    while (tokens[position]?.kind === "or") {
      position += 1;
      value = parseAnd() || value;
    }
    return value;
  };
  const parseAnd = (): boolean => {
    let value = parseTerm();
    while (tokens[position]?.kind === "and") {
      position += 1;
      value = parseTerm() && value;
    }
    return value;
  };
  const parseTerm = (): boolean => {
    const token = tokens[position];
    position += 1;
    if (token?.kind === "not") return !parseTerm();
    if (token?.kind === "matcher") return matcherHolds(token.name, token.args, request);
    if (token?.kind !== "open") throw new Error(`unexpected token in rule: ${rule}`);
    const value = parseOr();
    if (tokens[position]?.kind !== "close") throw new Error(`unbalanced parentheses in rule: ${rule}`);
    position += 1;
    return value;
  };
  const value = parseOr();
  if (position !== tokens.length) throw new Error(`trailing tokens in rule: ${rule}`);
  return value;
}
