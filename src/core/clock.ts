// The emulator's clock. Real time by default; tests fix it.

let source: () => number = () => Date.now()

export const now = (): number => source()

export function setClock(fn: () => number): void {
  source = fn
}
