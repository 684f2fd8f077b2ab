import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/index';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

describe('createProgress (plain mode, as on CI)', () => {
  it('prints a line every interval and a final line with rate and info', () => {
    const { stream, lines } = capture();
    let t = 0;
    const p = createProgress('pretext epoch 1', 100, { stream, plain: true, intervalMs: 10_000, now: () => t });
    for (let i = 0; i < 100; i++) {
      t += 500;
      p.tick(1, { loss: 1 / (i + 1) });
    } // 50 s in total
    p.stop();
    p.stop(); // idempotent
    expect(lines.length).toBe(5 + 1); // at 10, 20, 30, 40, 50 s, plus the final line
    expect(lines[0]).toBe('pretext epoch 1 20/100 (20%) 2.00 it/s elapsed 10s eta 40s loss=0.05000');
    expect(lines[5]).toBe('pretext epoch 1 100/100 (100%) 2.00 it/s elapsed 50s eta 0s loss=0.01000');
  });

  it('is plain when the stream is not a TTY', () => {
    const { stream, lines } = capture();
    const p = createProgress('x', 3, { stream, intervalMs: 0, now: () => 2000 });
    p.tick(3);
    p.stop();
    expect(lines[0]).toMatch(/^x 3\/3 \(100%\)/);
  });
});
