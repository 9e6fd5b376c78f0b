// Where a caller puts its key: `Authorization: Bearer sk-…` (OpenAI SDKs) or `api-key: sk-…`
// (Azure OpenAI SDKs), as LiteLLM accepts both.
import type { IncomingHttpHeaders } from 'node:http';

/** The key the request carries, or undefined. */
export function keyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = headers['api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return apiKey.trim();
  return undefined;
}
