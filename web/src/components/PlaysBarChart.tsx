import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Entry } from "../api";

interface Props {
  entries: Entry[];
  /** Fixed size (tests); otherwise the chart fills its container. */
  width?: number;
  height?: number;
}

/** Plays of the ten songs, as horizontal bars in chart order. */
export function PlaysBarChart({ entries, width, height = 320 }: Props) {
  const data = entries.map((e) => ({ name: `${e.rank}. ${e.title ?? e.song_id}`, plays: e.plays }));
  const chart = (
    <BarChart data={data} layout="vertical" width={width} height={height} margin={{ left: 8, right: 16 }}>
      <CartesianGrid strokeDasharray="3 3" horizontal={false} />
      <XAxis type="number" />
      <YAxis type="category" dataKey="name" width={140} tick={{ fontSize: 12 }} />
      <Tooltip />
      <Bar dataKey="plays" fill="#3b6fd8" isAnimationActive={false} />
    </BarChart>
  );
  return (
    <figure className="figure" aria-label="Plays per song" data-testid="bar-chart">
      {width ? chart : <ResponsiveContainer width="100%" height={height}>{chart}</ResponsiveContainer>}
    </figure>
  );
}
