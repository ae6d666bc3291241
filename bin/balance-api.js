#!/usr/bin/env -S node --max-semi-space-size=32 --heap-growing-percent=50
// The `balance-api` command runs the compiled JavaScript in dist/ (built by `npm run build`).
// The launcher line tunes V8's garbage collector for a server: a 32 MB young generation (the
// default 16 MB promotes the objects of requests still waiting on their upstream calls to the old
// generation, whose collection then costs a third of the CPU under load), and an old generation
// that grows by 50% over what is live rather than by up to 300%. BENCHMARKS.md has the figures.
import '../dist/main.js';
