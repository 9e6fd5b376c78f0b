import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateGateway } from './locate.ts';

const dir = mkdtempSync(join(tmpdir(), 'locate-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const withExtension = (context: string, url: string) => `
apiVersion: v1
kind: Config
current-context: ${context}
contexts:
  - name: ${context}
    context:
      cluster: c
      extensions:
        - name: llmtenancy.dev/gateway
          extension: {url: ${url}}
  - name: plain
    context: {cluster: c}
`;

describe('which gateway', () => {
  const kubeconfig = file('a', withExtension('prod', 'https://llm.prod.example'));

  it('takes --gateway, then $KUBECTL_LLM_GATEWAY, then $GATEWAY_URL', () => {
    const env = { KUBECTL_LLM_GATEWAY: 'https://k', GATEWAY_URL: 'https://g' };
    expect(locateGateway('https://flag', { kubeconfig }, env)?.url).toBe('https://flag');
    expect(locateGateway(undefined, { kubeconfig }, env)?.url).toBe('https://k');
    expect(locateGateway(undefined, { kubeconfig }, { GATEWAY_URL: 'https://g' })?.url).toBe(
      'https://g',
    );
  });

  it('else reads the current (or named) context’s llmtenancy.dev/gateway extension', () => {
    expect(locateGateway(undefined, { kubeconfig }, {})).toEqual({
      url: 'https://llm.prod.example',
      source: 'the extension llmtenancy.dev/gateway of context prod',
    });
    expect(locateGateway(undefined, { kubeconfig, context: 'plain' }, {})).toBeUndefined();
  });

  it('merges $KUBECONFIG as kubectl does: the first file defining the context wins', () => {
    const first = file('b', withExtension('prod', 'https://first.example'));
    const env = { KUBECONFIG: [join(dir, 'missing'), first, kubeconfig].join(delimiter) };
    expect(locateGateway(undefined, {}, env)?.url).toBe('https://first.example');
  });
});
