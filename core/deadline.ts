/** The work did not finish in the time it was given; it may still finish in the background. */
export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`Not finished within ${ms} ms.`);
    this.name = 'DeadlineExceeded';
  }
}

/** Waits for `work` at most `ms`; the work itself is not cancelled, only no longer waited for. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
