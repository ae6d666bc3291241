// Loaded with `node --import`: records the URL of every module the process loads, one per line,
// in the file named by BALANCE_API_MODULE_LOG, so a test can see what a command imported.
import { register } from 'node:module';

register(new URL('./record-modules-hooks.mjs', import.meta.url), {
  data: { file: process.env.BALANCE_API_MODULE_LOG },
});
