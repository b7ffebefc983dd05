// The browser build of the consumer: bundled by esbuild for platform 'browser' and run in Chromium.
import { train } from './train.mjs';

window.result = train().catch((e) => ({ error: String((e && e.stack) || e) }));
