import type { Entry } from "../api";
import { Movement } from "./Movement";

interface Props {
  entries: Entry[];
  periodLabel: string;
}

const nf = new Intl.NumberFormat("en");

/** The top 10: rank, movement, title and artist, plays, peak, periods on chart. */
export function ChartTable({ entries, periodLabel }: Props) {
  return (
    <table className="chart" data-testid="chart-table">
      <caption>Top {entries.length} of {periodLabel}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">
            <span className="sr">Movement</span>
          </th>
          <th scope="col">Song</th>
          <th scope="col" className="num">
            Plays
          </th>
          <th scope="col" className="num wide">
            Peak
          </th>
          <th scope="col" className="num wide" title="periods on chart">
            On chart
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.rank} data-testid="chart-row">
            <td className="rank">{e.rank}</td>
            <td>
              <Movement entry={e} />
            </td>
            <td>
              <div className="title">{e.title ?? e.song_id}</div>
              <div className="artist">
                {e.artist ?? "unknown artist"}
                {e.genre ? <span className="genre"> · {e.genre}</span> : null}
              </div>
            </td>
            <td className="num">{nf.format(e.plays)}</td>
            <td className="num wide">{e.peak_rank}</td>
            <td className="num wide">{e.periods_on_chart}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
