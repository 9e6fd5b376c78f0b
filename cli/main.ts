// kubectl-llm's process: runs the plugin with the process's arguments and streams, and exits
// with its code once output is flushed.
import { run } from './run.ts';

const code = await run(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
  env: process.env,
});
process.exitCode = code;
