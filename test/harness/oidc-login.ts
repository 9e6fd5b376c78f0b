// The browser's side of an OIDC login against the test provider: follow the redirects from
// an authorization request, fill in oidc-provider's development login form as `login`, grant
// consent, and stop at the first redirect that leaves the provider (the client's callback
// with `code`). Cookies are kept as a browser would, per name; paths don't matter here.

/** Redirects answered by the provider itself, before it sends the browser back. */
const MAX_STEPS = 20;

class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(res: Response): void {
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.#cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Runs the front-channel part of an authorization code flow as user `login` and returns the
 * URL the provider finally redirects to (outside the issuer). Throws with the provider's
 * error when it answers with anything but a redirect or its login / consent page.
 */
export async function authorizeAs(authorizationUrl: string | URL, login: string): Promise<URL> {
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  const issuerOrigin = url.origin;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(form && { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      body: form,
    });
    jar.store(res);
    form = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      if (url.origin !== issuerOrigin) return url;
      continue;
    }
    const body = await res.text();
    if (res.status === 200 && url.pathname.startsWith('/interaction/')) {
      // The dev interaction page posts back to itself; which prompt it shows is in its form.
      const prompt = /name="prompt" value="(\w+)"/.exec(body)?.[1];
      if (prompt === 'login') form = new URLSearchParams({ prompt, login, password: 'any' });
      else if (prompt === 'consent') form = new URLSearchParams({ prompt });
      else throw new Error(`unexpected interaction page at ${url.href}: ${body.slice(0, 300)}`);
      continue;
    }
    throw new Error(
      `OIDC login as ${login} failed at ${url.href}: HTTP ${res.status} ${body.slice(0, 300)}`,
    );
  }
  throw new Error(`OIDC login as ${login}: more than ${MAX_STEPS} redirects`);
}
