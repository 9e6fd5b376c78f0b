// Plain JSON requests and watch streams to the API server, authenticated exactly as
// client-node does it, over the KubeConfig's one keep-alive pool (kube-transport.ts), because
// the informer needs three things the typed clients and client-node 2.0's Watch do not give it:
//
// - objects as the server sent them (the typed list APIs turn timestamps into Dates and
//   rename fields, while watch events arrive raw; a cache must hold one shape);
// - the HTTP status and Status body of a failed list or watch (410 Gone means "relist");
// - control over inactivity: client-node 2.0's Watch aborts any watch silent for a fixed
//   30 s, shorter than the server's one-minute bookmark interval, so quiet resources would
//   reconnect forever; here the informer's own stall watchdog decides.
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import { KubeTransport, type TransportResponse } from '../../../contracts/kube/kube-transport.ts';

/** metav1.Status, as the API server returns it for errors. */
export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = unknown> {
  type: WatchEventType;
  /** The object; a KubeStatus for ERROR events. */
  object: T;
}

/**
 * An error answer of the API server, with its HTTP status and metav1.Status. It is a
 * client-node ApiException (`code` is the HTTP status), so code written against the typed
 * clients reads it unchanged.
 */
export class KubeApiError extends ApiException<KubeStatus | undefined> {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  readonly status: KubeStatus | undefined;
  constructor(statusCode: number, status: KubeStatus | undefined, what: string) {
    super(statusCode, what, status, {});
    this.message = `${what}: ${statusCode} ${status?.reason ?? ''} ${status?.message ?? ''}`.trim();
    this.statusCode = statusCode;
    this.status = status;
  }
}

/** 410 Gone: the resourceVersion is too old (compacted); the caller must list again. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 410;
}

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * Accept headers asking for metadata only (the API server's PartialObjectMetadata
 * conversion), as controller-runtime's metadata-only watches do: no data, spec or status.
 */
export const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
export const METADATA_WATCH_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

async function send(
  kc: KubeConfig,
  path: string,
  query: Query,
  signal: AbortSignal | undefined,
  accept: string | undefined,
  bodyTimeoutMs?: number,
): Promise<TransportResponse> {
  return KubeTransport.of(kc).send({ method: 'GET', path, query, signal, accept, bodyTimeoutMs });
}

/** The KubeApiError of a non-2xx answer; consumes its body. */
export async function errorOf(response: TransportResponse, what: string): Promise<KubeApiError> {
  const text = await response.body.text().catch(() => '');
  let status: KubeStatus | undefined;
  try {
    status = JSON.parse(text) as KubeStatus;
  } catch {
    status = { message: text.slice(0, 200) };
  }
  return new KubeApiError(response.statusCode, status, what);
}

export const isOk = (response: TransportResponse) =>
  response.statusCode >= 200 && response.statusCode < 300;

/** GET `path` and parse the JSON answer; non-2xx answers throw KubeApiError. */
export async function getJson<T>(
  kc: KubeConfig,
  path: string,
  query: Query = {},
  signal?: AbortSignal,
  accept?: string,
): Promise<T> {
  const response = await send(kc, path, query, signal, accept);
  if (!isOk(response)) throw await errorOf(response, `GET ${path}`);
  return (await response.body.json()) as T;
}

/**
 * Opens a watch on `path` (watch=true is added) and yields its events until the server
 * ends the stream (normal return) or it fails (throws). Abort `signal` to close it.
 * An HTTP error answer throws KubeApiError before any event.
 */
export async function* watchEvents<T>(
  kc: KubeConfig,
  path: string,
  query: Query,
  signal: AbortSignal,
  accept?: string,
): AsyncGenerator<WatchEvent<T>> {
  // No body timeout: the informer's stall watchdog decides when a quiet watch is dead.
  const response = await send(kc, path, { ...query, watch: true }, signal, accept, 0);
  if (!isOk(response)) throw await errorOf(response, `watch ${path}`);
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line) as WatchEvent<T>;
    }
  }
  const rest = (buffered + decoder.decode()).trim();
  if (rest) yield JSON.parse(rest) as WatchEvent<T>;
}
