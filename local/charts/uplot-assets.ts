import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * uPlot (MIT, ~50 KB), read from node_modules when a page is written, so the live view and
 * the backtest's HTML plot are single files that work offline: no CDN, no second request.
 */
const require = createRequire(import.meta.url);
let cached: { script: string; css: string } | undefined;

export function uplotAssets(): { readonly script: string; readonly css: string } {
  cached ??= {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return cached;
}

/** Text that is safe inside an inline <script>: no `</script` can end it early. */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
