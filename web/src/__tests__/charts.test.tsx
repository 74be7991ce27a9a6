import { render, screen } from "@testing-library/react";
import { PipelineView } from "../components/PipelineView";
import { PlaysBarChart } from "../components/PlaysBarChart";
import { TrendChart } from "../components/TrendChart";
import { entries, pipeline, trend } from "./fixtures";

describe("PlaysBarChart", () => {
  it("draws one bar per song", () => {
    const { container } = render(<PlaysBarChart entries={entries()} width={600} height={300} />);
    expect(screen.getByTestId("bar-chart")).toBeTruthy();
    expect(container.querySelectorAll(".recharts-bar-rectangle").length).toBe(10);
    expect(container.textContent).toContain("1. Title 1");
  });
});

describe("TrendChart", () => {
  it("draws one line per song, named by title or id", () => {
    const { container } = render(<TrendChart trend={trend} width={600} height={300} />);
    expect(container.querySelectorAll(".recharts-line-curve").length).toBe(2);
    expect(container.textContent).toContain("Title 1");
    expect(container.textContent).toContain("s2");
  });
});

describe("PipelineView", () => {
  it("shows lag, freshness, flow runs and lake hours", () => {
    render(<PipelineView pipeline={pipeline} />);
    expect(screen.getByTestId("kafka-lag").textContent).toBe("42");
    expect(screen.getAllByTestId("flow-run")).toHaveLength(1);
    expect(screen.getByText("failed (try 2)")).toBeTruthy();
    expect(screen.getByText(/3 min ago/)).toBeTruthy();
    expect(screen.getByText(/1 files|2 files/)).toBeTruthy();
  });

  it("says when Kafka cannot be asked", () => {
    render(<PipelineView pipeline={{ ...pipeline, kafka: { ...pipeline.kafka, ok: false, error: "down", total_lag: null } }} />);
    expect(screen.getByTestId("kafka-lag").textContent).toContain("unknown: down");
  });
});
