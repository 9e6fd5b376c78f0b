import { describe, expect, it } from 'vitest';
import { requestLabels } from './kube-request-metrics.ts';

describe('requestLabels', () => {
  it.each([
    ['GET', '/api/v1/namespaces/a/secrets/b', {}, ['get', '', 'secrets', '']],
    ['GET', '/api/v1/namespaces/a/secrets', {}, ['list', '', 'secrets', '']],
    ['GET', '/api/v1/secrets', { watch: true }, ['watch', '', 'secrets', '']],
    ['POST', '/api/v1/namespaces/a/events', {}, ['create', '', 'events', '']],
    [
      'PUT',
      '/apis/llmtenancy.dev/v1alpha1/namespaces/a/virtualkeys/k/status',
      {},
      ['update', 'llmtenancy.dev', 'virtualkeys', 'status'],
    ],
    [
      'PATCH',
      '/apis/llmtenancy.dev/v1alpha1/teams/ml',
      {},
      ['patch', 'llmtenancy.dev', 'teams', ''],
    ],
    ['GET', '/apis/user.openshift.io/v1/groups', {}, ['list', 'user.openshift.io', 'groups', '']],
    ['DELETE', '/api/v1/namespaces/a/secrets/b', {}, ['delete', '', 'secrets', '']],
    ['DELETE', '/api/v1/namespaces/a/secrets', {}, ['deletecollection', '', 'secrets', '']],
    // A namespace itself, and its own subresources.
    ['GET', '/api/v1/namespaces/a', {}, ['get', '', 'namespaces', '']],
    ['PUT', '/api/v1/namespaces/a/finalize', {}, ['update', '', 'namespaces', 'finalize']],
    // Outside the resource API: the method, and the path's first segment.
    ['GET', '/apis/llmtenancy.dev/v1alpha1', {}, ['GET', '', '/apis', '']],
    ['GET', '/openapi/v3/apis/llmtenancy.dev/v1alpha1', {}, ['GET', '', '/openapi', '']],
    ['GET', '/version', {}, ['GET', '', '/version', '']],
  ] as const)('%s %s', (method, path, query, [verb, group, resource, subresource]) => {
    expect(requestLabels({ method, path, query })).toEqual({ verb, group, resource, subresource });
  });

  it('never labels with a namespace or a name', () => {
    const labels = requestLabels({
      method: 'GET',
      path: '/apis/llmtenancy.dev/v1alpha1/namespaces/team-secret/virtualkeys/key-name',
    });
    expect(Object.values(labels).join(' ')).not.toMatch(/team-secret|key-name/);
  });
});
