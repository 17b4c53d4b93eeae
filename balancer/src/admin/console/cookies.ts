/** The session cookie; scoped to the admin paths so it never travels with a tenant's API request on the same host. */
export const sessionCookie = { name: "mp_console", path: "/admin" } as const;
/** The login form's double-submit nonce, only ever sent back to the login form. */
export const loginCookie = { name: "mp_console_login", path: "/admin/console/login" } as const;

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * A `Set-Cookie` value: always HttpOnly, Secure and SameSite=Strict. Browsers take Secure cookies from
 * `http://127.0.0.1` and `http://localhost` too (secure contexts), so the sandbox needs no exception.
 */
export function cookieHeader(cookie: { name: string; path: string }, value: string, maxAgeSeconds: number): string {
  return `${cookie.name}=${value}; Path=${cookie.path}; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}
