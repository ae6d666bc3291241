#!/usr/bin/env node
// The `balance-api` command runs the compiled JavaScript in dist/ (built by `npm run build`).
import '../dist/main.js';
