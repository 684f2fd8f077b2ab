import { beforeAll, describe } from 'vitest';

/** The backends every run can use (no native TensorFlow): numeric code is tested on each; wasm lacks some kernels. */
export const JS_BACKENDS = ['cpu', 'wasm'] as const;
export type JsBackend = (typeof JS_BACKENDS)[number];

/**
 * `describe(title, body)` once per backend of JS_BACKENDS (`%s` in the title names it), after switching to it
 * with `init` in a beforeAll. `init` is backend's initBackend, passed in: test-utils depends on core only.
 */
export function describeOnBackends(
  title: string,
  init: (opts: { name: JsBackend; quiet: boolean }) => Promise<unknown>,
  body: (backend: JsBackend) => void,
): void {
  describe.each(JS_BACKENDS)(title, (backend) => {
    beforeAll(async () => {
      await init({ name: backend, quiet: true });
    });
    body(backend);
  });
}
