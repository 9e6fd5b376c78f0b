// The installation id the test operators stamp into LiteLLM objects (operator/src/installation.ts);
// a suite that runs two installations passes its own.
export const TEST_INSTALLATION_ID = 'llm-tenancy-tests';
