// Loaded with `node --require`: when the process exits, appends the path of every CommonJS module
// it loaded (whether by require or by import) to the file named by BALANCE_API_REQUIRED_LOG. The
// ESM loader hooks of record-modules.mjs do not see a require() made inside CommonJS code.
const { appendFileSync } = require('node:fs');
const Module = require('node:module');

const file = process.env.BALANCE_API_REQUIRED_LOG;
process.on('exit', () => {
  if (file === undefined) return;
  appendFileSync(file, `${Object.keys(Module._cache).join('\n')}\n`);
});
