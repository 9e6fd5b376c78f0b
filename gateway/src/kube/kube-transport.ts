// The gateway's one connection pool to the API server. client-node 2.x builds a new undici
// Agent per call (applySecurityAuthentication hands each RequestContext a fresh dispatcher),
// so every self-service call would pay a new TCP and TLS handshake. Here the TLS material of
// the kubeconfig (CA, client certificate, server name, proxy) is read once into one keep-alive
// Agent; credentials that change (the ServiceAccount's projected token file, exec plugins) are
// still applied per request by client-node's own authenticators, which re-read token files.
import type { AgentOptions, RequestOptions as HttpsRequestOptions } from 'node:https';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface TransportRequest {
  method: Method;
  /** Below the server URL, e.g. /apis/llmtenancy.dev/v1alpha1/namespaces/a/virtualkeys. */
  path: string;
  query?: Record<string, string | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Headers added after the kubeconfig's own (impersonation); values may repeat. */
  headers?: Record<string, string | string[]>;
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

const KEEP_ALIVE_MS = 60_000;
/** The API server's own request timeout is 60 s; a half-dead pooled connection fails by then. */
const HEADERS_TIMEOUT_MS = 65_000;

export class KubeTransport {
  readonly #kc: KubeConfig;
  #dispatcher: Promise<Dispatcher | undefined> | undefined;
  #connections = 0;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  /** Connections opened so far (TCP, and TLS on https): the figure keep-alive keeps low. */
  get connectionsOpened(): number {
    return this.#connections;
  }

  get server(): string {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    const url = new URL(this.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const context = new RequestContext(url.toString(), HttpMethod[request.method]);
    await this.#kc.applySecurityAuthentication(context);
    const dispatcher = (await this.#pool()) ?? context.getDispatcher();
    if (!dispatcher) throw new Error(`no dispatcher for ${this.server}`);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(context.getHeaders())) {
      // Whoever the kubeconfig impersonates, the gateway acts only as the person it names.
      if (!name.toLowerCase().startsWith('impersonate-')) headers[name] = value;
    }
    Object.assign(headers, request.headers, { accept: 'application/json' });
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    const response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
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

  async close(): Promise<void> {
    const pool = this.#dispatcher;
    this.#dispatcher = undefined;
    await (await pool?.catch(() => undefined))?.close();
  }

  #pool(): Promise<Dispatcher | undefined> {
    this.#dispatcher ??= this.#build().catch((err: unknown) => {
      this.#dispatcher = undefined; // the next request tries again
      throw err;
    });
    return this.#dispatcher;
  }

  /** undefined: a SOCKS proxy, which client-node's per-request dispatcher handles. */
  async #build(): Promise<Dispatcher | undefined> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const https: HttpsRequestOptions = {};
    await this.#kc.applyToHTTPSOptions(https);
    const tls: AgentOptions = {};
    if (https.ca !== undefined) tls.ca = https.ca;
    if (https.cert !== undefined) tls.cert = https.cert;
    if (https.key !== undefined) tls.key = https.key;
    if (https.rejectUnauthorized !== undefined) tls.rejectUnauthorized = https.rejectUnauthorized;
    if (https.servername !== undefined) tls.servername = https.servername;
    const options = this.#kc.createDispatcherOptions(cluster, tls);
    const pool = {
      // HTTP/1.1: over HTTP/2 undici joins repeated headers into one field ("a, b"), and the
      // API server would read a person's groups as one group. Each Impersonate-Group must be
      // a header line of its own.
      allowH2: false,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
    };
    const dispatcher = this.#dispatcherFor(options, pool);
    dispatcher?.on('connect', () => this.#connections++);
    return dispatcher;
  }

  #dispatcherFor(
    options: ReturnType<KubeConfig['createDispatcherOptions']>,
    pool: Agent.Options,
  ): Dispatcher | undefined {
    switch (options.type) {
      case 'agent':
        return new Agent({ ...pool, connect: options.connect });
      case 'proxy':
        return new ProxyAgent({
          ...pool,
          uri: options.uri,
          requestTls: options.requestTls,
          connect: options.connect,
        });
      case 'none':
        return new Agent(pool);
      case 'socks':
        return undefined;
    }
  }
}
