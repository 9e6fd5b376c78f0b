// The apiserver's error answers, as kube-apiserver 1.37 sent them (recorded from the test
// bed), turned into what the user should read.
import { describe, expect, it } from 'vitest';
import { explainApiError, type KubeStatus } from './errors.ts';

/** GET /apis/absent.example.com/v1/things: a group nobody serves (text/plain, no Status). */
const UNSERVED_GROUP = { statusCode: 404, body: '404 page not found' };
/** GET /apis/llmtenancy.dev/v1alpha1/teams/nope */
const OBJECT_NOT_FOUND: KubeStatus = JSON.parse(
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"teams.llmtenancy.dev \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","group":"llmtenancy.dev","kind":"teams"},"code":404}',
);
/** GET /apis/llmtenancy.dev/v1alpha1/namespaces/x/virtualkeys as user tina. */
const FORBIDDEN: KubeStatus = JSON.parse(
  '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"virtualkeys.llmtenancy.dev is forbidden: User \\"tina\\" cannot list resource \\"virtualkeys\\" in API group \\"llmtenancy.dev\\" in the namespace \\"x\\"","reason":"Forbidden","details":{"group":"llmtenancy.dev","kind":"virtualkeys"},"code":403}',
);

const parsed = (text: string) => {
  try {
    return JSON.parse(text) as KubeStatus;
  } catch {
    return undefined;
  }
};

describe('explainApiError', () => {
  it('reads a 404 without a Status as CRDs not installed, and says how to install them', () => {
    const message = explainApiError(UNSERVED_GROUP.statusCode, parsed(UNSERVED_GROUP.body), {
      verb: 'list',
      resource: 'teams.llmtenancy.dev',
    });
    expect(message).toBe(
      'the apiserver does not serve teams.llmtenancy.dev: the llm-tenancy CRDs are not installed; install the llm-tenancy chart (helm install llm-tenancy charts/llm-tenancy) or apply the CRDs (kubectl apply -f crds/)',
    );
  });

  it('reads a 404 Status naming the object as that object missing', () => {
    expect(
      explainApiError(404, OBJECT_NOT_FOUND, {
        verb: 'get',
        resource: 'teams.llmtenancy.dev',
        name: 'nope',
      }),
    ).toBe('teams.llmtenancy.dev "nope" not found');
  });

  it('names the refused verb, resource and namespace of a 403, and who to ask', () => {
    const message = explainApiError(403, FORBIDDEN, {
      verb: 'list',
      resource: 'virtualkeys.llmtenancy.dev',
      namespace: 'x',
    });
    expect(message).toMatch(
      /^forbidden: you may not list virtualkeys\.llmtenancy\.dev at namespace x /,
    );
    expect(message).toContain('User "tina" cannot list resource "virtualkeys"');
    expect(message).toContain('ask a cluster admin for "list" on virtualkeys.llmtenancy.dev in x');
  });

  it('lists the causes of a 422 with their fields', () => {
    const message = explainApiError(
      422,
      {
        kind: 'Status',
        message: 'Team.llmtenancy.dev "a" is invalid',
        reason: 'Invalid',
        details: {
          name: 'a',
          causes: [{ field: 'spec.models', message: "'*' already allows every model" }],
        },
      },
      { verb: 'create', resource: 'teams.llmtenancy.dev', name: 'a' },
    );
    expect(message).toBe(
      'the apiserver refused teams.llmtenancy.dev "a": Team.llmtenancy.dev "a" is invalid\n  spec.models: \'*\' already allows every model',
    );
  });
});
