#!/usr/bin/env node
// The TypeScript sources run directly through tsx, as the bot does; there is no build step.
require('tsx/cjs');
const { runCli } = require('../cli/nas-transfer.ts');

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
