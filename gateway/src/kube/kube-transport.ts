// The people side's requests to the API server: JSON in, JSON out, with the API server's
// Audit-Id, over the gateway's one connection pool (contracts/kube/kube-transport.ts, shared
// with sign-in's provisioning). That pool re-reads a rotated client certificate, and
// credentials that change (the ServiceAccount's projected token, exec plugins) are applied
// per request by client-node's own authenticators.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeTransport as SharedTransport } from '../../../contracts/kube/kube-transport.ts';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface TransportRequest {
  method: Method;
  /** Below the server URL, e.g. /apis/llmtenancy.dev/v1alpha1/namespaces/a/virtualkeys. */
  path: string;
  query?: Record<string, string | undefined>;
  /** JSON body. */
  body?: unknown;
  /** The person to act as (Impersonate-* headers; values may repeat). */
  impersonate: Record<string, string | string[]>;
  signal?: AbortSignal;
}

export interface TransportResponse {
  statusCode: number;
  /** The parsed JSON body; undefined when it was not JSON. */
  body: unknown;
  /** The raw body text, for errors that are not JSON (a proxy's HTML page). */
  text: string;
  /** The API server's Audit-Id header: this request's id in its audit log. */
  auditId: string | undefined;
}

export class KubeTransport {
  readonly #shared: SharedTransport;

  constructor(kc: KubeConfig) {
    this.#shared = SharedTransport.of(kc);
  }

  /** Connections opened so far (TCP, and TLS on https): the figure keep-alive keeps low. */
  get connectionsOpened(): number {
    return this.#shared.connectionsOpened;
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const response = await this.#shared.send({
      method: request.method,
      path: request.path,
      query: request.query,
      impersonate: request.impersonate,
      ...(request.body !== undefined && {
        body: { contentType: 'application/json', text: JSON.stringify(request.body) },
      }),
      signal: request.signal,
    });
    const text = await response.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const auditId = response.headers['audit-id'];
    return {
      statusCode: response.statusCode,
      body,
      text,
      auditId: typeof auditId === 'string' ? auditId : undefined,
    };
  }

  close(): Promise<void> {
    return this.#shared.close();
  }
}
