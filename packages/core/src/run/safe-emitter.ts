/* eslint-disable @typescript-eslint/no-explicit-any */
import { EventEmitter } from 'eventemitter3';

type Fn = (...args: any[]) => void;

/**
 * An EventEmitter whose listeners cannot take the emitter down: a listener that throws (a display,
 * the event log, a user's hook) is reported on stderr, and the run and the other listeners go on.
 */
export class SafeEmitter<T extends EventEmitter.ValidEventTypes> extends EventEmitter<T> {
  private readonly wrapped = new WeakMap<Fn, Fn>();

  private wrap(event: unknown, fn: Fn): Fn {
    let w = this.wrapped.get(fn);
    if (!w) {
      w = function (this: unknown, ...args: unknown[]) {
        try {
          fn.apply(this, args);
        } catch (err) {
          process.stderr.write(`warning: a listener of "${String(event)}" threw: ${(err as Error)?.message ?? String(err)}; the run goes on\n`);
        }
      };
      this.wrapped.set(fn, w);
    }
    return w;
  }

  override on(event: any, fn: any, context?: any): this {
    return super.on(event, this.wrap(event, fn) as any, context);
  }

  override addListener(event: any, fn: any, context?: any): this {
    return this.on(event, fn, context);
  }

  override once(event: any, fn: any, context?: any): this {
    return super.once(event, this.wrap(event, fn) as any, context);
  }

  override off(event: any, fn?: any, context?: any, once?: boolean): this {
    return super.off(event, fn ? ((this.wrapped.get(fn) ?? fn) as any) : fn, context, once);
  }

  override removeListener(event: any, fn?: any, context?: any, once?: boolean): this {
    return this.off(event, fn, context, once);
  }
}
