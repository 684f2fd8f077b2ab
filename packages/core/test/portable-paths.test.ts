import { describe, expect, it } from 'vitest';
import { composeConfig } from '../src/config';
import { portableConfig, portablePath, resolveRecordedPath } from '../src/portable-paths';

describe('portablePath', () => {
  it('is relative inside the workspace root and one level beside it, absolute further away', () => {
    expect(portablePath('/w/repo/runs/ci/x/pretext', '/w/repo')).toBe('runs/ci/x/pretext');
    expect(portablePath('/w/repo', '/w/repo')).toBe('.');
    expect(portablePath('/w/shared/data', '/w/repo')).toBe('../shared/data');
    expect(portablePath('/tmp/elsewhere/runs', '/w/repo')).toBe('/tmp/elsewhere/runs');
    expect(portablePath('runs/records', '/w/repo')).toBe('runs/records');
    expect(portablePath('', '/w/repo')).toBe('');
  });

  it('resolves back against the workspace root it is read in', () => {
    expect(resolveRecordedPath('runs/ci/x/pretext', '/other/checkout')).toBe('/other/checkout/runs/ci/x/pretext');
    expect(resolveRecordedPath('../shared/data', '/other/checkout')).toBe('/other/shared/data');
    expect(resolveRecordedPath('/tmp/elsewhere', '/other/checkout')).toBe('/tmp/elsewhere');
  });

  it('portableConfig rewrites exactly the path keys', () => {
    const root = '/w/repo';
    const cfg = composeConfig(
      [
        'dataset=cifar10',
        'profile=ci',
        `run.out=${root}/runs/ci/p`,
        `dataset.root=/w/shared/data`,
        `tracking.results_dir=${root}/runs/ci/records`,
      ],
      { env: {} },
    );
    const p = portableConfig(cfg, root);
    expect([p.run.out, p.dataset.root, p.tracking.results_dir]).toEqual([
      'runs/ci/p',
      '../shared/data',
      'runs/ci/records',
    ]);
    expect(cfg.run.out).toBe(`${root}/runs/ci/p`); // the config itself is left alone
    expect(p.scan).toEqual(cfg.scan);
  });
});
