/**
 * Headers for the HTML pages this platform serves next to its API (the web playground and the API
 * reference at /docs). They share an origin with the API, and the playground keeps a tenant token in
 * localStorage, so a page runs only this origin's scripts, talks only to this origin, cannot be framed
 * (clickjacking), is not sniffed into another type and leaks no URL in Referer.
 */
const STRICT_DIRECTIVES = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
} as const;

function securityHeaders(overrides: Partial<Record<keyof typeof STRICT_DIRECTIVES, string>> = {}) {
  const directives: Record<string, string> = { ...STRICT_DIRECTIVES, ...overrides };
  return {
    'content-security-policy': Object.entries(directives)
      .map(([name, value]) => `${name} ${value}`)
      .join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  } as const;
}

/** The playground's pages: nothing but this origin, no inline script or style at all. */
export const PLAYGROUND_SECURITY_HEADERS = securityHeaders();

/**
 * The API reference: the same, except that its (vendored, same-origin) script injects its stylesheet as
 * `<style>` elements and sets style attributes, which CSP counts as inline styles. Inline *scripts* and eval
 * stay forbidden, and nothing may be loaded from or sent to another host.
 */
export const API_REFERENCE_SECURITY_HEADERS = securityHeaders({
  'style-src': "'self' 'unsafe-inline'",
});
