// A URL as both programs log it: without user name or password (a Redis URL often carries
// one). Something that does not parse as a URL is never echoed: it might hold a password.

/** `url` without user name or password; "[unparseable URL]" when it is not a URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '[unparseable URL]';
  }
}
