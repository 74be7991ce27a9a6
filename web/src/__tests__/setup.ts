import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// Recharts measures its container; jsdom has no layout.
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
(globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver ??= ResizeObserverStub;

afterEach(() => cleanup());
