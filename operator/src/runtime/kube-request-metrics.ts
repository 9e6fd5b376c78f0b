// What the operator asks of the API server, counted on its side: client-go's
// rest_client_requests_total, labelled as the API server labels apiserver_request_total
// (verb, group, resource, subresource, code), so the two can be read side by side and a
// request the server counted can be told to be the operator's or not.
//
//   llmtenancy_kube_requests_total{verb,group,resource,subresource,code}
//       verb: get | list | watch | create | update | patch | delete | deletecollection; for a
//       path outside the resource API (discovery, /openapi, /version) the HTTP method, and
//       resource the path's first segment ("/openapi").
//       code: the HTTP status (a watch's when its stream opened), or "<error>" as client-go
//       writes it: no answer (network error, aborted, refused by the write fence).
//
// No namespace or name becomes a label value.
import { Counter, type Registry } from 'prom-client';
import type { KubeTransport, TransportRequest } from '../../../contracts/kube/kube-transport.ts';

export type KubeRequestLabel = 'verb' | 'group' | 'resource' | 'subresource' | 'code';

const byRegistry = new WeakMap<Registry, Counter<KubeRequestLabel>>();

function requestsCounter(registry: Registry): Counter<KubeRequestLabel> {
  let counter = byRegistry.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'llmtenancy_kube_requests_total',
      help: 'Requests the operator sent to the API server, by verb, group, resource, subresource and HTTP status ("<error>": no answer)',
      labelNames: ['verb', 'group', 'resource', 'subresource', 'code'],
      registers: [registry],
    });
    byRegistry.set(registry, counter);
  }
  return counter;
}

/**
 * Counts every request `transports` send from now on into `registry`. A transport is shared
 * by everything using its KubeConfig, so all of them are counted. Returns the unsubscribe.
 */
export function countKubeRequests(
  transports: Iterable<KubeTransport>,
  registry: Registry,
): () => void {
  const counter = requestsCounter(registry);
  const unsubscribes = [...new Set(transports)].map((transport) =>
    transport.observe((request, statusCode) => {
      counter.inc({
        ...requestLabels(request),
        code: statusCode === undefined ? '<error>' : String(statusCode),
      });
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

export interface RequestLabels {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
}

/**
 * The API server's labels for a request: /api/v1/… is the core group, /apis/<group>/<version>/…
 * a named one; `namespaces/<ns>/` before the resource is its scope, not the resource.
 */
export function requestLabels(
  request: Pick<TransportRequest, 'method' | 'path' | 'query'>,
): RequestLabels {
  const segments = request.path.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1]!;
    rest = segments.slice(3);
  } else {
    return {
      verb: request.method,
      group: '',
      resource: `/${segments[0] ?? ''}`,
      subresource: '',
    };
  }
  // namespaces/<ns>/<resource>…, except a namespace's own subresources (status, finalize).
  if (rest[0] === 'namespaces' && rest.length >= 3 && !isNamespaceSubresource(rest)) {
    rest = rest.slice(2);
  }
  const [resource = '', name, subresource = ''] = rest;
  return { verb: verbOf(request, name !== undefined), group, resource, subresource };
}

function isNamespaceSubresource(rest: string[]): boolean {
  return rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
}

function verbOf(request: Pick<TransportRequest, 'method' | 'query'>, named: boolean): string {
  switch (request.method) {
    case 'GET':
      if (request.query?.watch === true || request.query?.watch === 'true') return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
  }
}
