/** Time source, injectable so tests can move it. */
export class Clock {
  now(): Date {
    return new Date();
  }
}
