// One connection pool to the API server per KubeConfig, for everything a program sends: the
// operator's informers, watches and KubeClient writes; the gateway's sign-in provisioning and
// every call it makes as a person. client-node 2.0.1 builds a
// new undici Agent on every call (KubeConfig.applySecurityAuthentication hands each
// RequestContext a fresh dispatcher), so nearly every request paid a new TCP and TLS
// handshake. Here the TLS material (CA, client certificate and key, server name, skipTLSVerify,
// proxy) is read once into one keep-alive dispatcher; credentials that change (bearer tokens,
// token files, exec plugins) are still applied per request by client-node's own
// authenticators, so a rotated token file is re-read exactly as client-node does (every 60 s).
// Certificate and CA files are re-read every 60 s too; when they changed, new connections use
// the new material and the old pool closes once its requests have finished.
import { createHash } from 'node:crypto';
import type { AgentOptions, RequestOptions as HttpsRequestOptions } from 'node:https';
import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  method: Method;
  /** The path below the server URL, e.g. /api/v1/namespaces/a/secrets/b. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: { contentType: string; text: string };
  accept?: string;
  signal?: AbortSignal;
  /** Milliseconds of silence a response body may have; 0: none (watches). Default undici's. */
  bodyTimeoutMs?: number;
  /**
   * Impersonate-* headers to act as someone else (a value may repeat: one header line per
   * group). They replace any impersonation the kubeconfig asks for: whoever the kubeconfig
   * impersonates, the request acts only as the identity named here.
   */
  impersonate?: Record<string, string | string[]>;
}

/**
 * Told of a request once it has its answer's status line (a watch: when its stream opens), or
 * failed without one (`statusCode` undefined: refused before sending, network error, aborted).
 */
export type RequestObserver = (request: TransportRequest, statusCode: number | undefined) => void;

export type TransportResponse = Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>;

/** How long TLS files (and client-node's token files) are trusted before being read again. */
const TLS_RECHECK_MS = 60_000;
/** Idle connections stay open this long (the API server keeps them far longer). */
const KEEP_ALIVE_MS = 60_000;
/**
 * A request whose answer has not begun by then fails: a pooled connection can be half-dead
 * (a load balancer dropped it silently), and the API server's own request timeout is 60 s.
 */
const HEADERS_TIMEOUT_MS = 65_000;

interface TlsMaterial {
  fingerprint: string;
  dispatcher: Dispatcher | undefined;
}

const transports = new WeakMap<KubeConfig, KubeTransport>();

export class KubeTransport {
  readonly #kc: KubeConfig;
  #material: Promise<TlsMaterial> | undefined;
  #checkedAt = 0;
  #connections = 0;
  #requests = 0;
  readonly #observers = new Set<RequestObserver>();

  private constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  /** The transport of `kc`: one per KubeConfig object, so every caller shares its pool. */
  static of(kc: KubeConfig): KubeTransport {
    let transport = transports.get(kc);
    if (!transport) transports.set(kc, (transport = new KubeTransport(kc)));
    return transport;
  }

  /** Connections opened so far (TCP, and TLS on https): the figure keep-alive keeps low. */
  get connectionsOpened(): number {
    return this.#connections;
  }

  /** Requests sent so far. */
  get requestsSent(): number {
    return this.#requests;
  }

