import { describe, expect, it } from 'vitest';
import { OpenAIError } from '../errors/openai-error.ts';
import { generatedNamePrefix } from './create-key.ts';
import { CreateKeyBody, parseBody } from './request-bodies.ts';

function refusal(body: unknown): OpenAIError {
  try {
    parseBody(CreateKeyBody, body);
  } catch (err) {
    if (err instanceof OpenAIError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('CreateKeyBody', () => {
  it('accepts the documented fields and defaults models to all of the team’s', () => {
    expect(parseBody(CreateKeyBody, { namespace: 'ml', budget: '12.50', duration: '30d' })).toEqual(
      { namespace: 'ml', models: [], budget: '12.50', duration: '30d' },
    );
  });

  it.each([
    [{}, 'namespace'],
    [{ namespace: 'Not_DNS' }, 'namespace'],
    [{ namespace: 'ml', models: 'granite' }, 'models'],
    [{ namespace: 'ml', models: ['has space'] }, 'models.0'],
    [{ namespace: 'ml', budget: 'lots' }, 'budget'],
    [{ namespace: 'ml', duration: 'forever' }, 'duration'],
    [{ namespace: 'ml', budgetDuration: '0d' }, 'budgetDuration'],
    [{ namespace: 'ml', name: 'x'.repeat(64) }, 'name'],
    // No field names a person: a key is always the caller's own.
    [{ namespace: 'ml', user: 'alice' }, 'user'],
  ])('refuses %j with a 400 naming %s', (body, param) => {
    const error = refusal(body);
    expect(error.statusCode).toBe(400);
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe(param);
    expect(error.message).toMatch(new RegExp(`^${param.replace('.', '\\.')}: `));
  });
});

describe('generatedNamePrefix', () => {
  it.each([
    ['alice', 'alice-'],
    ['alice.example', 'alice-example-'],
    [`${'a'.repeat(39)}.b`, `${'a'.repeat(39)}-`],
    [`${'a'.repeat(39)}-b`, `${'a'.repeat(39)}-`],
  ])('names %s’s keys %s…', (user, prefix) => {
    expect(generatedNamePrefix(user)).toBe(prefix);
    expect(`${prefix}abcde`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
