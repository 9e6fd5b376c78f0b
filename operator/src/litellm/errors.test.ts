import { describe, expect, it } from 'vitest';
import { TerminalError } from '../runtime/result.ts';
import {
  classifyResponse,
  findLiteLLMError,
  LiteLLMError,
  litellmErrorPolicy,
  normaliseErrorBody,
  redact,
  toReconcileError,
  unwrapPythonRepr,
} from './errors.ts';

const request = { namespace: undefined, name: 'x' } as never;

describe('normaliseErrorBody reads every shape LiteLLM answers with', () => {
  it('a ProxyException {error: {message, type, param, code}}', () => {
    const body = JSON.stringify({
      error: {
        message: 'Authentication Error, Invalid API key provided.',
        type: 'token_not_found_in_db',
        param: 'key',
        code: '401',
      },
    });
    expect(normaliseErrorBody(body)).toEqual({
      message: 'Authentication Error, Invalid API key provided.',
      type: 'token_not_found_in_db',
      param: 'key',
      code: '401',
    });
  });

  it('a ProxyException whose message is a Python dict repr (handle_exception_on_proxy)', () => {
    const body = JSON.stringify({
      error: {
        message: "{'error': 'User with id alice already exists'}",
        type: 'internal_server_error',
        param: null,
        code: '409',
      },
    });
    expect(normaliseErrorBody(body)).toMatchObject({
      message: 'User with id alice already exists',
      param: null,
      code: '409',
    });
  });

  it("a dict repr under 'message', with a double-quoted value holding an apostrophe", () => {
    expect(unwrapPythonRepr(`{'message': "Team not found, passed team id: it's."}`)).toBe(
      "Team not found, passed team id: it's.",
    );
    expect(unwrapPythonRepr(`{'error': 'it\\'s escaped'}`)).toBe("it's escaped");
  });

  it('nested reprs, up to three levels', () => {
    expect(unwrapPythonRepr(`{'error': "{'message': 'inner'}"}`)).toBe('inner');
  });

  it('leaves anything else as LiteLLM sent it', () => {
    expect(unwrapPythonRepr("{'error': 'x', 'other': 1}")).toBe("{'error': 'x', 'other': 1}");
    expect(unwrapPythonRepr('plain text')).toBe('plain text');
  });

  it('a bare FastAPI HTTPException {detail: str}', () => {
    expect(
      normaliseErrorBody(JSON.stringify({ detail: 'Assigning team admins is a premium feature.' })),
    ).toEqual({
      message: 'Assigning team admins is a premium feature.',
    });
  });

  it('{detail: {error: str}}', () => {
    expect(normaliseErrorBody(JSON.stringify({ detail: { error: 'No db connected' } }))).toEqual({
      message: 'No db connected',
    });
  });

  it('422 validation {detail: [{loc, msg}]}', () => {
    const body = JSON.stringify({
      detail: [
        { type: 'missing', loc: ['body', 'team_id'], msg: 'Field required', input: {} },
        { type: 'literal_error', loc: ['body', 'role'], msg: "Input should be 'admin' or 'user'" },
      ],
    });
    expect(normaliseErrorBody(body).message).toBe(
      "validation failed: body.team_id: Field required; body.role: Input should be 'admin' or 'user'",
    );
  });

  it('{error: str}, a JSON string, non-JSON and an empty body', () => {
    expect(normaliseErrorBody('{"error":"User not found in team"}').message).toBe(
      'User not found in team',
    );
    expect(normaliseErrorBody('"I\'m alive!"').message).toBe("I'm alive!");
    expect(normaliseErrorBody('<html>\n<body>502 Bad Gateway</body></html>').message).toBe(
      '<html> <body>502 Bad Gateway</body></html>',
    );
    expect(normaliseErrorBody('Internal Server Error').message).toBe('Internal Server Error');
    expect(normaliseErrorBody('').message).toBe('(empty response body)');
  });

  it('truncates huge messages', () => {
    expect(normaliseErrorBody('x'.repeat(10_000)).message.length).toBeLessThan(2_100);
  });
});