  /**
   * Calls `observer` with every request from now on, once it is answered (or failed), for
   * metrics, tests and benches that count what reaches the API server. Returns the unsubscribe.
   */
  observe(observer: RequestObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** The API server's URL, as the kubeconfig names it. */
  get server(): string {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  }

  async send(request: TransportRequest): Promise<TransportResponse> {
    if (this.#observers.size === 0) return this.#send(request);
    let statusCode: number | undefined;
    try {
      const response = await this.#send(request);
      statusCode = response.statusCode;
      return response;
    } finally {
      for (const observer of this.#observers) observer(request, statusCode);
    }
  }

  async #send(request: TransportRequest): Promise<TransportResponse> {
    const url = new URL(this.server + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    // Credentials per request (tokens rotate); the dispatcher client-node builds here is unused.
    const context = new RequestContext(url.toString(), HttpMethod[request.method]);
    await this.#kc.applySecurityAuthentication(context);
    const material = await this.#tls();
    const dispatcher = material.dispatcher ?? context.getDispatcher();
    if (!dispatcher) throw new Error(`no dispatcher for ${this.server}`);
    this.#requests++;
    return dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: request.method,
      headers: {
        ...credentialHeaders(context, request.impersonate !== undefined),
        ...request.impersonate,
        accept: request.accept ?? 'application/json',
        ...(request.body ? { 'content-type': request.body.contentType } : {}),
      },
      body: request.body?.text,
      signal: request.signal,
      ...(request.bodyTimeoutMs !== undefined ? { bodyTimeout: request.bodyTimeoutMs } : {}),
    });
  }

  /**
   * The pool's dispatcher, for a client-node API object that should send over it (its
   * RequestContext.setDispatcher); undefined for a SOCKS proxy, where client-node's own
   * per-request dispatcher must stay.
   */
  async dispatcher(): Promise<Dispatcher | undefined> {
    return (await this.#tls()).dispatcher;
  }

  /** Closes the pool at once (requests in flight, open watches included, fail). */
  async close(): Promise<void> {
    const material = this.#material;
    this.#material = undefined;
    await (await material?.catch(() => undefined))?.dispatcher?.destroy();
  }

  #tls(): Promise<TlsMaterial> {
    const now = Date.now();
    if (this.#material && now - this.#checkedAt < TLS_RECHECK_MS) return this.#material;
    this.#checkedAt = now;
    const previous = this.#material;
    const next = this.#build(previous).catch((err: unknown) => {
      if (this.#material === next) this.#material = previous; // keep what worked
      throw err;
    });
    this.#material = next;
    return next;
  }

  async #build(previous: Promise<TlsMaterial> | undefined): Promise<TlsMaterial> {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const https: HttpsRequestOptions = {};
    await this.#kc.applyToHTTPSOptions(https);
    const tls: AgentOptions = {
      ...(https.ca !== undefined ? { ca: https.ca } : {}),
      ...(https.cert !== undefined ? { cert: https.cert } : {}),
      ...(https.key !== undefined ? { key: https.key } : {}),
      ...(https.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: https.rejectUnauthorized }
        : {}),
      ...(https.servername !== undefined ? { servername: https.servername } : {}),
    };
    const fingerprint = JSON.stringify([
      cluster.server,
      cluster.proxyUrl ?? '',
      fingerprintOf(tls),
    ]);
    const old = await previous?.catch(() => undefined);
    if (old && old.fingerprint === fingerprint) return old;
    const dispatcher = this.#dispatcher(cluster, tls);
    dispatcher?.on('connect', () => this.#connections++);
    if (old?.dispatcher) void old.dispatcher.close().catch(() => {});
    return { fingerprint, dispatcher };
  }

  /** undefined: a SOCKS proxy, which client-node's per-request dispatcher handles. */
  #dispatcher(
    cluster: NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>,
    tls: AgentOptions,
  ): Dispatcher | undefined {
    const options = this.#kc.createDispatcherOptions(cluster, tls);
    const pool = {
      // HTTP/1.1: a watch has a connection of its own, so the informer's stall watchdog,
      // aborting a watch on a dead connection, drops that connection and no other. Over one
      // HTTP/2 session a half-dead connection would take every request down with it. And
      // over HTTP/2 undici joins repeated headers into one field ("a, b"): the API server
      // would read a person's Impersonate-Group lines as one group.
      allowH2: false,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: 10 * KEEP_ALIVE_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
    };
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

/** The kubeconfig's headers for `context`, without its Impersonate-* ones when `dropImpersonation`. */
function credentialHeaders(
  context: RequestContext,
  dropImpersonation: boolean,
): Record<string, string> {
  const headers = context.getHeaders();
  if (!dropImpersonation) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('impersonate-')),
  );
}

/** What identifies TLS material without keeping a copy of the key in the fingerprint. */
function fingerprintOf(tls: AgentOptions): string {
  return JSON.stringify(
    Object.entries(tls as Record<string, unknown>).map(([name, value]) =>
      Buffer.isBuffer(value) || typeof value === 'string'
        ? [name, digest(value)]
        : [name, String(value)],
    ),
  );
}

function digest(value: Buffer | string): string {
  return createHash('sha256').update(value).digest('hex');
}
