// Two bundles from one repo: the extension (runs in VS Code's extension host) and the capture
// worker (runs in the Job pod on each node). Both share src/contract.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// After each worker build: copy the new bundle into the staged Node-24 worker runtime, if this
// clone has one (scripts/worker-runtime.sh --refresh; .cache/ is never in the image's build
// context, so this does nothing there). The test cluster's image map runs that copy, so a
// rebuild with a cluster running is picked up by the next capture Job, as with `dist/` before.
class RefreshStagedWorker {
  apply(compiler) {
    compiler.hooks.afterEmit.tap('RefreshStagedWorker', () => {
      if (!fs.existsSync(path.resolve(__dirname, '.cache/worker-runtime/app/node_modules/cap'))) return;
      const r = spawnSync('bash', [path.resolve(__dirname, 'scripts/worker-runtime.sh'), '--refresh'], {
        stdio: 'inherit',
      });
      if (r.status !== 0) throw new Error(`scripts/worker-runtime.sh --refresh failed (${r.status ?? r.signal})`);
    });
  }
}

const common = (env, argv) => ({
  target: 'node20',
  mode: argv.mode ?? 'production',
  devtool: argv.mode === 'development' ? 'source-map' : false,
  resolve: {
    extensions: ['.ts', '.js'],
    // Sources import './x.js' (NodeNext style); resolve those to the .ts files.
    extensionAlias: { '.js': ['.ts', '.js'] },
  },
  module: {
    rules: [
      // The Kubernetes client declares no `sideEffects`, so webpack kept all of its ~3.6 MB (every
      // API group and model) although we use KubeConfig, CoreV1Api, Watch and Exec; its modules
      // only define classes and functions. Loading the whole chunk blocked the extension host for
      // ~200 ms while VS Code waited to ask for the tree's first rows.
      { test: /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/, sideEffects: false },
      {
        test: /\.ts$/,
        exclude: /node_modules/,
        use: {
          loader: 'ts-loader',
          options: {
            transpileOnly: true,
            compilerOptions: {
              noEmit: false,
              module: 'ESNext',
              moduleResolution: 'Bundler',
              sourceMap: argv.mode === 'development',
            },
          },
        },
      },
    ],
  },
  // Optional native speedups of the ws package that the Kubernetes client pulls in.
  externals: { bufferutil: 'commonjs bufferutil', 'utf-8-validate': 'commonjs utf-8-validate' },
  performance: { hints: false },
  stats: 'errors-warnings',
});

module.exports = (env, argv) => [
  {
    ...common(env, argv),
    name: 'extension',
    entry: { extension: './src/extension.ts' },
    output: {
      path: path.resolve(__dirname, 'dist'),
      filename: '[name].cjs',
      chunkFilename: 'chunks/[name].cjs',
      library: { type: 'commonjs2' },
      // Drop stale lazy chunks (they would be packed into the .vsix); the worker bundle and its
      // chunks, emitted by the other compiler into the same folder, are kept.
      clean: { keep: /^worker(\.cjs|-chunks\/)/ },
    },
    externals: { ...common(env, argv).externals, vscode: 'commonjs vscode' },
    resolve: {
      ...common(env, argv).resolve,
      // The ESM build of @azure/storage-common calls createRequire(import.meta.url), which a
      // CommonJS chunk cannot run ("Cannot use 'import.meta' outside a module"): use its CommonJS
      // build (no import.meta).
      alias: {
        '@azure/storage-common$': path.resolve(__dirname, 'node_modules/@azure/storage-common/dist/commonjs/index.js'),
      },
    },
  },
  {
    ...common(env, argv),
    name: 'worker',
    entry: { worker: './worker/src/main.ts' },
    // What the capture does not need before it starts (the blob SDK, tar) is in lazy chunks next
    // to the bundle (worker-chunks/, copied into the image with it): compiling them at start-up
    // cost ~25 ms of CPU per capture. Named chunks, so a rebuild overwrites them.
    output: {
      path: path.resolve(__dirname, 'dist'),
      filename: '[name].cjs',
      chunkFilename: 'worker-chunks/[name].cjs',
      library: { type: 'commonjs2' },
    },
    // cap is a native addon: it is installed next to the bundle (node_modules/cap), never bundled.
    externals: { ...common(env, argv).externals, cap: 'commonjs cap' },
    plugins: [new RefreshStagedWorker()],
    resolve: {
      ...common(env, argv).resolve,
      // As for the extension: the ESM build of @azure/storage-common calls
      // createRequire(import.meta.url), which a CommonJS chunk cannot run.
      alias: {
        '@azure/storage-common$': path.resolve(__dirname, 'node_modules/@azure/storage-common/dist/commonjs/index.js'),
      },
    },
  },
];
