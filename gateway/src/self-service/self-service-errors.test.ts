import { describe, expect, it } from 'vitest';
import { ImpersonationRefused } from '../kube/impersonation-headers.ts';
import { KubeApiError, KubeUnreachable } from '../kube/kube-errors.ts';
import { fromKubeFailure } from './self-service-errors.ts';

const forbidden = (message: string) => new KubeApiError(403, 'Forbidden', message);

describe('fromKubeFailure', () => {
  it('keeps RBAC’s 403 a 403 that quotes the API server', () => {
    const error = fromKubeFailure(
      forbidden('virtualkeys.llmtenancy.dev is forbidden: User "bob" cannot create resource'),
      'create a VirtualKey in namespace ml',
    );
    expect(error.toBody().error).toEqual({
      type: 'permission_error',
      code: '403',
      param: null,
      message:
        'Kubernetes refused to create a VirtualKey in namespace ml as you: virtualkeys.llmtenancy.dev is forbidden: User "bob" cannot create resource',
    });
  });

  it.each([
    'users "alice" is forbidden: User "system:serviceaccount:gw:gateway" cannot impersonate resource "users" in API group "" at the cluster scope',
    'users.llmtenancy.dev "alice" is forbidden: User "system:serviceaccount:gw:gateway" cannot impersonate-on:user-info:get resource "users"',
  ])('makes the gateway lacking impersonate rights a 503 that says so: %s', (message) => {
    const error = fromKubeFailure(forbidden(message), 'list your teams');
    expect(error.statusCode).toBe(503);
    expect(error.message).toContain('lacks the impersonate permission');
  });

  it.each([
    [new KubeApiError(422, 'Invalid', 'spec.models: Invalid value'), 400, 'invalid_request_error'],
    [new KubeApiError(404, 'NotFound', 'not found'), 404, 'not_found_error'],
    [new KubeApiError(409, 'AlreadyExists', 'exists'), 409, 'invalid_request_error'],
    [new KubeApiError(500, 'InternalError', 'etcd'), 502, 'upstream_error'],
    [new KubeApiError(401, 'Unauthorized', 'Unauthorized'), 503, 'service_unavailable_error'],
    [
      new KubeUnreachable('the Kubernetes API server did not answer: ECONNREFUSED'),
      503,
      'service_unavailable_error',
    ],
    [
      new ImpersonationRefused('the impersonated group holds a control character'),
      403,
      'permission_error',
    ],
  ])('maps %s to %i %s', (failure, status, type) => {
    const error = fromKubeFailure(failure, 'do it');
    expect(error.statusCode).toBe(status);
    expect(error.type).toBe(type);
  });

  it('rethrows what is not a Kubernetes failure', () => {
    expect(() => fromKubeFailure(new TypeError('bug'), 'do it')).toThrow(TypeError);
  });
});
