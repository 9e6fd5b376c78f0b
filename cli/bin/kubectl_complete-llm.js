#!/usr/bin/env node
// kubectl's completion hook for the llm plugin: kubectl runs `kubectl_complete-llm __complete
// <words>` when `kubectl llm <TAB>` is pressed. Same launcher as kubectl-llm (Node 24 needed).
import process from 'node:process';

process.argv.splice(2, process.argv[2] === '__complete' ? 1 : 0, '__complete');
await import('./kubectl-llm.js');