describe('classifyResponse', () => {
  const m = (message: string, type?: string) => ({ message, type });
  it.each([
    [429, m('Rate limit exceeded'), 'rateLimited'],
    [502, m('Bad Gateway'), 'unavailable'],
    [503, m('DB down'), 'unavailable'],
    [504, m('Gateway Timeout'), 'unavailable'],
    [500, m('No db connected'), 'unavailable'],
    [400, m('No connected db.', 'no_db_connection'), 'unavailable'],
    [
      403,
      m(
        'This feature is only available for LiteLLM Enterprise users: tags. You must be a LiteLLM Enterprise user …',
      ),
      'enterpriseOnly',
    ],
    [400, m('Assigning team admins is a premium feature. …'), 'enterpriseOnly'],
    [500, m('Regenerating Virtual Keys is an Enterprise feature, …'), 'enterpriseOnly'],
    [
      500,
      m('Invalid model_max_budget: You must have an enterprise license to set model_max_budget.'),
      'enterpriseOnly',
    ],
    [
      401,
      m('Authentication Error, Invalid API key provided.', 'token_not_found_in_db'),
      'unauthorized',
    ],
    [403, m('Only proxy admin can be used …'), 'unauthorized'],
    [404, m('Team not found, passed team id: x.', 'auth_error'), 'notFound'],
    [400, m('User not found in team'), 'notFound'],
    [409, m('User with id alice already exists', 'internal_server_error'), 'conflict'],
    [400, m('Team id = t already exists. Please use a different team id.'), 'conflict'],
    [400, m("Key with alias 'k' already exists. …", 'bad_request_error'), 'conflict'],
    [400, m('User already in team. …', 'team_member_already_in_team'), 'conflict'],
    [400, m("Invalid key format. LiteLLM Virtual Key must start with 'sk-'."), 'invalid'],
    [422, m('validation failed: body.team_id: Field required'), 'invalid'],
    [500, m('Internal server error'), 'server'],
  ] as const)('%i %j → %s', (status, body, kind) => {
    expect(classifyResponse(status, body)).toBe(kind);
  });
});

describe('LiteLLMError', () => {
  it('names the object and the call, and says when Enterprise is needed', () => {
    const err = new LiteLLMError({
      kind: 'enterpriseOnly',
      method: 'POST',
      endpoint: '/team/member_add',
      status: 400,
      detail: 'Assigning team admins is a premium feature.',
      object: 'Team ml-research',
    });
    expect(err.message).toBe(
      'Team ml-research: POST /team/member_add: 400 Assigning team admins is a premium feature. (this feature needs a LiteLLM Enterprise licence)',
    );
    expect(err.call).toBe('POST /team/member_add');
    expect(err.terminal).toBe(true);
  });

  it('carries retryAfterMs only when given (result.ts › retryAfterMsOf reads it)', () => {
    const limited = new LiteLLMError({
      kind: 'rateLimited',
      method: 'GET',
      endpoint: '/key/info',
      status: 429,
      detail: 'x',
      retryAfterMs: 2000,
    });
    expect(limited.retryAfterMs).toBe(2000);
    const other = new LiteLLMError({
      kind: 'server',
      method: 'GET',
      endpoint: '/key/info',
      status: 500,
      detail: 'x',
    });
    expect(other.retryAfterMs).toBeUndefined();
  });

  it('becomes a TerminalError for the reconciler only when retrying cannot help', () => {
    const invalid = new LiteLLMError({
      kind: 'invalid',
      method: 'POST',
      endpoint: '/team/new',
      status: 422,
      detail: 'x',
    });
    const wrapped = toReconcileError(invalid);
    expect(wrapped).toBeInstanceOf(TerminalError);
    expect(findLiteLLMError(wrapped)).toBe(invalid);
    const down = new LiteLLMError({
      kind: 'unavailable',
      method: 'POST',
      endpoint: '/team/new',
      detail: 'x',
    });
    expect(toReconcileError(down)).toBe(down);
  });

  it('litellmErrorPolicy: terminal kinds terminal, Retry-After honoured, the rest backoff', () => {
    const make = (
      kind: 'invalid' | 'enterpriseOnly' | 'rateLimited' | 'conflict',
      retryAfterMs?: number,
    ) => new LiteLLMError({ kind, method: 'POST', endpoint: '/x', detail: 'x', retryAfterMs });
    expect(litellmErrorPolicy(make('invalid'), request)).toEqual({ action: 'terminal' });
    expect(
      litellmErrorPolicy(new Error('wrapped', { cause: make('enterpriseOnly') }), request),
    ).toEqual({ action: 'terminal' });
    expect(litellmErrorPolicy(make('rateLimited', 5000), request)).toEqual({
      action: 'requeueAfter',
      ms: 5000,
    });
    expect(litellmErrorPolicy(make('conflict'), request)).toEqual({ action: 'backoff' });
  });
});

describe('redact', () => {
  it('removes given secrets and masks anything shaped like a plaintext key', () => {
    const text =
      'Key sk-abcdef0123456789 with master sk-master-1234 and token 1f2e, name sk-...abcd';
    expect(redact(text, ['sk-master-1234'])).toBe(
      'Key sk-[redacted] with master [redacted] and token 1f2e, name sk-...abcd',
    );
  });
});
