import cliTruncate from 'cli-truncate';
import { createLogUpdate } from 'log-update';

/**
 * A live region at the bottom of the terminal (bars) with permanent lines printed above it.
 * log-update counts the rows the region takes after wrapping, so erasing it is exact at any
 * width; region lines are cut to the width so they never wrap. Permanent lines are written in
 * full (the terminal wraps them) and never redrawn, so nothing printed is lost.
 */
export class LiveView {
  private readonly update: ReturnType<typeof createLogUpdate>;
  private frame: string[] = [];
  private timer?: NodeJS.Timeout;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly fps = 8,
  ) {
    this.update = createLogUpdate(out);
    this.timer = setInterval(() => this.flush(), Math.round(1000 / this.fps));
    this.timer.unref();
  }

  /** Sets the region's lines; drawn on the next tick. */
  set(lines: string[]): void {
    this.frame = lines;
    this.dirty = true;
  }

  /** Prints a permanent line above the region. */
  log(line: string): void {
    if (this.stopped) {
      this.out.write(line + '\n');
      return;
    }
    this.update.clear();
    this.out.write(line + '\n');
    this.draw();
  }

  private flush(): void {
    if (this.dirty) this.draw();
  }

  private draw(): void {
    this.dirty = false;
    const width = Math.max(10, (this.out.columns || 80) - 1);
    this.update(this.frame.map((l) => cliTruncate(l, width)).join('\n'));
  }

  /** Draws the region one last time and leaves it on screen. */
  stop(): void {
    if (this.stopped) return;
    if (this.timer) clearInterval(this.timer);
    this.draw();
    this.update.done();
    this.stopped = true;
  }
}
