import { describe, expect, it } from "vitest";
import { parseCpuFigure } from "../../src/poller/loadUrl.js";

describe("a node agent's CPU figure", () => {
  it("is read as a number from 0 to 10000, surrounding whitespace allowed", () => {
    expect(parseCpuFigure("0")).toBe(0);
    expect(parseCpuFigure(" 5250\n")).toBe(5250);
    expect(parseCpuFigure("10000")).toBe(10_000);
  });

  it("is refused when out of range or not a number", () => {
    for (const text of ["10001", "-1", "", "high", "5e3", "<html>500</html>"]) expect(parseCpuFigure(text)).toBeUndefined();
  });
});
