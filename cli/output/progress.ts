// A one-line progress bar on a terminal's stderr; silent when stderr is not a terminal.
import type { WriteStream } from 'node:tty';

export class ProgressLine {
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly enabled: boolean;

  constructor(private readonly stream: WriteStream = process.stderr as WriteStream) {
    this.enabled = Boolean(stream.isTTY);
  }

  update(listed: number, audited: number, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = listed === 0 ? 0 : Math.round((audited / listed) * width);
    const rate = audited / Math.max((now - this.started) / 1000, 0.001);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    this.stream.write(`\r${bar} ${audited}/${listed} listed objects audited  ${rate.toFixed(0)} objects/s `);
  }

  done(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
