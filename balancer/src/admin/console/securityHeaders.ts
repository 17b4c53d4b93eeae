/**
 * Headers on every console answer. The policy allows the console's own script and style files and nothing else:
 * no inline script or style, no other origin, no framing, forms posting only back to the console.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export const consoleSecurityHeaders: Readonly<Record<string, string>> = {
  "Content-Security-Policy": contentSecurityPolicy,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the console's own form posts.
  "Referrer-Policy": "same-origin",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  // Pages carry live data and the session's CSRF token: never kept by a cache.
  "Cache-Control": "no-store",
};
