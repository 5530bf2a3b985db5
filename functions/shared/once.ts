/**
 * A value built on first use and kept: one per handler instance, so a container builds each
 * client once and a function only builds what its events reach. A rejected promise is not kept
 * (a Secrets Manager blip must not stick to the container).
 */
export function once<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
      if (value instanceof Promise)
        value.catch(() => {
          built = false;
        });
    }
    return value;
  };
}
