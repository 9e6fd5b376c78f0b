// The few REST calls the plugin makes, sent with client-node's KubeConfig (certificates,
// tokens, exec plugins, proxy) on node:https. A CLI run makes a handful of requests, so one
// request per connection is fine; errors come back as ApiError with the apiserver's Status.
import http from 'node:http';
import https from 'node:https';
import { ApiError, CliError, type KubeStatus, type RequestSummary } from '../errors.ts';
import type { Connection } from './connection.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RestRequest {
  method: Method;
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** For error messages: what this request is, in RBAC's words. */
  summary: RequestSummary;
}

const TIMEOUT_MS = 30_000;

export class KubeRest {
  readonly #connection: Connection;
  constructor(connection: Connection) {
    this.#connection = connection;
  }

  get server(): string {
    return this.#connection.kc.getCurrentCluster()!.server;
  }

  /** The parsed JSON body of a 2xx answer; ApiError otherwise. */
  async request<T>(req: RestRequest): Promise<T> {
    const { statusCode, text } = await this.raw(req);
    const json = parseJson(text);
    if (statusCode >= 200 && statusCode < 300) return json as T;
    const status = json && typeof json === 'object' ? (json as KubeStatus) : undefined;
    throw new ApiError(statusCode, status, req.summary);
  }

  /** Status code and body text, whatever the status. */
  async raw(req: RestRequest): Promise<{ statusCode: number; text: string }> {
    const url = new URL(this.server.replace(/\/+$/, '') + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, v);
    }
    const options: https.RequestOptions = {
      method: req.method,
      headers: { accept: 'application/json', ...this.#connection.headers },
      timeout: TIMEOUT_MS,
    };
    await this.#connection.kc.applyToHTTPSOptions(options);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    if (body !== undefined) {
      options.headers = {
        ...options.headers,
        'content-type': req.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(body),
      };
    }
    const transport = url.protocol === 'http:' ? http : https;
    if (url.protocol === 'http:') delete options.agent;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            statusCode: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000}s`)));
      request.on('error', (err) =>
        reject(
          new CliError(
            `cannot reach the apiserver at ${this.server}: ${err.message}; check the kubeconfig's context (kubectl config current-context) and that the cluster is up`,
          ),
        ),
      );
      request.end(body);
    });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
