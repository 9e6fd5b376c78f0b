import { describe, expect, it } from 'vitest';
import type { LimitScope } from './rate-limiter.ts';
import { tokenReservation, tokensToSettle } from './token-estimate.ts';

const tpm = (n: number): LimitScope[] => [{ kind: 'key', id: 'k', tpm: n }];

describe('tokenReservation', () => {
  it('reserves the prompt at 4 characters a token plus max_tokens', () => {
    // Strings: "m" (1) + "user" (4) + 31 characters of text = 36 → 9 tokens.
    const body = {
      model: 'm',
      messages: [{ role: 'user', content: 'x'.repeat(31) }],
      max_tokens: 50,
    };
    expect(tokenReservation(true, body, tpm(10_000), 1024)).toBe(9 + 50);
  });

  it('takes the largest output cap the body sets (chat, completions, Responses)', () => {
    const body = { model: 'mmmm', max_tokens: 10, max_completion_tokens: 30 };
    expect(tokenReservation(true, body, tpm(10_000), 1024)).toBe(1 + 30);
    const responses = { model: 'mmmm', input: 'abcd', max_output_tokens: 7 };
    expect(tokenReservation(true, responses, tpm(10_000), 1024)).toBe(2 + 7);
  });

  it('reserves the default output without a cap, at most a quarter of the smallest tpm', () => {
    const body = { model: 'mmmm' };
    expect(tokenReservation(true, body, tpm(100_000), 1024)).toBe(1 + 1024);
    const scopes: LimitScope[] = [
      { kind: 'key', id: 'k', tpm: 100_000 },
      { kind: 'team', id: 't', rpm: 5 },
      { kind: 'subscription', id: 's', tpm: 400 },
    ];
    expect(tokenReservation(true, body, scopes, 1024)).toBe(1 + 100);
    expect(tokenReservation(true, body, tpm(100_000), 0)).toBe(1);
  });

  it('reserves only the prompt on routes that generate no tokens', () => {
    const body = { model: 'mmmm', input: ['abcd', 'efgh'] };
    expect(tokenReservation(false, body, tpm(10_000), 1024)).toBe(3);
  });

  it('leaves inline data out of the prompt', () => {
    const body = {
      model: 'mmmm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(4000)}` } },
          ],
        },
      ],
      max_tokens: 0,
    };
    // "mmmm" + "user" + "image_url" = 17 characters.
    expect(tokenReservation(true, body, tpm(10_000), 1024)).toBe(5);
  });

  it('reserves nothing without a tpm scope or without a JSON body', () => {
    const body = { model: 'mmmm', max_tokens: 50 };
    expect(tokenReservation(true, body, [{ kind: 'key', id: 'k', rpm: 1 }], 1024)).toBe(0);
    expect(tokenReservation(true, undefined, tpm(10_000), 1024)).toBe(0);
  });

  it('ignores output caps that are not counts', () => {
    const body = { model: 'mmmm', max_tokens: '500', max_completion_tokens: -3 };
    // "mmmm" + "500" = 7 characters of text: 2 tokens.
    expect(tokenReservation(true, body, tpm(100_000), 64)).toBe(2 + 64);
  });
});

describe('tokensToSettle', () => {
  it('charges the usage when the answer reported one', () => {
    const ended = { reserved: 100, answered: false, statusCode: 200 };
    expect(tokensToSettle({ ...ended, usedTokens: 7 })).toBe(7);
    expect(tokensToSettle({ ...ended, usedTokens: 0, answered: true })).toBe(0);
  });

  it('keeps the reservation of a caller who left before usage arrived', () => {
    expect(
      tokensToSettle({ usedTokens: undefined, reserved: 100, answered: false, statusCode: 200 }),
    ).toBe(100);
  });

  it('keeps the reservation of a whole answer without readable usage', () => {
    expect(
      tokensToSettle({ usedTokens: undefined, reserved: 100, answered: true, statusCode: 200 }),
    ).toBe(100);
  });

  it('charges nothing for an error answer delivered in full', () => {
    expect(
      tokensToSettle({ usedTokens: undefined, reserved: 100, answered: true, statusCode: 502 }),
    ).toBe(0);
    expect(
      tokensToSettle({ usedTokens: undefined, reserved: 100, answered: false, statusCode: 502 }),
    ).toBe(100);
  });
});
