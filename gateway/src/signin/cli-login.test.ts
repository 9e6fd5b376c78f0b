import { describe, expect, it } from 'vitest';
import { challengeOf } from '../../../contracts/cli-login/cli-login.ts';
import { cliLoginRequest, loopbackRedirect, loopbackWithCode } from './cli-login.ts';

const challenge = challengeOf('v'.repeat(43));
const query = (redirect_uri: string) => ({
  redirect_uri,
  state: 's'.repeat(32),
  code_challenge: challenge,
  code_challenge_method: 'S256',
});

describe('the CLI login request', () => {
  it('takes loopback http addresses on any port', () => {
    for (const uri of [
      'http://127.0.0.1:49152/callback',
      'http://localhost:8000/cb',
      'http://[::1]:9000/callback',
    ]) {
      expect(loopbackRedirect(uri)).toBe(uri);
    }
  });

  it('refuses anything that could leave the machine', () => {
    for (const uri of [
      'https://attacker.example/callback',
      'http://127.0.0.1.attacker.example/',
      'http://localhost@attacker.example/',
      'http://user:pw@127.0.0.1:1/',
      'https://127.0.0.1:8443/',
      'http://127.0.0.1:1/#fragment',
      '//127.0.0.1/',
      'javascript:alert(1)',
    ]) {
      expect(loopbackRedirect(uri), uri).toBeUndefined();
    }
  });

  it('needs a state and an S256 challenge', () => {
    const good = query('http://127.0.0.1:1/callback');
    expect(cliLoginRequest(good)).toEqual({
      redirectUri: 'http://127.0.0.1:1/callback',
      state: good.state,
      codeChallenge: challenge,
    });
    expect(() => cliLoginRequest({ ...good, state: 'short' })).toThrow(/state/);
    expect(() => cliLoginRequest({ ...good, code_challenge_method: 'plain' })).toThrow(/S256/);
    expect(() => cliLoginRequest({ ...good, code_challenge: 'x' })).toThrow(/S256/);
  });

  it('sends the code and the CLI’s state back to the loopback address', () => {
    const request = cliLoginRequest(query('http://127.0.0.1:1/callback?keep=1'));
    const url = new URL(loopbackWithCode(request, 'the-code'));
    expect(url.searchParams.get('keep')).toBe('1');
    expect(url.searchParams.get('code')).toBe('the-code');
    expect(url.searchParams.get('state')).toBe(request.state);
  });
});
