import { describe, expect, it } from 'vitest';
import { normalisePath } from './normalise-path.ts';

const path = (url: string) => {
  const result = normalisePath(url);
  if (!result.ok) throw new Error(`refused: ${result.problem}`);
  return result.path;
};
const problem = (url: string) => {
  const result = normalisePath(url);
  return result.ok ? undefined : result.problem;
};

describe('normalisePath', () => {
  it('keeps a canonical path as it is, and splits off the query', () => {
    expect(normalisePath('/v1/chat/completions')).toEqual({
      ok: true,
      path: '/v1/chat/completions',
      query: '',
    });
    expect(normalisePath('/v1/files?limit=2&after=x')).toEqual({
      ok: true,
      path: '/v1/files',
      query: '?limit=2&after=x',
    });
    expect(path('/openai/deployments/gpt-4o/chat/completions')).toBe(
      '/openai/deployments/gpt-4o/chat/completions',
    );
    expect(path('/v1/files/.well-known')).toBe('/v1/files/.well-known');
    expect(path('/')).toBe('/');
  });

  it('decodes escapes once and re-encodes each segment canonically', () => {
    expect(path('/v1/chat/%63ompletions')).toBe('/v1/chat/completions');
    expect(path('/v1/models/gpt%2D4o')).toBe('/v1/models/gpt-4o');
    expect(path('/v1/models/a%20b')).toBe('/v1/models/a%20b');
    expect(path('/v1/models/a%3ab@c')).toBe('/v1/models/a:b@c');
    expect(path('/v1/models/%C3%A9')).toBe('/v1/models/%C3%A9');
    expect(path('/v1/models/%c3%a9')).toBe('/v1/models/%C3%A9');
    // "%252F" decodes to the text "%2F", which is re-encoded, never turned into a slash.
    expect(path('/v1/models/a%252Fb')).toBe('/v1/models/a%252Fb');
  });

  it.each([
    ['/v1/chat%2Fcompletions', 'encoded slash'],
    ['/v1/chat%2fcompletions', 'encoded slash'],
    ['/v1/chat%5Ccompletions', 'encoded slash'],
    ['/v1/chat\\completions', 'backslash'],
    ['/v1//chat/completions', 'empty segment'],
    ['//v1/chat/completions', 'empty segment'],
    ['/v1/chat/completions/', 'empty segment'],
    ['/v1/models/../chat/completions', 'dot segment'],
    ['/v1/./chat/completions', 'dot segment'],
    ['/v1/%2e%2e/chat/completions', 'dot segment'],
    ['/v1/%2E/chat/completions', 'dot segment'],
    ['/v1/chat/completions/..', 'dot segment'],
    ['/v1/models/%zz', 'malformed'],
    ['/v1/models/%C3', 'malformed'],
    ['/v1/models/a%00b', 'control character'],
    ['/v1/models/a%0Ab', 'control character'],
    ['v1/chat/completions', 'start with'],
    ['http://litellm/v1/chat/completions', 'start with'],
    ['*', 'start with'],
  ])('refuses %s (%s)', (url, why) => {
    expect(problem(url)).toContain(why);
  });

  it('a query never changes the path decision', () => {
    expect(problem('/v1//x?y=1')).toContain('empty segment');
    expect(normalisePath('/v1/models?%2F=..//')).toEqual({
      ok: true,
      path: '/v1/models',
      query: '?%2F=..//',
    });
  });
});

describe('normalisePath on generated paths', () => {
  // A small deterministic generator (xorshift): paths built from the pieces parsers disagree on.
  const PIECES = [
    '/',
    '//',
    '.',
    '..',
    '%2e',
    '%2E',
    '%2F',
    '%2f',
    '%5C',
    '\\',
    '%25',
    '%',
    '%zz',
    '%41',
    '%C3%A9',
    '%c3',
    'v1',
    'chat',
    'completions',
    'a',
    '-',
    '~',
    ':',
    '@',
    '+',
    ';',
    ' ',
    '?',
    '%00',
    '%3F',
    '%23',
  ];
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const generated = Array.from({ length: 5000 }, () => {
    let url = '/';
    const n = 1 + Math.floor(next() * 8);
    for (let i = 0; i < n; i++) url += PIECES[Math.floor(next() * PIECES.length)];
    return url;
  });

  it('a path it accepts is canonical: no empty, dot or encoded-separator segment, and stable', () => {
    let accepted = 0;
    for (const url of generated) {
      const result = normalisePath(url);
      if (!result.ok) continue;
      accepted++;
      const { path } = result;
      expect(path.startsWith('/'), url).toBe(true);
      if (path === '/') continue;
      const segments = path.slice(1).split('/');
      for (const segment of segments) {
        expect(segment, url).not.toBe('');
        expect(/%(2f|5c)/i.test(segment), url).toBe(false);
        const decoded = decodeURIComponent(segment);
        expect(['.', '..'], url).not.toContain(decoded);
        expect(decoded.includes('/') || decoded.includes('\\'), url).toBe(false);
      }
      // Normalising again changes nothing: what is forwarded is what was checked.
      expect(normalisePath(path), url).toEqual({ ok: true, path, query: '' });
    }
    // The generator reaches both outcomes (a check that the test checks something).
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(generated.length);
  });
});
