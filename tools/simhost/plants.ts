/**
 * Planted bugs for showing that the simulator catches them: each is a monkeypatch applied from
 * here (never a hook in production code), named on the command line with `--plant NAME`.
 */

/** The known plants. */
export const PLANTS: Record<string, () => void> = {};

/**
 * Applies the plant `name`.
 * @throws Error for an unknown name.
 */
export function applyPlant(name: string): void {
  const p = PLANTS[name];
  if (p === undefined) throw new Error(`unknown plant ${name}; known: ${Object.keys(PLANTS).join(', ')}`);
  p();
}
