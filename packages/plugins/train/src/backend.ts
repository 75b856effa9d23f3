/**
 * TensorFlow.js and its backends, loaded on demand. The native backends (tfjs-node, tfjs-node-gpu)
 * and webgpu are not dependencies: they download or build native code at install, which fails
 * offline. They are used when the user installed them, resolved from the working directory
 * first, then from this package.
 */
import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerChainedOps } from './chained-ops.js';
import { backendUnavailable } from './errors.js';
import type { BackendName } from './schema.js';

export type TF = typeof import('@tensorflow/tfjs-core') & typeof import('@tensorflow/tfjs-layers');

export type ResolvedBackend = Exclude<BackendName, 'auto'>;

export const NATIVE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

export const WEBGPU_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const;

const INSTALL_NATIVE_HINT =
  'Install it on a host with internet: `pnpm add @tensorflow/tfjs-node@4.22.0` (or tfjs-node-gpu with CUDA 11.2 and cuDNN 8.1 for libtensorflow 2.9.1), ' +
  'then `pnpm approve-builds` so its install script can download libtensorflow. Or use backend: wasm or cpu. See docs/train.md#backends.';

/** Resolves an optional package from the working directory, then from this package. */
export function resolveOptional(name: string): string | undefined {
  for (const base of [join(process.cwd(), 'noop.js'), import.meta.url]) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/** Which native package `auto` would try first, if any is installed. */
export function installedNative(): ResolvedBackend | undefined {
  if (resolveOptional(NATIVE_PACKAGES['tensorflow-gpu'])) return 'tensorflow-gpu';
  if (resolveOptional(NATIVE_PACKAGES.tensorflow)) return 'tensorflow';
  return undefined;
}

/**
 * Whether these options end up on a backend that must own its process: native TensorFlow fails
 * in a second worker thread ("Module did not self-register"), and a GPU device is best held by
 * one process. The runner then gives each such task its own child process.
 */
export function resolvesToNative(options: { backend?: unknown } | undefined): boolean {
  const b = options?.backend ?? 'auto';
  if (b === 'tensorflow' || b === 'tensorflow-gpu' || b === 'webgpu') return true;
  return b === 'auto' && installedNative() !== undefined;
}

let tfPromise: Promise<TF> | undefined;

/** tfjs-core + tfjs-layers (+ the cpu backend) as one namespace, like `@tensorflow/tfjs`. */
export function loadTf(): Promise<TF> {
  tfPromise ??= (async () => {
    const core = unwrap(await import('@tensorflow/tfjs-core'));
    const layers = unwrap(await import('@tensorflow/tfjs-layers'));
    await import('@tensorflow/tfjs-backend-cpu');
    // Production mode: no debug checks and no "install tfjs-node" banner on stderr.
    core.enableProdMode();
    const tf = { ...core, ...layers } as TF;
    registerChainedOps(tf);
    return tf;
  })();
  tfPromise.catch(() => (tfPromise = undefined));
  return tfPromise;
}

function unwrap<T>(mod: T): T {
  const m = mod as T & { default?: T };
  return m.default && typeof m.default === 'object' ? m.default : m;
}

export interface BackendChoice {
  name: ResolvedBackend;
  /** What was tried and why it was skipped, for the log. */
  notes: string[];
}

let wasmPathsSet = false;
const nativeLoaded = new Map<string, Promise<void>>();

async function activate(tf: TF, name: ResolvedBackend, gpuAllowGrowth: boolean): Promise<void> {
  switch (name) {
    case 'cpu':
      break;
    case 'wasm': {
      const wasm = unwrap(await import('@tensorflow/tfjs-backend-wasm'));
      if (!wasmPathsSet) {
        // In Node the wasm binaries are read from disk: point the loader at the package's dist/.
        const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(dirname(entry) + '/');
        wasmPathsSet = true;
      }
      break;
    }
    case 'tensorflow':
    case 'tensorflow-gpu': {
      const pkg = NATIVE_PACKAGES[name];
      if (!isMainThread) {
        throw backendUnavailable(
          `backend ${name} cannot run in a worker thread (native TensorFlow fails to load in a second thread: "Module did not self-register")`,
          'Remove `isolation: thread` from the stage: the trainer runs native backends one task per process by default.',
        );
      }
      const path = resolveOptional(pkg);
      if (!path) throw backendUnavailable(`backend ${name} needs ${pkg}, which is not installed`, INSTALL_NATIVE_HINT);
      if (name === 'tensorflow-gpu' && gpuAllowGrowth) process.env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true';
      let p = nativeLoaded.get(pkg);
      if (!p) {
        p = import(pathToFileURL(path).href).then(() => undefined);
        nativeLoaded.set(pkg, p);
        p.catch(() => nativeLoaded.delete(pkg));
      }
      try {
        await p;
      } catch (err) {
        throw backendUnavailable(
          `${pkg} is installed but failed to load: ${(err as Error).message}`,
          name === 'tensorflow-gpu'
            ? 'tfjs-node-gpu 4.22 needs libtensorflow 2.9.1 with CUDA 11.2 and cuDNN 8.1 on the library path (LD_LIBRARY_PATH). Reinstall it with its build script approved, or use backend: tensorflow, wasm or cpu.'
            : 'Reinstall it with its build script approved (`pnpm approve-builds`), or use backend: wasm or cpu.',
          err,
        );
      }
      break;
    }
    case 'webgpu': {
      const [dawnPkg, backendPkg] = WEBGPU_PACKAGES;
      const dawnPath = resolveOptional(dawnPkg);
      const backendPath = resolveOptional(backendPkg);
      if (!dawnPath || !backendPath) {
        throw backendUnavailable(
          `backend webgpu needs the ${[!dawnPath && dawnPkg, !backendPath && backendPkg].filter(Boolean).join(' and ')} package${!dawnPath && !backendPath ? 's' : ''}, not installed`,
          'Install them on a host with a GPU and Vulkan drivers: `pnpm add webgpu @tensorflow/tfjs-backend-webgpu@4.22.0` (and approve webgpu\'s build script). Or use another backend.',
        );
      }
      const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
      if (!g.navigator?.gpu) {
        const dawn = unwrap(await import(pathToFileURL(dawnPath).href)) as { create(flags: string[]): unknown; globals: object };
        Object.assign(globalThis, dawn.globals);
        const gpu = dawn.create([]);
        if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
        else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      }
      await import(pathToFileURL(backendPath).href);
      break;
    }
  }
  const registered = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  let ok = false;
  try {
    ok = await tf.setBackend(registered);
    await tf.ready();
  } catch (err) {
    throw backendUnavailable(`backend ${name} failed to initialise: ${(err as Error).message}`, 'Use another backend (cpu always works).', err);
  }
  if (!ok || tf.getBackend() !== registered) {
    throw backendUnavailable(
      `backend ${name} failed to initialise (tfjs kept ${tf.getBackend()}; its reason is on stderr)`,
      name === 'webgpu'
        ? 'Dawn needs a GPU with Vulkan (Linux), Metal or D3D12 drivers; software Vulkan such as llvmpipe lacks features it requires. Or use another backend (cpu always works).'
        : 'Use another backend (cpu always works).',
    );
  }
}

/**
 * Activates the requested backend, or with `auto` the best that loads: tensorflow-gpu,
 * tensorflow (main thread of a process only), wasm, cpu.
 */
export async function selectBackend(tf: TF, requested: BackendName, options: { gpuAllowGrowth: boolean }): Promise<BackendChoice> {
  if (requested !== 'auto') {
    await activate(tf, requested, options.gpuAllowGrowth);
    return { name: requested, notes: [] };
  }
  const notes: string[] = [];
  const order: ResolvedBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const pkg = NATIVE_PACKAGES[name];
      if (!resolveOptional(pkg)) {
        notes.push(`${name}: ${pkg} not installed`);
        continue;
      }
      if (!isMainThread) {
        notes.push(`${name}: skipped in a worker thread (set no isolation override so the trainer gets its own process)`);
        continue;
      }
    }
    try {
      await activate(tf, name, options.gpuAllowGrowth);
      return { name, notes };
    } catch (err) {
      notes.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw backendUnavailable(`no TensorFlow.js backend could be initialised (${notes.join('; ')})`, 'Reinstall the project dependencies.');
}
