/**
 * Bundles a handler exactly as the stack's NodejsFunction does (SPINE_BUNDLING), outside CDK:
 * the bundle benchmark measures these files and a test runs them on the local runtime.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { handlerEntry, SPINE_BUNDLING } from './constructs/spine-function.ts';

const PROJECT = new URL('..', import.meta.url).pathname;

/**
 * Writes `<outdir>/<name>/index.mjs` from a handler under functions/handlers (`{handlerFile}`),
 * or from handler source resolved against the project's node_modules (`{source}`).
 */
export async function bundleHandler(
  entry: { handlerFile: string } | { source: string },
  outdir: string,
  name: string,
): Promise<string> {
  const outfile = join(outdir, name, 'index.mjs');
  await build({
    ...('handlerFile' in entry
      ? { entryPoints: [handlerEntry(entry.handlerFile)] }
      : { stdin: { contents: entry.source, resolveDir: PROJECT, loader: 'js' as const } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: SPINE_BUNDLING.format,
    minify: SPINE_BUNDLING.minify,
    sourcemap: SPINE_BUNDLING.sourceMap,
    keepNames: SPINE_BUNDLING.keepNames,
    target: SPINE_BUNDLING.target,
    banner: { js: SPINE_BUNDLING.banner },
    mainFields: [...SPINE_BUNDLING.mainFields],
    logLevel: 'error',
  });
  return outfile;
}
