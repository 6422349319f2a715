// Preloaded into a spawned `serve` with `--import` (NODE_OPTIONS): appends the URL of every module the
// process resolves through `import` to $RECORD_MODULES_FILE, so a test can tell whether the OpenTelemetry
// SDK was loaded at all (contract §15: with tracing off it must not be).
import { register } from 'node:module';

register('./record-modules-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_MODULES_FILE } });
