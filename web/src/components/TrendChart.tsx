import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Trend } from "../api";

interface Props {
  trend: Trend;
  width?: number;
  height?: number;
}

const COLORS = ["#3b6fd8", "#d8553b", "#2f9e5a", "#a23bd8", "#d8a23b", "#3bb8d8", "#777", "#d83b8f", "#6b8e23", "#8b4513"];

/** Hourly plays of the top songs across the day (UTC hours on the axis). */
export function TrendChart({ trend, width, height = 300 }: Props) {
  const data = trend.hours.map((h, i) => {
    const row: Record<string, number | string> = { hour: h.slice(11, 13) };
    trend.series.forEach((s) => {
      row[s.song_id] = s.plays[i] ?? 0;
    });
    return row;
  });
  const chart = (
    <LineChart data={data} width={width} height={height} margin={{ left: 8, right: 16 }}>
      <CartesianGrid strokeDasharray="3 3" />
      <XAxis dataKey="hour" tick={{ fontSize: 12 }} />
      <YAxis />
      <Tooltip />
      <Legend />
      {trend.series.map((s, i) => (
        <Line
          key={s.song_id}
          dataKey={s.song_id}
          name={s.title ?? s.song_id}
          stroke={COLORS[i % COLORS.length]}
          dot={false}
          isAnimationActive={false}
        />
      ))}
    </LineChart>
  );
  return (
    <figure className="figure" aria-label="Hourly plays of the top songs" data-testid="trend-chart">
      {width ? chart : <ResponsiveContainer width="100%" height={height}>{chart}</ResponsiveContainer>}
    </figure>
  );
}
