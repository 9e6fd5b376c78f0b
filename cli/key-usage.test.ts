import { describe, expect, it } from 'vitest';
import type { VirtualKey } from '../crds/api/index.ts';
import { keyUsage } from './key-usage.ts';

const key = {
  apiVersion: 'llmtenancy.dev/v1alpha1',
  kind: 'VirtualKey',
  metadata: { name: 'chatbot', namespace: 'ml' },
  spec: { secret: { name: 'chatbot-openai', apiKeyKey: 'API.KEY' } },
  status: { secretName: 'chatbot-openai' },
} as unknown as VirtualKey;

describe('keyUsage', () => {
  it('shows the envFrom snippet and reads the key from the Secret in the export line', () => {
    const text = keyUsage(key, undefined);
    expect(text).toContain('    - secretRef:\n        name: chatbot-openai\n');
    expect(text).toContain(
      `export API.KEY="$(kubectl get secret chatbot-openai -n ml -o jsonpath='{.data.API\\.KEY}' | base64 -d)"   # sk-**** (--show-key prints it)`,
    );
    expect(text).toContain('export OPENAI_BASE_URL="$(kubectl get secret chatbot-openai');
  });

  it('prints the values, shell-quoted, only when they are given (--show-key)', () => {
    const text = keyUsage(key, { apiKey: "sk-it's", baseUrl: 'http://gw/v1' });
    expect(text).toContain(`export API.KEY='sk-it'\\''s'`);
    expect(text).toContain(`export OPENAI_BASE_URL='http://gw/v1'`);
  });
});
