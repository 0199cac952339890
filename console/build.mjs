// Bundle the console into the Python package (src/aiport/console/), where aiport serves it.
//   node build.mjs          write the files
//   node build.mjs --check  exit 1 if the committed files differ from a fresh build
// esbuild's output is deterministic for the same inputs and version (both pinned by
// package-lock.json), so the check holds the committed bundle to its sources.

import * as esbuild from 'esbuild';
import { mkdir, readFile, writeFile } from 'node:fs/promises';

const here = new URL('./', import.meta.url);
const out = new URL('../src/aiport/console/', import.meta.url);
const THIRD_PARTY = ['preact', 'htm', 'uplot'];

async function build() {
  const result = await esbuild.build({
    entryPoints: [new URL('src/main.js', here).pathname],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome109', 'firefox115', 'safari16'],
    outdir: 'out',
    entryNames: 'console',
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'warning',
  });
  const files = {};
  for (const file of result.outputFiles) files[file.path.split('/').pop()] = file.text;
  files['index.html'] = await readFile(new URL('src/index.html', here), 'utf8');
  const notices = ['The aiport console bundles these packages (the licences below apply to their code in console.js and console.css):'];
  for (const name of THIRD_PARTY) {
    const pkg = JSON.parse(await readFile(new URL(`node_modules/${name}/package.json`, here), 'utf8'));
    const licence = await readFile(new URL(`node_modules/${name}/LICENSE`, here), 'utf8');
    notices.push(`\n===== ${name} ${pkg.version} (${pkg.license}) =====\n\n${licence.trim()}`);
  }
  files['THIRD-PARTY-LICENSES.txt'] = `${notices.join('\n')}\n`;
  return files;
}

const files = await build();
if (process.argv.includes('--check')) {
  const stale = [];
  for (const [name, text] of Object.entries(files)) {
    const committed = await readFile(new URL(name, out), 'utf8').catch(() => null);
    if (committed !== text) stale.push(name);
  }
  if (stale.length) {
    console.error(`stale console bundle (${stale.join(', ')}): run \`make console\` and commit src/aiport/console/`);
    process.exit(1);
  }
  console.log('console bundle up to date');
} else {
  await mkdir(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(new URL(name, out), text);
  console.log(`console bundle written: ${Object.entries(files).map(([n, t]) => `${n} ${(t.length / 1024).toFixed(1)} KiB`).join(', ')}`);
}
